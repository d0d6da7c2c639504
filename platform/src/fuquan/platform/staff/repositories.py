"""All SQL of 人员管理: staff accounts within a scope, their roles, and the ones locked for a change."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import RoleAssignment, SecondFactor, Staff
from fuquan.tenants.scope import TenantScope


def _in_scope(scope: TenantScope) -> Select[tuple[Staff]]:
    """Staff of the scope's tenant working in its subtree: anyone else reads as absent."""
    return select(Staff).where(Staff.tenant_id == scope.tenant_id, Staff.unit_code.startswith(scope.root_code))


class StaffDirectoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(
        self,
        scope: TenantScope,
        *,
        unit: str | None,
        role: str | None,
        active: bool | None,
        limit: int,
        offset: int,
    ) -> list[Staff]:
        """The scope's staff (under ``unit`` when given), by unit then username."""
        query = _in_scope(scope)
        if unit is not None:
            query = query.where(Staff.unit_code.startswith(unit))
        if role is not None:
            held = select(RoleAssignment.staff_id).where(RoleAssignment.role == role)
            query = query.where(Staff.id.in_(held))
        if active is not None:
            query = query.where(Staff.active.is_(active))
        query = query.order_by(Staff.unit_code, Staff.username).limit(limit).offset(offset)
        return list(await self.session.scalars(query))

    async def get(self, scope: TenantScope, staff_id: int, *, lock: bool = False) -> Staff | None:
        """The staff member if in the scope; ``lock``: their row held for the rest of the transaction (role and
        status changes of one person run one after another) and read afresh, roles included."""
        query = _in_scope(scope).where(Staff.id == staff_id)
        if lock:
            query = query.with_for_update(of=Staff).execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def in_tenant(self, scope: TenantScope, username: str) -> Staff | None:
        """The person of the scope's tenant with this username, at any level (a co-signer need not work in the
        scope's subtree)."""
        return await self.session.scalar(
            select(Staff).where(Staff.tenant_id == scope.tenant_id, Staff.username == username)
        )

    async def enrolled_factors(self, staff_ids: Sequence[int]) -> set[int]:
        """Which of these people have proved a second factor (动态验证码已绑定)."""
        if not staff_ids:
            return set()
        rows = await self.session.scalars(
            select(SecondFactor.staff_id).where(
                SecondFactor.staff_id.in_(staff_ids), SecondFactor.enrolled_at.is_not(None)
            )
        )
        return set(rows)

    async def flush(self) -> None:
        await self.session.flush()
