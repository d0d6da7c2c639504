"""The resident's side of a case (公众查询): progress by 受理编号 and 查询码, and one rating (好差评).

Shared by the public API and the citizens' web pages, so both open the same case for the same pair
and apply the same rating rules.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Final, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.cases.models import Case, CaseFollowUp
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.schemas import ComplaintWrite, PublicProgress, RatingWrite
from fuquan.platform.cases.state_machine import STATUS_NAMES, Status
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict, NotFound
from fuquan.platform.core.inserts import insert_together
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.notifications.services.outbox import inbox_row
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

RATING_NAMES: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
RATABLE: Final = frozenset({Status.ISSUED, Status.CLOSED})  # a result has been given out (出件)
POOR_RATING: Final = 2  # 不满意 and below are followed up by the unit (整改回访)
MAX_COMPLAINTS: Final = 3  # per case; beyond, the 办不成事 window


class Complained(NamedTuple):
    seq: int  # the complaint's number on the case
    callback_due: date  # the unit calls the resident back by then


@dataclass(frozen=True, slots=True)
class Rated:
    name: str  # 非常满意…非常不满意
    follow_up: bool


class PublicCase(NamedTuple):
    case: Case
    scope: TenantScope  # the whole tenant the receipt number names


async def public_case(session: AsyncSession, receipt_no: str, code: str) -> PublicCase:
    """The case named by the pair; the same NotFound for an unknown receipt and a wrong code (no enumeration)."""
    tenant = await TenantRepository(session).by_code(receipt_no[:2])
    scope = None if tenant is None else whole_tenant(tenant)
    case = None if scope is None else await CaseRepository(session).by_receipt(scope, receipt_no)
    if (
        scope is None
        or case is None
        or not secrets.compare_digest(case.query_code.encode(), code.strip().upper().encode())
    ):
        raise NotFound("未找到该办件：请核对受理编号和查询码")
    return PublicCase(case, scope)


async def public_progress(session: AsyncSession, receipt_no: str, code: str) -> PublicProgress:
    """What a resident may see of the case: status, unit, deadline and the masked name only."""
    case, scope = await public_case(session, receipt_no, code)
    names = await UnitRepository(session).names(scope, [case.accepting_unit])
    applicant = await ApplicantRepository(session).get(case.applicant_id)
    return PublicProgress(
        receipt_no=case.receipt_no, item=case.item_code, status=case.status,
        status_name=STATUS_NAMES[Status(case.status)], unit=names.get(case.accepting_unit, case.accepting_unit),
        deadline=case.deadline, applicant=applicant.name_masked, rated=case.rating is not None,
    )  # fmt: skip


async def rate_case(session: AsyncSession, receipt_no: str, rating: RatingWrite) -> Rated:
    """One rating after issuance, audited; a poor one asks the unit to follow up."""
    case, _scope = await public_case(session, receipt_no, rating.code)
    if case.status not in RATABLE:
        raise Conflict("办件出件后才能评价", rule="not_issued")
    follow_up = rating.level <= POOR_RATING
    if case.rating is not None or not await CaseRepository(session).rate(
        case, rating.level, rating.comment, utcnow(), follow_up
    ):
        raise Conflict("该办件已经评价过了", rule="already_rated")
    await append(session, AuditEntry(
        action="case.rate", tenant_id=case.tenant_id, actor="public", resource=f"case:{case.id}",
        detail={"level": rating.level, "follow_up": follow_up},
    ))  # fmt: skip
    if follow_up:
        await _open_follow_up(
            session, case, _scope, source="rating", seq=1, rating=rating.level, comment=rating.comment
        )
    return Rated(RATING_NAMES[rating.level], follow_up)


async def complain(session: AsyncSession, receipt_no: str, complaint: ComplaintWrite) -> Complained:
    """投诉: a resident's complaint about how a case is handled opens a follow-up like a poor rating (回访, 整改,
    答复, 复核), audited. One open at a time per case, and at most ``MAX_COMPLAINTS`` in all — beyond that the
    resident is sent to the 办不成事 window, which escalates."""
    case, scope = await public_case(session, receipt_no, complaint.code)
    if case.status == Status.DRAFT:
        raise Conflict("办件提交后才能投诉", rule="not_submitted")
    earlier = await CaseRepository(session).complaints(case.id)
    if any(status != "closed" for status in earlier):
        raise Conflict("您对该办件的投诉正在处理中，办理单位会在 1 个工作日内回访您", rule="complaint_open")
    if len(earlier) >= MAX_COMPLAINTS:
        raise Conflict(
            "该办件的投诉次数已达上限。如问题仍未解决，请到“办不成事”反映窗口或拨打 12345 热线反映",
            rule="complaints_max",
        )
    follow_up = await _open_follow_up(
        session, case, scope, source="complaint", seq=len(earlier) + 1, rating=None, comment=complaint.text.strip()
    )
    await append(session, AuditEntry(
        action="case.complain", tenant_id=case.tenant_id, actor="public", resource=f"case:{case.id}",
        detail={"seq": follow_up.seq},
    ))  # fmt: skip
    return Complained(follow_up.seq, follow_up.callback_due)


async def _open_follow_up(
    session: AsyncSession, case: Case, scope: TenantScope, *, source: str, seq: int, rating: int | None,
    comment: str | None,
) -> CaseFollowUp:  # fmt: skip
    """差评 or 投诉: a follow-up for the unit that handled the case, due back in 1 working day and rectified within the
    tenant's working days; its heads and the staff who handled the case are told in their inbox."""
    now = utcnow()
    today = local_date(now, scope.timezone)
    tenant = await TenantRepository(session).by_id(case.tenant_id)
    calendar = await calendar_for(session, scope)
    unit = case.routed_to or case.accepting_unit
    follow_up = CaseFollowUp(
        tenant_id=case.tenant_id, case_id=case.id, source=source, seq=seq, unit_code=unit, rating=rating,
        comment=comment, status="open", opened_at=now, callback_due=calendar.add_working_days(today, 1),
        rectify_due=calendar.add_working_days(today, tenant.rectify_working_days if tenant else 5),
    )  # fmt: skip
    session.add(follow_up)
    heads = await StaffRepository(session).holding(scope, "unit_head", unit)
    told = dict.fromkeys(i for i in (case.decider_id, case.acceptor_id, *heads) if i is not None)
    what = "收到差评" if source == "rating" else "收到投诉"
    await insert_together(session, [
        inbox_row(case.tenant_id, staff_id, kind="follow_up", dedupe_key=f"follow_up:case:{case.id}:{source}:{seq}",
                  title=f"办件 {case.receipt_no} {what}，请回访整改",
                  body=f"请于 {follow_up.callback_due} 前回访申请人，{follow_up.rectify_due} 前完成整改并答复。",
                  link=f"/cases/{case.id}", case_id=case.id, now=now)
        for staff_id in told
    ])  # fmt: skip
    return follow_up
