"""All SQL of service points. Every query is bounded by a TenantScope: a point outside the caller's subtree reads
exactly like one that does not exist."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.errors import NotFound
from fuquan.platform.organs.models import ServicePoint
from fuquan.tenants.scope import TenantScope


class ServicePointRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, point: ServicePoint) -> ServicePoint:
        self.session.add(point)
        await self.session.flush()
        return point

    async def get(self, scope: TenantScope, point_id: int, *, for_update: bool = False) -> ServicePoint:
        query = select(ServicePoint).where(
            ServicePoint.id == point_id,
            ServicePoint.tenant_id == scope.tenant_id,
            ServicePoint.unit_code.startswith(scope.root_code, autoescape=True),
        )
        point = await self.session.scalar(query.with_for_update() if for_update else query)
        if point is None:
            raise NotFound(f"服务点 {point_id} 不存在或不在您的管辖范围内")
        return point

    async def of_unit(self, scope: TenantScope, unit_code: str, *, include_closed: bool) -> list[ServicePoint]:
        query = select(ServicePoint).where(ServicePoint.tenant_id == scope.tenant_id,
                                           ServicePoint.unit_code == unit_code)  # fmt: skip
        if not include_closed:
            query = query.where(ServicePoint.closed_at.is_(None))
        return list(await self.session.scalars(query.order_by(ServicePoint.closed_at.is_not(None), ServicePoint.id)))

    async def open_of_units(self, scope: TenantScope, unit_codes: Sequence[str]) -> list[ServicePoint]:
        """The open points of several units (published on the service guides: read tenant-wide)."""
        query = select(ServicePoint).where(
            ServicePoint.tenant_id == scope.tenant_id, ServicePoint.unit_code.in_(list(unit_codes)),
            ServicePoint.closed_at.is_(None),
        )  # fmt: skip
        return list(
            await self.session.scalars(query.order_by(ServicePoint.unit_code, ServicePoint.kind, ServicePoint.id))
        )
