"""Case representations for the API: materials with their evidence, the deadline clock and its
signal (办理时限), the trace (全程留痕) and the partner answers kept for a case; and the reads behind them
(cases in the caller's scope, desk queues, materials, applicants, events, evidence, pauses)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.shared_data import SOURCE_LABELS
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseEvidence, CaseFile, CaseMaterial, CasePause
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.schemas import (
    ApplicantRead,
    BlockedAction,
    CaseRead,
    Clock,
    DeadlineRead,
    EventRead,
    EvidenceRead,
    MaterialRead,
    Signal,
    UnavailableSource,
)
from fuquan.platform.cases.services import forms
from fuquan.platform.cases.services.alarms import (
    BARRED_AFTER_ACCEPTANCE_PERIOD,
    DEEMED_ACCEPTED,
    acceptance_period_passed,
)
from fuquan.platform.cases.services.context import missing_reason, missing_required
from fuquan.platform.cases.state_machine import CLOCK_STOPPED, Action, Status, allowed_actions
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.tenants.scope import TenantScope

DECIDED = frozenset({Status.APPROVED, Status.DENIED, Status.ISSUED, Status.CLOSED, Status.REVOKED})


def timing(case: Case, pauses: list[CasePause], calendar: WorkingCalendar, today: date, tz: str) -> DeadlineRead:
    """办理时限: deadline, working days used and left, and the signal (red = overdue, yellow = a third or less left)."""
    promised = case.promised_days
    if case.accepted_on is None or case.status == Status.REFUSED:
        return DeadlineRead(promised_days=promised, accepted_on=None, deadline=None, working_days_used=None,
                            working_days_left=None, signal="normal", clock="not_started")  # fmt: skip
    ranges = [(pause.started_on, pause.ended_on) for pause in pauses]
    finished = case.status in DECIDED or case.status == Status.WITHDRAWN
    stopped_at = case.decided_at or case.closed_at
    until = local_date(stopped_at, tz) if finished and stopped_at else today
    used = calendar.working_days_used(case.accepted_on, until, ranges)
    deadline = calendar.deadline_with_pauses(case.accepted_on, promised, ranges, today=until)
    left = promised - used
    signal: Signal = "red" if left < 0 else ("yellow" if not finished and left * 3 <= promised else "normal")
    clock: Clock = "finished" if finished else ("stopped" if case.status in CLOCK_STOPPED else "running")
    return DeadlineRead(promised_days=promised, accepted_on=case.accepted_on, deadline=deadline,
                        working_days_used=used, working_days_left=left, signal=signal, clock=clock)  # fmt: skip


def material_read(material: CaseMaterial, spec: dict[str, Any]) -> MaterialRead:
    file = None
    if material.file_key:
        file = {"sha256": material.sha256, "size": material.size, "content_type": material.content_type}
    return MaterialRead(
        index=material.index, name=material.name, required=material.required, state=material.state,  # type: ignore[arg-type]
        source=material.source, pledge_allowed=bool(spec.get("pledge")), deferral_allowed=bool(spec.get("deferrable")),
        note=material.note, defer_until=material.defer_until, file=file, evidence=material.evidence or None,
    )  # fmt: skip


def _unavailable(materials: list[CaseMaterial]) -> list[UnavailableSource]:
    """Sources whose latest answer for a still-missing material was a failure, grouped by source."""
    found: dict[str, UnavailableSource] = {}
    for material in materials:
        evidence = material.evidence or {}
        if material.state != "missing" or evidence.get("status") not in ("unavailable", "not_configured"):
            continue
        source = str(evidence.get("source"))
        if source in found:
            found[source].materials.append(material.index)
            continue
        found[source] = UnavailableSource(
            source=source, label=SOURCE_LABELS.get(source, source), reason=str(evidence.get("reason", "")),
            failure=evidence.get("failure"), materials=[material.index],
        )  # fmt: skip
    return list(found.values())


def blocked_steps(
    allowed: Iterable[Action], materials: Sequence[CaseMaterial], case: Case, today: date
) -> list[BlockedAction]:
    """The steps the status allows that a rule on the case itself refuses now, each with its reason."""
    allowed = list(allowed)
    blocked = []
    missing = missing_required(materials) if Action.ACCEPT in allowed else []
    if missing:
        blocked.append(BlockedAction(action=Action.ACCEPT.value, rule="materials_missing",
                                     reason=missing_reason(missing)))  # fmt: skip
    if acceptance_period_passed(case, today):
        blocked += [BlockedAction(action=action.value, rule="acceptance_period_passed", reason=DEEMED_ACCEPTED)
                    for action in BARRED_AFTER_ACCEPTANCE_PERIOD if action in allowed]  # fmt: skip
    return blocked


def _clock_has_run(case: Case, today: date) -> bool:
    """Whether the case's pauses can matter to its clock (see ``timing``): the clock counts the working days
    after acceptance, and on the day of acceptance every pause has either ended (a supplement before it) or
    begun that day at the latest — so none are read for a case not accepted, or accepted today."""
    return case.accepted_on is not None and case.accepted_on < today


def case_read(
    case: Case,
    applicant: Applicant,
    materials: list[CaseMaterial],
    pauses: list[CasePause],
    catalog: Catalog,
    calendar: WorkingCalendar,
    today: date,
    tz: str,
    related: Applicant | None = None,
) -> CaseRead:
    item = catalog.items.get(case.item_code)
    specs = list(item.materials) if item else []
    clock = timing(case, pauses, calendar, today, tz)
    allowed = allowed_actions(Status(case.status))
    blocked = blocked_steps(allowed, materials, case, today)
    return CaseRead(
        id=case.id, receipt_no=case.receipt_no, query_code=case.query_code, item=case.item_code,
        item_name=item.name if item else case.item_code, catalog_edition=case.catalog_edition,
        status=case.status, version=case.version, unit=case.accepting_unit, routed_to=case.routed_to,
        applicant=ApplicantRead(applicant.name_masked, applicant.id_masked, applicant.phone_masked),
        form=forms.form_read(item, case),
        materials=[material_read(m, specs[m.index - 1] if m.index <= len(specs) else {}) for m in materials],
        related_person=None if related is None else ApplicantRead(related.name_masked, related.id_masked, None),
        enterprise_credit_code=case.enterprise_credit_code, unavailable_sources=_unavailable(materials),
        deadline=clock.deadline, accept_by=case.accept_by, timing=clock, blocked_actions=blocked,
        allowed_actions=[a.value for a in allowed if a.value not in {b.action for b in blocked}],
        created_at=case.created_at, accepted_at=case.accepted_at, decided_at=case.decided_at, issued_at=case.issued_at,
    )  # fmt: skip


async def case_reads(
    session: AsyncSession, actor: Actor, catalog: Catalog, calendar: WorkingCalendar, cases: list[Case]
) -> list[CaseRead]:
    """Case representations with materials, masked applicant and the clock — a handful of queries for any page."""
    repository = CaseRepository(session)
    ids = [case.id for case in cases]
    people = [case.applicant_id for case in cases] + [c.related_person_id for c in cases if c.related_person_id]
    applicants = await ApplicantRepository(session).many(people)
    materials = await repository.materials_of(ids)
    tz = actor.scope.timezone
    today = local_date(utcnow(), tz)
    pauses = await repository.pauses([case.id for case in cases if _clock_has_run(case, today)])
    return [
        case_read(case, applicants[case.applicant_id], materials[case.id], pauses.get(case.id, []), catalog,
                  calendar, today, tz, applicants.get(case.related_person_id or 0))
        for case in cases
    ]  # fmt: skip


async def file_read(
    session: AsyncSession, actor: Actor, catalog: Catalog, calendar: WorkingCalendar, file: CaseFile
) -> CaseRead:
    """The representation of a case a verb has just worked on, from what it holds (only pauses are read, and
    only for a clock that has run a day). The changes are flushed first: the answer carries the version they
    wrote."""
    await session.flush()
    case = file.case
    tz = actor.scope.timezone
    today = local_date(utcnow(), tz)
    pauses = (await CaseRepository(session).pauses([case.id]))[case.id] if _clock_has_run(case, today) else []
    return case_read(case, file.applicant, file.materials, pauses, catalog, calendar, today, tz, file.related)


def evidence_read(row: CaseEvidence) -> EvidenceRead:
    return EvidenceRead(
        material_index=row.material_index, purpose=row.purpose, source=row.source, service=row.service,
        evidence=row.evidence, subject=row.subject, status=row.status, reason=row.reason, facts=row.facts,
        asked_at=row.asked_at, fetched_at=row.fetched_at, request_id=row.request_id,
        source_request_id=row.source_request_id, request_sm3=row.request_hash, response_sm3=row.response_hash,
        attempts=row.attempts, elapsed_ms=row.elapsed_ms, cached=row.cached,
    )  # fmt: skip


def event_read(event: CaseEvent) -> EventRead:
    return EventRead(
        seq=event.seq, at=event.at, actor=event.actor_name, role=event.role, unit=event.unit, action=event.action,
        from_status=event.from_status, to_status=event.to_status, reason=event.reason, detail=event.detail,
    )  # fmt: skip


# -- reads: cases in the caller's scope, then what a case holds (by the id of a case read in scope) -------------


async def get_case(session: AsyncSession, scope: TenantScope, case_id: int) -> Case:
    """The case, if its accepting or deciding unit lies in the scope; anything else — absent, another tenant's,
    outside the subtree — raises the same NotFound."""
    return await CaseRepository(session).get(scope, case_id)


async def case_queue(
    session: AsyncSession,
    scope: TenantScope,
    *,
    statuses: list[str] | None,
    unit: str | None,
    item: str | None,
    limit: int,
    offset: int,
    accepting: str | None = None,
    routed: str | None = None,
) -> tuple[list[Case], int]:
    """One page of the cases at (or routed to) units in the scope, newest first, with the total count;
    ``accepting`` / ``routed`` narrow it to one desk (the cases a unit accepted, or must decide)."""
    return await CaseRepository(session).queue(
        scope, statuses=statuses, unit=unit, item=item, limit=limit, offset=offset, accepting=accepting, routed=routed
    )


async def case_status_counts(
    session: AsyncSession, scope: TenantScope, *, accepting: str | None = None, routed: str | None = None
) -> dict[str, int]:
    """How many of the scope's cases (narrowed as ``case_queue`` narrows them) are in each status."""
    return await CaseRepository(session).status_counts(scope, accepting=accepting, routed=routed)


