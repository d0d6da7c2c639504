"""Which notice a case can print now, and the facts it shows (通知书、回执)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import anyio

from fuquan.authority.services.issuer import Issuer, issuing_organ, organ_codes
from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseMaterial, CasePause
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.services.context import CaseContext
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.certificates import services as certificates
from fuquan.platform.certificates.models import VALID
from fuquan.platform.certificates.sm2 import ALGORITHM
from fuquan.platform.core.errors import Conflict, NotFound
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.documents import CertificateMark, DocumentKind, NoticeData, render_pdf
from fuquan.tenants.repositories import UnitRepository

MATERIAL_STATE_LABELS = {
    "satisfied_by_shared_data": "共享数据核验通过",
    "uploaded": "已提交（电子件）",
    "pledged": "告知承诺",
    "deferred": "容缺后补",
    "missing": "尚缺",
}

OPTIONAL_NOT_GIVEN = "未提供（非必需）"


def material_label(state: str, required: bool) -> str:
    """A material's state in the one wording every page and notice uses: a missing optional one is not 尚缺."""
    if state == "missing" and not required:
        return OPTIONAL_NOT_GIVEN
    return MATERIAL_STATE_LABELS.get(state, state)


def material_tone(state: str, required: bool) -> str:
    """The state a page colours by: a missing optional material is no warning (``optional``)."""
    return "optional" if state == "missing" and not required else state


NOT_ACCEPTED = frozenset({Status.DRAFT, Status.SUBMITTED, Status.AWAITING_SUPPLEMENT, Status.REFUSED, Status.WITHDRAWN})
# the statuses in which each document makes sense
AVAILABLE: dict[DocumentKind, frozenset[Status]] = {
    "receipt": frozenset(Status) - NOT_ACCEPTED,
    "supplement_notice": frozenset({Status.AWAITING_SUPPLEMENT, Status.CORRECTING}),
    "refusal_notice": frozenset({Status.REFUSED}),
    "special_procedure_notice": frozenset({Status.SUSPENDED}),
    # once the case was extended (checked against its trace): from then until it is closed
    "extension_notice": frozenset(Status) - NOT_ACCEPTED,
    "result_notice": frozenset({Status.APPROVED, Status.DENIED, Status.ISSUED, Status.CLOSED}),
}
_REASON_ACTION: dict[DocumentKind, frozenset[str]] = {
    "supplement_notice": frozenset({"request_supplement", "request_correction"}),
    "refusal_notice": frozenset({"refuse"}),
    "special_procedure_notice": frozenset({"suspend"}),
    "extension_notice": frozenset({"extend"}),
    "result_notice": frozenset({"deny"}),
}


# the step each notice records (its 经办人, its date, and whose authority it was taken under): front-desk steps
# under the accepting unit's right to accept, the decision under the deciding unit's right to decide
_STEP: dict[DocumentKind, frozenset[str]] = {
    "receipt": frozenset({"accept"}),
    "supplement_notice": frozenset({"request_supplement", "request_correction"}),  # before acceptance, in review
    "refusal_notice": frozenset({"refuse"}),
    "special_procedure_notice": frozenset({"suspend"}),
    "extension_notice": frozenset({"extend"}),
    "result_notice": frozenset({"approve", "deny"}),
}
_FRONT_STEPS = ("accept", "request_supplement", "refuse")
_RIGHT_OF_STEP = {action: "accept" if action in _FRONT_STEPS else "decide" for actions in _STEP.values()
                  for action in actions}  # fmt: skip


def recorded_step(kind: DocumentKind, events: list[CaseEvent]) -> CaseEvent | None:
    """The trace event of the step the notice records (the latest, should it have been taken twice)."""
    actions = _STEP[kind]
    return next((event for event in reversed(events) if event.action in actions), None)


def notice_data(
    kind: DocumentKind,
    case: Case,
    applicant: Applicant,
    materials: list[CaseMaterial],
    events: list[CaseEvent],
    *,
    issuer: Issuer,
    unit_name: str,
    item_name: str,
    progress_url: str,
    now: datetime,
    pauses: Sequence[CasePause] = (),
    certificate: CertificateMark | None = None,
) -> NoticeData:
    """What the notice of ``kind`` prints: issued in the name of ``issuer``'s organ, with the person who took the
    step (from the trace) as 经办人."""
    if Status(case.status) not in AVAILABLE[kind]:
        raise Conflict(f"办件当前状态下没有此类文书（{kind}）", rule="document_not_available")
    reasons: list[str] = []
    actions = _REASON_ACTION.get(kind, frozenset())
    reason_event = next((e for e in reversed(events) if e.action in actions and e.reason), None)
    if kind == "supplement_notice":
        reasons = [f"请补正：{m.name}" for m in materials if m.required and m.state == "missing"]
    if reason_event is not None and reason_event.reason:
        reasons.insert(0, reason_event.reason)
    decision = None
    if kind == "result_notice":
        denied = case.status == Status.DENIED or any(e.action == "deny" for e in events)
        decision = "denied" if denied else "approved"
        if not denied:
            reasons = []
    step = recorded_step(kind, events)
    if kind == "extension_notice" and step is None:
        raise Conflict("该办件没有延长办理期限", rule="document_not_available")
    deadline = case.deadline
    if kind == "supplement_notice":  # no day is set for a 补正; the case's own last day is not one (审查中补正)
        deadline = None
    elif kind == "special_procedure_notice":  # the procedure's own last day, not the case's
        deadline = next((p.limit_on for p in reversed(pauses) if p.kind == "special" and p.ended_on is None), None)
    return NoticeData(
        kind=kind, organ_name=issuer.organ.name, handling_note=issuer.handling_note, unit_name=unit_name,
        item_code=case.item_code, item_name=item_name, receipt_no=case.receipt_no, query_code=case.query_code,
        applicant_name_masked=applicant.name_masked, applicant_id_masked=applicant.id_masked, issued_at=now,
        staff_name=step.actor_name if step else "", progress_url=progress_url,
        accepted_on=case.accepted_on, deadline=deadline, promised_days=case.promised_days,
        materials=[(m.name, material_label(m.state, m.required)) for m in materials],
        reasons=reasons, decision=decision,  # type: ignore[arg-type]
        certificate=certificate if decision == "approved" else None,
    )  # fmt: skip


