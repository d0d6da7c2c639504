"""The resident's side of a case (公众查询): progress by 受理编号 and 查询码, and one rating (好差评).

Shared by the public API and the citizens' web pages, so both open the same case for the same pair
and apply the same rating rules.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import Case
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.schemas import PublicProgress, RatingWrite
from fuquan.platform.cases.state_machine import STATUS_NAMES, Status
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict, NotFound
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

RATING_NAMES: Final = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
RATABLE: Final = frozenset({Status.ISSUED, Status.CLOSED})  # a result has been given out (出件)
POOR_RATING: Final = 2  # 不满意 and below are followed up by the unit (整改回访)


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
    return Rated(RATING_NAMES[rating.level], follow_up)