async def last_event_times(session: AsyncSession, case_ids: list[int], actions: list[str]) -> dict[int, datetime]:
    """When each case last went through one of ``actions`` (e.g. when it was last submitted), by case id."""
    return await CaseRepository(session).last_event_at(case_ids, actions)


async def case_events(session: AsyncSession, case_id: int) -> list[CaseEvent]:
    """The case's trace (全程留痕), in order."""
    return await CaseRepository(session).events(case_id)


async def case_evidence(session: AsyncSession, case_id: int) -> list[CaseEvidence]:
    """Every partner answer kept for the case, oldest first."""
    return await CaseRepository(session).evidence(case_id)


async def case_materials(session: AsyncSession, case_id: int) -> list[CaseMaterial]:
    """The case's materials, in catalogue order."""
    return await CaseRepository(session).materials(case_id)


async def materials_of_cases(session: AsyncSession, case_ids: list[int]) -> dict[int, list[CaseMaterial]]:
    """The materials of each case, by case id (in catalogue order; read once per transaction)."""
    return await CaseRepository(session).materials_of(case_ids)


async def case_pauses(session: AsyncSession, case_ids: list[int]) -> dict[int, list[CasePause]]:
    """The clock's pauses of each case, by case id (an empty list for a case never paused)."""
    return await CaseRepository(session).pauses(case_ids)


async def applicants_by_id(session: AsyncSession, ids: list[int]) -> dict[int, Applicant]:
    """The applicants (and related persons) by id; those this session already holds cost no query."""
    return await ApplicantRepository(session).many(ids)