async def notice_issuer(ctx: CaseContext, kind: DocumentKind, case: Case, events: list[CaseEvent]) -> Issuer:
    """The organ the notice is issued in the name of: from the grants by which the unit that took the step held
    the right at that moment (出具机关, 行政许可法 Art. 22–24)."""
    step = recorded_step(kind, events)
    back_office = kind in ("result_notice", "special_procedure_notice", "extension_notice")
    right = _RIGHT_OF_STEP[step.action] if step else ("decide" if back_office else "accept")
    unit = step.unit if step else (case.accepting_unit if right == "accept" else case.routed_to or case.accepting_unit)
    at = step.at if step else case.accepted_at or case.created_at
    organs = await UnitRepository(ctx.session).organs(ctx.actor.scope.whole(), organ_codes(unit))
    return await issuing_organ(ctx.session, ctx.registry, ctx.actor.scope.whole(), organs, unit, case.item_code,
                               right, at)  # fmt: skip


DOCUMENT_FILES: dict[str, DocumentKind] = {f"{kind}.pdf": kind for kind in AVAILABLE}


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    filename: str
    pdf: bytes


def verify_url(base_url: str, number: str, verify_code: str) -> str:
    """The public verification page of a certificate (its QR code): the number and 核验码 are meant to be shown to
    whoever relies on the certificate, and reveal no more than the masked holder."""
    return f"{base_url.rstrip('/')}/verify?{urlencode({'no': number, 'code': verify_code})}"


async def certificate_mark(ctx: CaseContext, case: Case, base_url: str) -> CertificateMark | None:
    """The case's latest e-certificate, as its result notice prints it."""
    found = await certificates.of_case(ctx.session, ctx.actor.scope, case.id)
    if not found:
        return None
    latest = found[-1]
    return CertificateMark(
        number=latest.number, verify_code=latest.verify_code, title=latest.title, algorithm=ALGORITHM,
        verify_url=verify_url(base_url, latest.number, latest.verify_code), key_fingerprint=latest.key_fingerprint,
        revoked=latest.status != VALID,
    )  # fmt: skip


def progress_url(base_url: str, case: Case) -> str:
    """The progress page the QR code opens; the 查询码 is never put in a URL (it would land in logs)."""
    return f"{base_url.rstrip('/')}/progress?receipt={case.receipt_no}"  # the citizen types the 查询码 there


async def print_document(ctx: CaseContext, case_id: int, document: str, base_url: str) -> PrintedDocument:
    """打印回执/通知书: the named document of a case in the actor's scope, as a PDF (the API and the pages share it)."""
    kind = DOCUMENT_FILES.get(document)
    if kind is None:
        raise NotFound(f"没有名为 {document} 的文书；可选：{'、'.join(DOCUMENT_FILES)}")
    repository = CaseRepository(ctx.session)
    case = await repository.get(ctx.actor.scope, case_id)
    events = await repository.events(case.id)
    names = await UnitRepository(ctx.session).names(ctx.actor.scope.whole(), [case.accepting_unit])
    item = await ctx.item_of(case)
    data = notice_data(
        kind, case, await ApplicantRepository(ctx.session).get(case.applicant_id),
        await repository.materials(case.id), events, issuer=await notice_issuer(ctx, kind, case, events),
        unit_name=names.get(case.accepting_unit, case.accepting_unit), item_name=item.name if item else case.item_code,
        progress_url=progress_url(base_url, case), now=utcnow(),
        pauses=(await repository.pauses([case.id]))[case.id] if kind == "special_procedure_notice" else [],
        certificate=await certificate_mark(ctx, case, base_url) if kind == "result_notice" else None,
    )  # fmt: skip
    pdf = await anyio.to_thread.run_sync(render_pdf, data)
    return PrintedDocument(f"{case.receipt_no}-{kind}.pdf", pdf)
