"""Materials from partner departments' data, for one case (DESIGN §7 "Materials", §8).

The partner calls happen before the case's own writes and outside any lock: a slow or failing
partner costs at most the lookup budget and never holds the database. What each call did is
audited in its own transaction as soon as the answers are in — even if the case creation then
fails, the partner was asked, and the audit says so. Each answer is then stored as evidence
(``CaseEvidence``) in the case's transaction, and decides its material's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.materials import OWN_RECORD_KINDS
from fuquan.integrations.repositories import HrssRecordRepository
from fuquan.integrations.shared_data import (
    NotConfiguredProvider,
    OwnRecord,
    SharedDataAnswer,
    SharedDataProvider,
    SharedDataRequest,
    describe,
    lookup_all,
)
from fuquan.platform.cases.models import Case, CaseMaterial
from fuquan.platform.cases.repositories import CaseRepository, ReceiptCounterRepository
from fuquan.platform.cases.services.context import CaseContext
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import autocommitted, own_session
from fuquan.platform.core.inserts import NewRow
from fuquan.tenants.scope import TenantScope

CALLED = frozenset({"satisfied", "not_satisfied", "not_found", "unavailable"})


@dataclass(frozen=True, slots=True)
class Subjects:
    """Who and what the case's shared-data questions are about (never logged)."""

    id_number: str
    name: str
    person_index: str
    related_id_number: str | None = None
    related_name: str | None = None
    credit_code: str | None = None


def shared_spec(item: CatalogItem, index: int) -> dict[str, Any]:
    if not 1 <= index <= len(item.materials):
        return {}
    return dict(item.materials[index - 1].get("shared") or {})


def worth_asking_again(item: CatalogItem, material: CaseMaterial) -> bool:
    """A partner could supply it and did not answer last time (down, slow, unconfigured); an answer
    that said no (not found, not valid) stands until the applicant's situation changes."""
    if not shared_spec(item, material.index):
        return False
    return (material.evidence or {}).get("status") in (None, "unavailable", "not_configured")


async def provider(ctx: CaseContext) -> SharedDataProvider:
    """The tenant's partner gateways as configured now (a per-process cache)."""
    async with ctx.reading_first() as session:
        return await ctx.shared_data(session)


def calls_out(provider: SharedDataProvider) -> bool:
    """Whether asking ``provider`` may wait on a partner: not when no partner is configured at all."""
    return not isinstance(provider, NotConfiguredProvider)


async def reserve_sequence(ctx: CaseContext, unit_code: str, day: date, *, before_calls: bool) -> int:
    """The receipt sequence, in a short transaction of its own wherever holding the counter's row lock to the
    end of the request would make the unit's other intakes wait: before partner calls, and on PostgreSQL
    always (there the request's other statements and its commit took place under the lock, which queued a
    busy window's intakes one behind another). A number whose case then fails is left unused, like a spoiled
    slip in a receipt book. On SQLite the request holds the database's write lock anyway: with no call to
    wait for, the number is taken in the request's own transaction."""
    postgresql = ctx.session.bind.dialect.name == "postgresql"
    if ctx.session_maker is None or not (before_calls or postgresql):
        return await ReceiptCounterRepository(ctx.session).take(ctx.actor.scope, unit_code, day)
    if postgresql:  # one statement that commits by itself: the lock lasts one statement, at one round trip
        async with autocommitted(ctx.session.bind) as connection:
            return await ReceiptCounterRepository(connection).take(ctx.actor.scope, unit_code, day)
    async with own_session(ctx.session_maker, writes=True) as session, session.begin():
        return await ReceiptCounterRepository(session).take(ctx.actor.scope, unit_code, day)


async def own_records(session: AsyncSession, scope: TenantScope, person_index: str) -> tuple[OwnRecord, ...]:
    rows = await HrssRecordRepository(session).for_person(scope, person_index)
    return tuple(OwnRecord(kind=r.kind, since=r.since, until=r.until, receipt_no=r.receipt_no) for r in rows)


def shared_requests(
    item: CatalogItem,
    indexes: Iterable[int],
    subjects: Subjects,
    records: tuple[OwnRecord, ...],
    today: date,
    purpose: str,
    *,
    tenant_code: str,
    acting_user: str,
    request_id: str | None,
) -> list[tuple[int, SharedDataRequest]]:
    """(material index, request) for every material at ``indexes`` a partner source could supply."""
    requests: list[tuple[int, SharedDataRequest]] = []
    for index in indexes:
        spec = shared_spec(item, index)
        if not spec:
            continue
        requests.append(
            (
                index,
                SharedDataRequest(
                    source=spec["source"],
                    evidence=spec.get("evidence", ""),
                    subject=spec.get("subject", "applicant"),
                    id_number=subjects.id_number,
                    name=subjects.name,
                    related_id_number=subjects.related_id_number,
                    related_name=subjects.related_name,
                    credit_code=subjects.credit_code,
                    own_records=records,
                    today=today,
                    purpose=purpose,
                    tenant_code=tenant_code,
                    acting_user=acting_user,
                    request_id=request_id,
                ),
            )
        )
    return requests


