"""人员管理 endpoints (/api/v1/staff…) for security and unit administrators, within their subtree."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import Staff
from fuquan.platform.accounts.services import LoginThrottle
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.params import Offset, RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.staff import services
from fuquan.platform.staff.schemas import PasswordReset, Role, RoleChange, StaffCreate, StaffRead
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

MANAGE = {"permission": "staff.manage"}
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
RolePath = Annotated[Role, PathParameter(description="岗位代码")]


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff 人员管理"]

    @get("/", summary="本级及下级的人员账号", opt=MANAGE)
    async def list_staff(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        unit: FromQuery[UnitCode | None] = None,
        role: FromQuery[Role | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[StaffRead]:
        """Staff working in the caller's subtree (or under ``unit``; outside the subtree: 404), by unit."""
        query = services.StaffQuery(unit=None if unit is None else normalise_unit_code(unit), role=role, active=active)
        found = await services.search(db_session, actor, query, limit=limit, offset=offset)
        return await services.staff_reads(db_session, actor, found)

    @get("/{staff_id:int}", summary="一名人员的账号", opt=MANAGE)
    async def get_staff(
        self, staff_id: RowId, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> StaffRead:
        return await self._read(db_session, actor, await services.get(db_session, actor, staff_id))

    async def _read(self, session: AsyncSession, actor: Actor, staff: Staff) -> StaffRead:
        return (await services.staff_reads(session, actor, [staff]))[0]

    @post("/", summary="新增人员（密码须足够强）", opt=MANAGE)
    async def create_staff(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[StaffCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> StaffRead:
        request_id = request_id_of(request)
        detail = {"username": data.username, "unit": data.unit, "roles": sorted(data.roles)}
        async with rejections_audited(db_session, actor.audit_entry("staff.add", request_id=request_id, detail=detail)):
            staff = await services.enrol(db_session, actor, data, request_id)
        return await self._read(db_session, actor, staff)

    @post("/{staff_id:int}/disable", summary="停用账号（立即结束其全部登录）", status_code=200, opt=MANAGE)
    async def disable(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._set_active(request, staff_id, False, db_session, actor, logins)

    @post("/{staff_id:int}/enable", summary="启用账号", status_code=200, opt=MANAGE)
    async def enable(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._set_active(request, staff_id, True, db_session, actor, logins)

    async def _set_active(
        self,
        request: Request[Any, Any, Any],
        staff_id: int,
        active: bool,
        session: AsyncSession,
        actor: Actor,
        logins: LoginDirectory,
    ) -> StaffRead:
        request_id = request_id_of(request)
        action = "staff.enable" if active else "staff.disable"
        async with rejections_audited(session, actor.audit_entry(action, resource=f"staff:{staff_id}",
                                                                 request_id=request_id)):  # fmt: skip
            staff = await services.set_active(session, actor, staff_id, active, logins, request_id)
        return await self._read(session, actor, staff)

    @post("/{staff_id:int}/password", summary="重置密码（立即结束其全部登录）", status_code=200, opt=MANAGE)
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        data: JSONBody[PasswordReset],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        request_id = request_id_of(request)
        entry = actor.audit_entry("staff.password_reset", resource=f"staff:{staff_id}", request_id=request_id)
        async with rejections_audited(db_session, entry):
            staff = await services.reset_password(db_session, actor, staff_id, data.password, logins, request_id)
        return await self._read(db_session, actor, staff)

    @post("/{staff_id:int}/roles", summary="授予岗位（三员分立：管理员岗位互斥）", status_code=200, opt=MANAGE)
    async def assign_role(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        data: JSONBody[RoleChange],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        request_id = request_id_of(request)
        entry = actor.audit_entry(
            "staff.role_assign", resource=f"staff:{staff_id}", request_id=request_id, detail={"role": data.role}
        )
        async with rejections_audited(db_session, entry):
            staff = await services.assign_role(db_session, actor, staff_id, data.role, logins, request_id)
        return await self._read(db_session, actor, staff)

    @delete("/{staff_id:int}/roles/{role:str}", summary="收回岗位", status_code=200, opt=MANAGE)
    async def remove_role(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        role: RolePath,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        request_id = request_id_of(request)
        entry = actor.audit_entry(
            "staff.role_remove", resource=f"staff:{staff_id}", request_id=request_id, detail={"role": role}
        )
        async with rejections_audited(db_session, entry):
            staff = await services.remove_role(db_session, actor, staff_id, role, logins, request_id)
        return await self._read(db_session, actor, staff)

    @post("/{staff_id:int}/unlock", summary="解除登录锁定", status_code=200, opt=MANAGE)
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> StaffRead:
        request_id = request_id_of(request)
        entry = actor.audit_entry("staff.unlock", resource=f"staff:{staff_id}", request_id=request_id)
        async with rejections_audited(db_session, entry):
            staff = await services.unlock(db_session, actor, staff_id, login_throttle, request_id)
        return await self._read(db_session, actor, staff)

    @post("/{staff_id:int}/second-factor/reset", summary="重置动态验证码（下次登录时重新绑定）", status_code=200,
          opt=MANAGE)  # fmt: skip
    async def reset_second_factor(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> StaffRead:
        entry = actor.audit_entry(
            "auth.second_factor.reset", resource=f"staff:{staff_id}", request_id=request_id_of(request)
        )
        async with rejections_audited(db_session, entry):
            staff = await services.reset_factor(db_session, actor, staff_id)
        return await self._read(db_session, actor, staff)
