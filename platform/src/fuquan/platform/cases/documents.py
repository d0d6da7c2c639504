"""Which notice a case can print now, and the facts it shows (通知书、回执)."""

from __future__ import annotations

from datetime import datetime

from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseMaterial
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.core.errors import Conflict
from fuquan.platform.documents import DocumentKind, NoticeData

MATERIAL_STATE_LABELS = {
    "satisfied_by_shared_data": "共享数据核验通过",
    "uploaded": "已提交（电子件）",
    "pledged": "告知承诺",
    "deferred": "容缺后补",
    "missing": "尚缺",
}

# the statuses in which each document makes sense
AVAILABLE: dict[DocumentKind, frozenset[Status]] = {
    "receipt": frozenset(Status)
    - {Status.DRAFT, Status.SUBMITTED, Status.AWAITING_SUPPLEMENT, Status.REFUSED, Status.WITHDRAWN},
    "supplement_notice": frozenset({Status.AWAITING_SUPPLEMENT}),
    "refusal_notice": frozenset({Status.REFUSED}),
    "result_notice": frozenset({Status.APPROVED, Status.DENIED, Status.ISSUED, Status.CLOSED}),
}
_REASON_ACTION: dict[DocumentKind, str] = {
    "supplement_notice": "request_supplement",
    "refusal_notice": "refuse",
    "result_notice": "deny",
}


def notice_data(
    kind: DocumentKind,
    case: Case,
    applicant: Applicant,
    materials: list[CaseMaterial],
    events: list[CaseEvent],
    *,
    tenant_name: str,
    unit_name: str,
    item_name: str,
    staff_name: str,
    progress_url: str,
    now: datetime,
) -> NoticeData:
    if Status(case.status) not in AVAILABLE[kind]:
        raise Conflict(f"办件当前状态下没有此类文书（{kind}）", rule="document_not_available")
    reasons: list[str] = []
    action = _REASON_ACTION.get(kind)
    reason_event = next((e for e in reversed(events) if e.action == action and e.reason), None) if action else None
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
    return NoticeData(
        kind=kind, tenant_name=tenant_name, unit_name=unit_name, item_code=case.item_code, item_name=item_name,
        receipt_no=case.receipt_no, query_code=case.query_code, applicant_name_masked=applicant.name_masked,
        applicant_id_masked=applicant.id_masked, issued_at=now, staff_name=staff_name, progress_url=progress_url,
        accepted_on=case.accepted_on, deadline=case.deadline, promised_days=case.promised_days,
        materials=[(m.name, MATERIAL_STATE_LABELS.get(m.state, m.state)) for m in materials],
        reasons=reasons, decision=decision,  # type: ignore[arg-type]
    )  # fmt: skip
