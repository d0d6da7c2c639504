"""Which notice a case can print now, and the facts it shows (通知书、回执)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseMaterial
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.errors import Conflict, NotFound
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.documents import DocumentKind, NoticeData, render_pdf
from fuquan.tenants.repositories import TenantRepository, UnitRepository

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


DOCUMENT_FILES: dict[str, DocumentKind] = {f"{kind}.pdf": kind for kind in AVAILABLE}


@dataclass(frozen=True, slots=True)
class PrintedDocument:
    filename: str
    pdf: bytes


def progress_url(base_url: str, case: Case) -> str:
    """The progress page the QR code opens; the 查询码 is never put in a URL (it would land in logs)."""
    return f"{base_url.rstrip('/')}/progress?receipt={case.receipt_no}"  # the citizen types the 查询码 there


async def print_document(
    session: AsyncSession, actor: Actor, catalog: Catalog, case_id: int, document: str, base_url: str
) -> PrintedDocument:
    """打印回执/通知书: the named document of a case in the actor's scope, as a PDF (the API and the pages share it)."""
    kind = DOCUMENT_FILES.get(document)
    if kind is None:
        raise NotFound(f"没有名为 {document} 的文书；可选：{'、'.join(DOCUMENT_FILES)}")
    repository = CaseRepository(session)
    case = await repository.get(actor.scope, case_id)
    tenant = await TenantRepository(session).by_id(actor.tenant_id)
    names = await UnitRepository(session).names(actor.scope, [case.accepting_unit])
    item = catalog.items.get(case.item_code)
    data = notice_data(
        kind, case, await ApplicantRepository(session).get(case.applicant_id),
        await repository.materials(case.id), await repository.events(case.id),
        tenant_name=tenant.name if tenant else "", unit_name=names.get(case.accepting_unit, case.accepting_unit),
        item_name=item.name if item else case.item_code, staff_name=actor.display_name,
        progress_url=progress_url(base_url, case), now=utcnow(),
    )  # fmt: skip
    pdf = await anyio.to_thread.run_sync(render_pdf, data)
    return PrintedDocument(f"{case.receipt_no}-{kind}.pdf", pdf)
