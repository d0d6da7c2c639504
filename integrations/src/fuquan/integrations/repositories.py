"""All SQL of the integrations feature: partner endpoints and Fuquan's own records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.models import HrssRecord, PartnerEndpointRecord
from fuquan.platform.core.db import conflict_insert
from fuquan.tenants.scope import TenantScope


class PartnerEndpointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_tenant(self, scope: TenantScope) -> Sequence[PartnerEndpointRecord]:
        rows = await self.session.scalars(
            select(PartnerEndpointRecord)
            .where(PartnerEndpointRecord.tenant_id == scope.tenant_id)
            .order_by(PartnerEndpointRecord.partner)
        )
        return rows.all()

    async def put(self, scope: TenantScope, partner: str, **values: object) -> PartnerEndpointRecord:
        """Create or replace the tenant's row for ``partner`` in one statement (INSERT … ON CONFLICT DO
        UPDATE): set twice at once, the second waits for the first and then replaces it."""
        statement = conflict_insert(self.session, PartnerEndpointRecord).values(
            tenant_id=scope.tenant_id, partner=partner, **values
        )
        statement = statement.on_conflict_do_update(index_elements=["tenant_id", "partner"], set_=values)
        record = await self.session.scalar(
            statement.returning(PartnerEndpointRecord), execution_options={"populate_existing": True}
        )
        assert record is not None  # inserted or updated, the row is returned
        return record

    async def fingerprint(self, scope: TenantScope) -> str:
        """Changes whenever the tenant's configuration does (count and latest update)."""
        row = (
            await self.session.execute(
                select(func.count(), func.max(PartnerEndpointRecord.updated_at)).where(
                    PartnerEndpointRecord.tenant_id == scope.tenant_id
                )
            )
        ).one()
        return f"{row[0]}:{row[1].isoformat() if row[1] else ''}"


class HrssRecordRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_person(self, scope: TenantScope, person_index: str) -> Sequence[HrssRecord]:
        rows = await self.session.scalars(
            select(HrssRecord)
            .where(HrssRecord.tenant_id == scope.tenant_id, HrssRecord.person_index == person_index)
            .order_by(HrssRecord.since, HrssRecord.id)
        )
        return rows.all()

    def add(self, record: HrssRecord) -> None:
        self.session.add(record)
