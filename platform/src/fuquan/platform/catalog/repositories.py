"""All SQL of the catalogue."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.catalog.models import CatalogEdition, CatalogItem
from fuquan.tenants.scope import TenantScope


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current_edition(self, scope: TenantScope) -> CatalogEdition | None:
        return await self.session.scalar(
            select(CatalogEdition)
            .where(CatalogEdition.tenant_id == scope.tenant_id)
            .order_by(CatalogEdition.number.desc())
            .limit(1)
        )

    async def editions(self, scope: TenantScope) -> list[CatalogEdition]:
        found = await self.session.scalars(
            select(CatalogEdition).where(CatalogEdition.tenant_id == scope.tenant_id).order_by(CatalogEdition.number)
        )
        return list(found)

    async def item_counts(self, scope: TenantScope) -> dict[int, int]:
        rows = await self.session.execute(
            select(CatalogItem.edition_id, func.count())
            .where(CatalogItem.tenant_id == scope.tenant_id)
            .group_by(CatalogItem.edition_id)
        )
        return {edition_id: int(count) for edition_id, count in rows.tuples()}

    async def edition(self, scope: TenantScope, number: int) -> CatalogEdition | None:
        return await self.session.scalar(
            select(CatalogEdition).where(CatalogEdition.tenant_id == scope.tenant_id, CatalogEdition.number == number)
        )

    async def newest_editions(self) -> dict[int, int]:
        """tenant id → the number of its newest edition (one small query: how caches learn of a new one)."""
        rows = await self.session.execute(
            select(CatalogEdition.tenant_id, func.max(CatalogEdition.number)).group_by(CatalogEdition.tenant_id)
        )
        return {tenant_id: int(number) for tenant_id, number in rows.tuples()}

    async def next_edition_number(self, scope: TenantScope) -> int:
        latest = await self.session.scalar(
            select(func.max(CatalogEdition.number)).where(CatalogEdition.tenant_id == scope.tenant_id)
        )
        return (latest or 0) + 1

    async def items(self, edition_id: int) -> list[CatalogItem]:
        rows = await self.session.scalars(
            select(CatalogItem).where(CatalogItem.edition_id == edition_id).order_by(CatalogItem.code)
        )
        return list(rows)

    async def item(self, edition_id: int, code: str) -> CatalogItem | None:
        return await self.session.scalar(
            select(CatalogItem).where(CatalogItem.edition_id == edition_id, CatalogItem.code == code)
        )

    async def add_edition(self, edition: CatalogEdition, items: list[CatalogItem]) -> CatalogEdition:
        self.session.add(edition)
        await self.session.flush()
        for item in items:
            item.edition_id = edition.id
        self.session.add_all(items)
        await self.session.flush()
        return edition
