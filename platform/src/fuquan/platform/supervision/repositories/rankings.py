"""流动红旗 and 服务之星's SQL: published rankings."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.supervision.models import Ranking
from fuquan.tenants.divisions import ancestor_codes
from fuquan.tenants.scope import TenantScope


class RankingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, ranking: Ranking) -> None:
        self.session.add(ranking)

    async def exists(self, scope: TenantScope, unit_code: str, month: date, kind: str) -> bool:
        found = await self.session.scalar(select(Ranking.id).where(
            Ranking.tenant_id == scope.tenant_id, Ranking.unit_code == unit_code, Ranking.month == month,
            Ranking.kind == kind,
        ))  # fmt: skip
        return found is not None

    async def visible(self, scope: TenantScope, unit_code: str, limit: int) -> list[Ranking]:
        """Published for ``unit_code`` or a unit above it, or beneath the caller's scope, newest first."""
        above = [*ancestor_codes(unit_code), unit_code]
        rows = await self.session.scalars(
            select(Ranking).where(Ranking.tenant_id == scope.tenant_id, or_(
                Ranking.unit_code.in_(above), Ranking.unit_code.startswith(scope.root_code, autoescape=True)))
            .order_by(Ranking.month.desc(), Ranking.id.desc()).limit(limit)
        )  # fmt: skip
        return list(rows)

    async def winners(self, scope: TenantScope, kind: str, key: str) -> list[int]:
        """Who is told of a first place: the star, or the winning unit's heads."""
        if kind == "star":
            rows = await self.session.scalars(
                select(Staff.id).where(Staff.tenant_id == scope.tenant_id, Staff.username == key)
            )
        else:
            rows = await self.session.scalars(
                select(RoleAssignment.staff_id).where(RoleAssignment.tenant_id == scope.tenant_id,
                                                      RoleAssignment.unit_code == key,
                                                      RoleAssignment.role == "unit_head")
            )  # fmt: skip
        return [int(i) for i in rows]
