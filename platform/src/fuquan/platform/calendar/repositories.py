"""All SQL of the working-day calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.calendar.models import CalendarOverride
from fuquan.tenants.scope import TenantScope


class CalendarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overrides(self, scope: TenantScope, year: int | None = None) -> list[CalendarOverride]:
        """The tenant's rows in date order, all of them or those of one year."""
        query = select(CalendarOverride).where(CalendarOverride.tenant_id == scope.tenant_id)
        if year is not None:
            query = query.where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        return list(await self.session.scalars(query.order_by(CalendarOverride.day)))

    async def get(self, scope: TenantScope, day: date, *, for_update: bool = False) -> CalendarOverride | None:
        """The tenant's row for ``day``; ``for_update`` locks it (PostgreSQL), so a concurrent change of the
        same day waits and then reads what this one left."""
        query = select(CalendarOverride).where(
            CalendarOverride.tenant_id == scope.tenant_id, CalendarOverride.day == day
        )
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def add(self, row: CalendarOverride) -> CalendarOverride:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: CalendarOverride) -> bool:
        """False if the row was gone already (cleared at the same moment by someone else)."""
        result = await self.session.execute(delete(CalendarOverride).where(CalendarOverride.id == row.id))
        return bool(result.rowcount)  # type: ignore[attr-defined]
