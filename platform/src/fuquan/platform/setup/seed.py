"""Seeding: tenants on real division codes, the catalogue and the starting policy — no grants."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority.services import initialise_policy
from fuquan.platform.catalog import services as catalog
from fuquan.platform.catalog.repositories import CatalogRepository
from fuquan.platform.core.db import session_scope
from fuquan.tenants.scope import whole_tenant
from fuquan.tenants.services import NINGXIA_TENANT_NAME, Progress, import_province

log = structlog.get_logger()

NINGXIA = "64"
SECOND_TENANT = "46"  # 海南: a second province, to prove isolation


@dataclass(frozen=True, slots=True)
class SeededTenant:
    code: str
    name: str
    counts_by_level: dict[int, int]
    created: bool


async def seed_tenant(
    session: AsyncSession, province_code: str, *, name: str | None = None, progress: Progress | None = None
) -> SeededTenant:
    """Import a province's units; on first creation also publish the catalogue and the starting policy."""
    result = await import_province(session, province_code, name=name, progress=progress)
    tenant = result.tenant
    scope = whole_tenant(tenant)
    if await CatalogRepository(session).current_edition(scope) is None:
        specs = catalog.default_catalog()
        await catalog.publish(session, scope, specs, actor="seed", note="初始目录：人社乡镇赋权事项 20 项")
        await initialise_policy(session, scope, [spec.code for spec in specs])
    log.info("tenant_seeded", tenant=tenant.code, units=sum(result.counts_by_level.values()))
    return SeededTenant(tenant.code, tenant.name, result.counts_by_level, result.created)


async def seed(session_maker: async_sessionmaker[AsyncSession], progress: Progress | None = None) -> list[SeededTenant]:
    """Tenant 64 (Ningxia) and a second tenant, each committed on its own."""
    seeded = []
    for code, name in ((NINGXIA, NINGXIA_TENANT_NAME), (SECOND_TENANT, None)):
        async with session_scope(session_maker) as session:
            seeded.append(await seed_tenant(session, code, name=name, progress=progress))
    return seeded
