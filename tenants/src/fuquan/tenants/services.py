"""Tenant verbs: import a province's real division codes (plus generated grids); read units within a scope."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.divisions import load_province, province_names, with_grids
from fuquan.tenants.models import Tenant, Unit
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

log = structlog.get_logger()

NINGXIA_TENANT_NAME = "宁夏回族自治区人力资源和社会保障厅"
_BATCH = 5000

Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True, slots=True)
class ImportResult:
    tenant: Tenant
    created: bool
    units_added: int
    counts_by_level: dict[int, int]


def tenant_name(province_code: str) -> str:
    province = province_names().get(province_code)
    if province is None:
        raise NotFound(f"全国区划数据中没有省级代码 {province_code}")
    return f"{province}人力资源和社会保障厅"


async def import_province(
    session: AsyncSession, province_code: str, *, name: str | None = None, progress: Progress | None = None
) -> ImportResult:
    """Create (or complete) the tenant of a province with every real unit and its generated grids.

    Idempotent: units already present are left as they are, so a re-run only fills gaps.
    """
    try:
        divisions = with_grids(load_province(province_code))
    except ValueError as error:
        raise NotFound(str(error)) from error
    tenants = TenantRepository(session)
    units = UnitRepository(session)
    tenant = await tenants.by_code(province_code)
    created = tenant is None
    if tenant is None:
        tenant = await tenants.add(
            Tenant(code=province_code, name=name or tenant_name(province_code), created_at=utcnow())
        )
    existing = await units.existing_codes(whole_tenant(tenant))
    pending = [d for d in divisions if d.code not in existing]
    total = len(pending)
    for start in range(0, total, _BATCH):
        batch = pending[start : start + _BATCH]
        await units.insert_many(
            [
                {"tenant_id": tenant.id, "code": d.code, "name": d.name, "level": d.level, "parent_code": d.parent_code}
                for d in batch
            ]
        )
        if progress is not None:
            progress(min(start + _BATCH, total), total)
    log.info("tenant_imported", tenant=province_code, units_added=total, created=created)
    return ImportResult(tenant, created, total, await units.count_by_level(whole_tenant(tenant)))


async def tenant_scope(session: AsyncSession, tenant_code: str) -> TenantScope:
    """The whole tenant, for administrative commands run by the operator (CLI)."""
    tenant = await TenantRepository(session).by_code(tenant_code)
    if tenant is None:
        raise NotFound(f"租户 {tenant_code} 不存在，请先运行 fuquan seed 或 fuquan tenants import")
    return whole_tenant(tenant)


# -- units, as the caller's scope sees them ---------------------------------------------------------


async def get_unit(session: AsyncSession, scope: TenantScope, code: str) -> Unit:
    """The unit, or NotFound when it is absent, in another tenant, or outside the scope."""
    return await UnitRepository(session).get(scope, code)


async def find_unit(session: AsyncSession, scope: TenantScope, code: str) -> Unit | None:
    """The unit, or None when it is absent, in another tenant, or outside the scope."""
    return await UnitRepository(session).find(scope, code)


async def unit_subtree(
    session: AsyncSession, scope: TenantScope, code: str, max_level: int | None = None
) -> list[Unit]:
    """The unit and everything below it (down to ``max_level``), parents before children; NotFound when the
    unit is outside the scope."""
    return await UnitRepository(session).subtree(scope, code, max_level=max_level)


async def unit_ancestors(session: AsyncSession, scope: TenantScope, code: str) -> list[Unit]:
    """The units above ``code`` up to the tenant root, root first (within the tenant, not the scope); NotFound
    when the unit itself is outside the scope."""
    return await UnitRepository(session).ancestors(scope, code)


async def unit_names(session: AsyncSession, scope: TenantScope, codes: Sequence[str]) -> dict[str, str]:
    """The names of the tenant's units among ``codes``, by code (a code the tenant lacks is left out)."""
    return await UnitRepository(session).names(scope, codes)
