"""差评整改's SQL: the follow-ups of poor ratings and complaints in the caller's subtree."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import Case, CaseFollowUp
from fuquan.platform.core.errors import NotFound
from fuquan.tenants.scope import TenantScope


class FollowUpRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, scope: TenantScope, follow_up_id: int, *, for_update: bool = False) -> CaseFollowUp:
        """In the caller's subtree, else ``NotFound`` (another tenant's and an absent one read alike)."""
        query = select(CaseFollowUp).where(
            CaseFollowUp.id == follow_up_id, CaseFollowUp.tenant_id == scope.tenant_id,
            CaseFollowUp.unit_code.startswith(scope.root_code, autoescape=True),
        )  # fmt: skip
        found = await self.session.scalar(query.with_for_update() if for_update else query)
        if found is None:
            raise NotFound(f"差评整改 {follow_up_id} 不存在")
        return found

    async def page(self, scope: TenantScope, status: str | None, limit: int) -> list[tuple[CaseFollowUp, str]]:
        where = [CaseFollowUp.tenant_id == scope.tenant_id,
                 CaseFollowUp.unit_code.startswith(scope.root_code, autoescape=True)]  # fmt: skip
        if status:
            where.append(CaseFollowUp.status == status)
        rows = await self.session.execute(
            select(CaseFollowUp, Case.receipt_no).join(Case, Case.id == CaseFollowUp.case_id)
            .where(*where).order_by(CaseFollowUp.id.desc()).limit(limit)
        )  # fmt: skip
        return [(follow_up, receipt_no) for follow_up, receipt_no in rows.tuples()]

    async def receipt_no(self, case_id: int) -> str:
        return str(await self.session.scalar(select(Case.receipt_no).where(Case.id == case_id)))

    async def for_rates(self, scope: TenantScope, unit_code: str) -> list[CaseFollowUp]:
        """Every follow-up of the unit's subtree (for the callback and rectification rates)."""
        rows = await self.session.scalars(
            select(CaseFollowUp).where(
                CaseFollowUp.tenant_id == scope.tenant_id, CaseFollowUp.unit_code.startswith(unit_code, autoescape=True)
            )
        )
        return list(rows)
