"""All SQL about tenants and units. Every unit query is bounded by a TenantScope."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.errors import NotFound
from fuquan.tenants.divisions import ancestor_codes
from fuquan.tenants.models import Tenant, Unit
from fuquan.tenants.organs import Organ, organ_of
from fuquan.tenants.scope import TenantScope


class TenantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> Tenant | None:
        return await self.session.scalar(select(Tenant).where(Tenant.code == code))

    async def by_id(self, tenant_id: int) -> Tenant | None:
        """The tenant itself (not a row it owns), e.g. for the case a public query code found."""
        return await self.session.get(Tenant, tenant_id)

    async def all(self) -> list[Tenant]:
        return list(await self.session.scalars(select(Tenant).order_by(Tenant.code)))

    async def add(self, tenant: Tenant) -> Tenant:
        self.session.add(tenant)
        await self.session.flush()
        return tenant


class UnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, scope: TenantScope, code: str) -> Unit:
        """The unit, or NotFound when it is absent, in another tenant, or outside the scope."""
        unit = await self.find(scope, code)
        if unit is None:
            raise NotFound(f"单位 {code} 不存在或不在您的管辖范围内")
        return unit

    async def get_many(self, scope: TenantScope, codes: Sequence[str]) -> dict[str, Unit]:
        """Several units at once; NotFound names the first one absent or outside the scope."""
        found: dict[str, Unit] = {}
        wanted = [code for code in codes if scope.covers(code)]
        for start in range(0, len(wanted), 500):
            rows = await self.session.scalars(
                select(Unit).where(Unit.tenant_id == scope.tenant_id, Unit.code.in_(wanted[start : start + 500]))
            )
            found.update((unit.code, unit) for unit in rows)
        for code in codes:
            if code not in found:
                raise NotFound(f"单位 {code} 不存在或不在您的管辖范围内")
        return found

    async def find(self, scope: TenantScope, code: str) -> Unit | None:
        if not scope.covers(code):
            return None
        return await self.session.scalar(select(Unit).where(Unit.tenant_id == scope.tenant_id, Unit.code == code))

    async def children(self, scope: TenantScope, code: str) -> list[Unit]:
        await self.get(scope, code)
        rows = await self.session.scalars(
            select(Unit).where(Unit.tenant_id == scope.tenant_id, Unit.parent_code == code).order_by(Unit.code)
        )
        return list(rows)

    async def subtree(self, scope: TenantScope, code: str, max_level: int | None = None) -> list[Unit]:
        """The unit and everything below it (down to ``max_level``), parents before children."""
        await self.get(scope, code)
        query = select(Unit).where(Unit.tenant_id == scope.tenant_id, Unit.code.startswith(code, autoescape=True))
        if max_level is not None:
            query = query.where(Unit.level <= max_level)
        return list(await self.session.scalars(query.order_by(Unit.level, Unit.code)))

    async def ancestors(self, scope: TenantScope, code: str) -> list[Unit]:
        """The units above ``code`` up to the tenant root, root first (within the tenant, not the scope)."""
        await self.get(scope, code)
        codes = ancestor_codes(code)
        rows = await self.session.scalars(
            select(Unit).where(Unit.tenant_id == scope.tenant_id, Unit.code.in_(codes)).order_by(Unit.level)
        )
        return list(rows)

    async def codes_up_to_level(self, scope: TenantScope, max_level: int) -> list[str]:
        rows = await self.session.scalars(
            select(Unit.code).where(Unit.tenant_id == scope.tenant_id, Unit.level <= max_level).order_by(Unit.code)
        )
        return list(rows)

    async def count_by_level(self, scope: TenantScope) -> dict[int, int]:
        rows = await self.session.execute(
            select(Unit.level, func.count()).where(Unit.tenant_id == scope.tenant_id).group_by(Unit.level)
        )
        return {level: count for level, count in rows.tuples()}  # noqa: C416 - a Result has keys(): dict() would misread it

    async def named_like(self, scope: TenantScope, text: str, *, levels: Sequence[int], limit: int) -> list[Unit]:
        """Units of ``levels`` whose name contains ``text`` (a resident looking for their village), exact names
        first."""
        if not text:
            return []
        rows = await self.session.scalars(
            select(Unit)
            .where(Unit.tenant_id == scope.tenant_id, Unit.level.in_(list(levels)),
                   Unit.name.contains(text, autoescape=True))
            .order_by((Unit.name == text).desc(), Unit.level.desc(), Unit.code)
            .limit(limit)
        )  # fmt: skip
        return list(rows)

    async def names(self, scope: TenantScope, codes: Sequence[str]) -> dict[str, str]:
        if not codes:
            return {}
        rows = await self.session.execute(
            select(Unit.code, Unit.name).where(Unit.tenant_id == scope.tenant_id, Unit.code.in_(list(codes)))
        )
        return {level: count for level, count in rows.tuples()}  # noqa: C416 - a Result has keys(): dict() would misread it

    async def organs(self, scope: TenantScope, codes: Sequence[str]) -> dict[str, Organ]:
        """The organs of units of the tenant (names that are printed on notices and published: read tenant-wide,
        whatever the caller's subtree)."""
        rows = await self.session.execute(
            select(Unit.code, Unit.level, Unit.name, Unit.organ_name, Unit.organ_kind).where(
                Unit.tenant_id == scope.tenant_id, Unit.code.in_(list(codes))
            )
        )
        return {row[0]: organ_of(*row) for row in rows.tuples()}

    async def set_organ(self, unit: Unit, name: str | None, kind: str | None) -> None:
        """A unit read through this repository (so in the caller's scope) takes the organ's name and kind."""
        unit.organ_name, unit.organ_kind = name, kind
        await self.session.flush()

    async def insert_many(self, rows: Sequence[dict[str, object]]) -> None:
        await self.session.execute(insert(Unit), list(rows))

    async def existing_codes(self, scope: TenantScope) -> set[str]:
        return set(await self.session.scalars(select(Unit.code).where(Unit.tenant_id == scope.tenant_id)))
