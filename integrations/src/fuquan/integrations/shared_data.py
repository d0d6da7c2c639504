"""Materials satisfied from partner departments' data (共享数据), DESIGN §7 "Materials" and §8.

At submission the case flow asks, for each material the catalogue links to a partner source, a
``SharedDataProvider`` through ``lookup_all``. The real gateway adapters arrive later; until a
source is configured, ``NotConfiguredProvider`` answers ``not_configured`` and the material falls
back to upload, pledge (告知承诺) or deferral (容缺). A partner that fails or is slow never blocks
or loses a case: ``lookup_all`` turns it into an ``unavailable`` answer with a reason for the clerk.

Personal data: ``SharedDataRequest`` carries the applicant's ID number and name for the partner;
neither is ever logged, and the request's ``repr`` masks them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal, Protocol

import anyio
import msgspec
import structlog

from fuquan.platform.catalog.schemas import Source, Subject
from fuquan.platform.core.personal import mask_id_number, mask_name

log = structlog.get_logger()

__all__ = [
    "EVIDENCE_LABELS",
    "SOURCE_LABELS",
    "AnswerStatus",
    "Fact",
    "NotConfiguredProvider",
    "OwnRecord",
    "SharedDataAnswer",
    "SharedDataProvider",
    "SharedDataRequest",
    "Source",
    "Subject",
    "describe",
    "lookup_all",
    "unavailable_answer",
]

AnswerStatus = Literal["satisfied", "not_satisfied", "not_found", "unavailable", "not_configured"]
Fact = str | int | bool | None

SOURCE_LABELS: dict[str, str] = {
    "public_security": "公安",
    "civil_affairs": "民政",
    "market_regulation": "市场监管",
    "disabled_persons": "残联",
    "veterans": "退役军人事务",
    "hrss": "人社业务系统",
}

EVIDENCE_LABELS: dict[str, str] = {
    "identity": "居民身份信息",
    "household": "户籍信息",
    "death_registration": "死亡登记信息",
    "photo": "证件照片",
    "marriage": "婚姻登记信息",
    "subsistence_allowance": "低保/特困供养信息",
    "cremation_record": "火化信息",
    "enterprise": "企业登记信息",
    "business_by_person": "名下市场主体信息",
    "disability_certificate": "残疾人证信息",
    "veteran_status": "退役军人信息",
    "contribution_record": "社会保险缴费记录",
    "card_bank_account": "社会保障卡金融账户信息",
    "employment_registration": "就业登记信息",
    "unemployment_registration": "失业登记信息",
    "employment_difficulty": "就业困难人员认定信息",
}


def describe(source: str, evidence: str) -> str:
    """``公安（户籍信息）`` — the source and the data asked for, as the clerk reads them."""
    source_label = SOURCE_LABELS.get(source, source)
    evidence_label = EVIDENCE_LABELS.get(evidence, evidence)
    return f"{source_label}（{evidence_label}）"


class OwnRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A registration or recognition decided through Fuquan (人社自有数据) for the applicant."""

    kind: str
    since: date
    until: date | None
    receipt_no: str


class SharedDataRequest(msgspec.Struct, frozen=True, kw_only=True):
    """One question to one partner source about one case's subject, for that case (the purpose).

    The subject is the applicant, the related person (关系人, e.g. the deceased insured) or the
    enterprise named on the case; the material's catalogue entry says which.
    """

    source: Source
    evidence: str
    id_number: str  # the applicant's; never logged; masked in repr
    name: str
    purpose: str  # the case's receipt number (X-Purpose)
    tenant_code: str
    acting_user: str  # the staff member's username (X-User-Id)
    request_id: str | None = None
    subject: Subject = "applicant"
    related_id_number: str | None = None  # never logged; masked in repr
    related_name: str | None = None
    credit_code: str | None = None
    own_records: tuple[OwnRecord, ...] = ()
    today: date | None = None  # the tenant's local date, for validity checks

    def __repr__(self) -> str:
        related = None if self.related_id_number is None else mask_id_number(self.related_id_number)
        return (
            f"SharedDataRequest(source={self.source!r}, evidence={self.evidence!r}, subject={self.subject!r}, "
            f"id_number={mask_id_number(self.id_number)!r}, name={mask_name(self.name)!r}, "
            f"related_id_number={related!r}, credit_code={self.credit_code!r}, "
            f"purpose={self.purpose!r}, tenant_code={self.tenant_code!r}, acting_user={self.acting_user!r}, "
            f"request_id={self.request_id!r})"
        )

    __str__ = __repr__

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return [
            ("source", self.source),
            ("evidence", self.evidence),
            ("id_number", mask_id_number(self.id_number)),
            ("name", mask_name(self.name)),
            ("subject", self.subject),
            ("related_id_number", None if self.related_id_number is None else mask_id_number(self.related_id_number)),
            ("credit_code", self.credit_code),
            ("purpose", self.purpose),
            ("tenant_code", self.tenant_code),
            ("acting_user", self.acting_user),
            ("request_id", self.request_id),
        ]


class SharedDataAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A partner's answer, kept as evidence (source, fetched_at, request id, SM3 hashes).

    ``facts`` holds only the minimal facts the decision used (e.g. ``{"registered": True}``).
    Answers made locally (not configured, timeout, failure) have no hashes and no ``fetched_at``.
    """

    status: AnswerStatus
    source: Source
    evidence: str
    reason: str
    facts: dict[str, Fact] = msgspec.field(default_factory=dict)
    service: str | None = None  # the partner service asked (None: answered without a call)
    fetched_at: datetime | None = None
    request_hash: str | None = None  # SM3 hex (fuquan.platform.core.crypto.sm3_hex) of the request sent
    response_hash: str | None = None  # SM3 hex of the response received
    source_request_id: str | None = None
    attempts: int = 0
    elapsed_ms: int = 0
    cached: bool = False
    failure: str | None = None  # the error kind when the source failed (timeout, circuit_open, …)

    @property
    def satisfied(self) -> bool:
        return self.status == "satisfied"


class SharedDataProvider(Protocol):
    async def lookup(self, request: SharedDataRequest) -> SharedDataAnswer: ...


class NotConfiguredProvider:
    """Every source unconfigured: the clerk is told which, and the material falls back."""

    async def lookup(self, request: SharedDataRequest) -> SharedDataAnswer:
        return SharedDataAnswer(
            status="not_configured",
            source=request.source,
            evidence=request.evidence,
            reason=f"共享数据源未配置：{describe(request.source, request.evidence)}",
        )


def unavailable_answer(request: SharedDataRequest, reason: str, failure: str = "error") -> SharedDataAnswer:
    return SharedDataAnswer(
        status="unavailable", source=request.source, evidence=request.evidence, reason=reason, failure=failure
    )


def _log_fields(request: SharedDataRequest) -> dict[str, object]:
    """What may be logged about a request: never the ID number or the name."""
    return {
        "source": request.source,
        "evidence": request.evidence,
        "purpose": request.purpose,
        "tenant": request.tenant_code,
        "actor": request.acting_user,
        "request_id": request.request_id,
    }


async def lookup_all(
    provider: SharedDataProvider,
    requests: Sequence[SharedDataRequest],
    *,
    concurrency: int = 4,
    budget_seconds: float = 3.0,
) -> list[SharedDataAnswer]:
    """Ask ``provider`` every request, at most ``concurrency`` at a time, within one overall budget.

    Answers come back in the order of ``requests``. A lookup that raises, or is still running when
    the budget ends (it is then cancelled), yields an ``unavailable`` answer saying why. Never
    raises for a partner's failure: it must not block or lose a case.
    """
    answers: list[SharedDataAnswer | None] = [None] * len(requests)
    if not requests:
        return []
    limiter = anyio.CapacityLimiter(max(1, concurrency))

    async def ask(index: int, request: SharedDataRequest) -> None:
        async with limiter:
            try:
                answer = await provider.lookup(request)
            except Exception as error:  # a partner failure becomes an answer, never a lost case
                log.warning("shared_data_lookup_failed", error=type(error).__name__, **_log_fields(request))
                answers[index] = unavailable_answer(
                    request, f"{describe(request.source, request.evidence)}暂时无法访问"
                )
                return
        if not isinstance(answer, SharedDataAnswer):
            log.warning("shared_data_answer_malformed", answer_type=type(answer).__name__, **_log_fields(request))
            answer = unavailable_answer(request, f"{describe(request.source, request.evidence)}返回的结果无法识别")
        answers[index] = answer

    with anyio.move_on_after(max(0.0, budget_seconds)):
        async with anyio.create_task_group() as group:
            for index, request in enumerate(requests):
                group.start_soon(ask, index, request)

    results: list[SharedDataAnswer] = []
    for request, answer in zip(requests, answers, strict=True):
        if answer is not None:
            results.append(answer)
            continue
        log.warning("shared_data_lookup_timed_out", budget_seconds=budget_seconds, **_log_fields(request))
        results.append(
            unavailable_answer(request, f"{describe(request.source, request.evidence)}查询超时", "budget_exceeded")
        )
    return results