async def ask_partners(
    ctx: CaseContext,
    provider: SharedDataProvider,
    item: CatalogItem,
    indexes: Sequence[int],
    receipt_no: str,
    subjects: Subjects,
    today: date,
) -> list[tuple[int, SharedDataAnswer]]:
    """Ask every source named by the materials at ``indexes``, concurrently within the budget, and
    audit each call. Returns (material index, answer) pairs in the order asked."""
    records: tuple[OwnRecord, ...] = ()
    if calls_out(provider) and any(shared_spec(item, i).get("evidence") in OWN_RECORD_KINDS for i in indexes):
        async with ctx.reading_first() as session:
            records = await own_records(session, ctx.actor.scope, subjects.person_index)
    requests = shared_requests(
        item, indexes, subjects, records, today, receipt_no,
        tenant_code=ctx.actor.scope.tenant_code, acting_user=ctx.actor.username, request_id=ctx.request_id,
    )  # fmt: skip
    if not requests:
        return []
    asked = [request for _index, request in requests]
    if calls_out(provider):
        budget, concurrency = (
            (3.0, 4) if ctx.partners is None else (ctx.partners.budget_seconds, ctx.partners.concurrency)
        )
        answers = await lookup_all(provider, asked, concurrency=concurrency, budget_seconds=budget)
    else:  # nothing to wait for: each source answers "not configured" at once, without a task apiece
        answers = [await provider.lookup(request) for request in asked]
    pairs = [(index, answer) for (index, _request), answer in zip(requests, answers, strict=True)]
    await _audit_calls(ctx, receipt_no, pairs)
    return pairs


def _call_entry(ctx: CaseContext, receipt_no: str, index: int, answer: SharedDataAnswer) -> AuditEntry:
    entry = ctx.actor.audit_entry(
        "partner.call",
        resource=f"partner:{answer.source}/{answer.service or answer.evidence}",
        request_id=ctx.request_id,
        detail={
            "receipt_no": receipt_no,
            "material": index,
            "source": answer.source,
            "evidence": answer.evidence,
            "status": answer.status,
            "failure": answer.failure,
            "attempts": answer.attempts,
            "elapsed_ms": answer.elapsed_ms,
            "cached": answer.cached,
            "partner_request_id": answer.source_request_id,
            "response_sm3": answer.response_hash,
        },
    )
    outcome = "failure" if answer.status == "unavailable" else "success"
    return AuditEntry(**{**{n: getattr(entry, n) for n in AuditEntry.__slots__}, "purpose": receipt_no,
                         "outcome": outcome})  # fmt: skip


def _was_called(answer: SharedDataAnswer) -> bool:
    """A partner was (or was to be) asked: not for unconfigured sources or Fuquan's own records."""
    return answer.status in CALLED and (answer.service is not None or answer.status == "unavailable")


async def _audit_calls(ctx: CaseContext, receipt_no: str, pairs: list[tuple[int, SharedDataAnswer]]) -> None:
    entries = [_call_entry(ctx, receipt_no, index, answer) for index, answer in pairs if _was_called(answer)]
    if not entries:
        return
    if ctx.session_maker is None:
        for entry in entries:
            await append(ctx.session, entry)
        return
    async with ctx.session_maker() as session, session.begin():
        for entry in entries:
            await append(session, entry)


def evidence_summary(answer: SharedDataAnswer) -> dict[str, Any]:
    """What the case API shows for a material's latest answer."""
    summary = msgspec.to_builtins(answer)
    summary["label"] = describe(answer.source, answer.evidence)
    return summary


def apply_answers(
    ctx: CaseContext,
    case: Case,
    materials: Sequence[CaseMaterial],
    pairs: list[tuple[int, SharedDataAnswer]],
    item: CatalogItem,
    asked_at: datetime,
) -> list[NewRow]:
    """Each answer becomes evidence — rows the step writes with its trace (``record_step(evidence=…)``), in
    the same statement — and a supporting one satisfies its material if still missing."""
    by_index = {m.index: m for m in materials}
    evidence: list[dict[str, Any]] = []
    for index, answer in pairs:
        evidence.append(
            {
                "tenant_id": ctx.tenant_id, "case_id": case.id, "material_index": index, "purpose": case.receipt_no,
                "source": answer.source, "service": answer.service, "evidence": answer.evidence,
                "subject": shared_spec(item, index).get("subject", "applicant"), "status": answer.status,
                "reason": answer.reason[:256], "facts": dict(answer.facts), "asked_at": asked_at,
                "asked_by": ctx.actor.staff_id, "fetched_at": answer.fetched_at, "request_id": ctx.request_id,
                "source_request_id": answer.source_request_id, "request_hash": answer.request_hash,
                "response_hash": answer.response_hash, "attempts": answer.attempts, "elapsed_ms": answer.elapsed_ms,
                "cached": answer.cached,
            }
        )  # fmt: skip
        material = by_index.get(index)
        if material is None or material.state != "missing":
            continue
        material.note = answer.reason[:256]
        material.evidence = evidence_summary(answer)
        material.updated_at = asked_at
        if answer.satisfied:
            material.state = "satisfied_by_shared_data"
    return CaseRepository.evidence_rows(evidence)
