"""All SQL of the working-day calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.calendar.models import CalendarOverride


class CalendarRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def overrides(self, tenant_id: int, year: int | None = None) -> list[CalendarOverride]:
        """The tenant's rows in date order, all of them or those of one year."""
        query = select(CalendarOverride).where(CalendarOverride.tenant_id == tenant_id)
        if year is not None:
            query = query.where(CalendarOverride.day >= date(year, 1, 1), CalendarOverride.day <= date(year, 12, 31))
        return list(await self.session.scalars(query.order_by(CalendarOverride.day)))

    async def get(self, tenant_id: int, day: date) -> CalendarOverride | None:
        return await self.session.scalar(
            select(CalendarOverride).where(CalendarOverride.tenant_id == tenant_id, CalendarOverride.day == day)
        )

    async def add(self, row: CalendarOverride) -> CalendarOverride:
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, row: CalendarOverride) -> None:
        await self.session.delete(row)
        await self.session.flush()
