"""GET /api/v1/units/{code} and its children."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.models import Unit
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.schemas import UnitCode, UnitRead
from fuquan.tenants.scope import TenantScope


def unit_read(unit: Unit) -> UnitRead:
    return UnitRead(code=unit.code, name=unit.name, level=unit.level, parent_code=unit.parent_code)


class UnitController(Controller):
    path = "/api/v1/units"
    tags = ["units 单位"]

    @get("/{code:str}", summary="一个单位", opt={"permission": "units.read"})
    async def get_unit(
        self,
        code: FromPath[UnitCode],
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
    ) -> UnitRead:
        return unit_read(await UnitRepository(db_session).get(tenant_scope, normalise_unit_code(code)))

    @get("/{code:str}/children", summary="下级单位", opt={"permission": "units.read"})
    async def get_children(
        self,
        code: FromPath[UnitCode],
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
    ) -> list[UnitRead]:
        children = await UnitRepository(db_session).children(tenant_scope, normalise_unit_code(code))
        return [unit_read(unit) for unit in children]
