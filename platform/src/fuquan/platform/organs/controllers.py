"""/api/v1/units/{code}/organ and the service points (机关与服务点)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.organs import services
from fuquan.platform.organs.schemas import OrganRead, OrganWrite, ServicePointRead, ServicePointWrite
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode
from fuquan.tenants.scope import TenantScope

IncludeClosed = Annotated[bool, QueryParameter(description="也列出已撤销的服务点")]


class OrganController(Controller):
    path = "/api/v1/units/{code:str}"
    tags = ["units 单位"]

    @get("/organ", summary="单位的机关名称与性质（通知书以其名义出具）", opt={"permission": "units.read"})
    async def get_organ(
        self, code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
    ) -> OrganRead:  # fmt: skip
        return await services.organ(db_session, tenant_scope, normalise_unit_code(code))

    @put("/organ", summary="设置机关名称与性质（null 恢复默认）", opt={"permission": "units.manage"})
    async def name_organ(
        self, request: Request[Any, Any, Any], code: FromPath[UnitCode], data: JSONBody[OrganWrite],
        db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
    ) -> OrganRead:  # fmt: skip
        unit, request_id = normalise_unit_code(code), request_id_of(request)
        entry = actor.audit_entry("unit.organ_named", resource=f"unit:{unit}", request_id=request_id,
                                  detail={"organ_name": data.organ_name, "organ_kind": data.organ_kind})  # fmt: skip
        async with rejections_audited(db_session, entry):
            return await services.name_organ(db_session, actor, unit, data, request_id)

    @get("/service-points", summary="单位的服务点（便民服务中心/站、代办网点）", opt={"permission": "units.read"})
    async def list_points(
        self, code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope], include_closed: IncludeClosed = False,
    ) -> list[ServicePointRead]:  # fmt: skip
        return await services.service_points(db_session, tenant_scope, normalise_unit_code(code),
                                             include_closed=include_closed)  # fmt: skip

    @post("/service-points", summary="开设服务点", opt={"permission": "units.manage"})
    async def open_point(
        self, request: Request[Any, Any, Any], code: FromPath[UnitCode], data: JSONBody[ServicePointWrite],
        db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
    ) -> ServicePointRead:  # fmt: skip
        return await services.open_service_point(db_session, actor, normalise_unit_code(code), data,
                                                 request_id_of(request))  # fmt: skip


class ServicePointController(Controller):
    path = "/api/v1/service-points"
    tags = ["units 单位"]

    @put("/{point_id:int}", summary="修改服务点", opt={"permission": "units.manage"})
    async def amend_point(
        self, request: Request[Any, Any, Any], point_id: RowId, data: JSONBody[ServicePointWrite],
        db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
    ) -> ServicePointRead:  # fmt: skip
        return await services.amend_service_point(db_session, actor, point_id, data, request_id_of(request))

    @post(
        "/{point_id:int}/close", summary="撤销服务点（保留记录）", status_code=200, opt={"permission": "units.manage"}
    )
    async def close_point(
        self, request: Request[Any, Any, Any], point_id: RowId, db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> ServicePointRead:  # fmt: skip
        return await services.close_service_point(db_session, actor, point_id, request_id_of(request))
