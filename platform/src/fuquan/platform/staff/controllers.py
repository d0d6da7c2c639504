"""人员管理 endpoints (/api/v1/staff…) for security and unit administrators, within their subtree."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import Staff
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.params import Offset, RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.staff import services
from fuquan.platform.staff.schemas import (
    CoSigner,
    FactorReset,
    PasswordReset,
    Role,
    RoleChange,
    StaffCreate,
    StaffRead,
)
from fuquan.platform.staff.services import Witness
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

MANAGE = {"permission": "staff.manage"}
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
RolePath = Annotated[Role, PathParameter(description="岗位代码")]


async def provide_witness(
    request: Request[Any, Any, Any], key_ring: NamedDependency[KeyRing], login_throttle: NamedDependency[LoginThrottle]
) -> Witness:
    """What checking a co-signer (双人复核) needs in this request; the co-signer comes from the body."""
    client = request.client.host if request.client else None
    return Witness(None, key_ring, login_throttle, client, request_id_of(request))


def co_signed(witness: Witness, co_signer: CoSigner | None) -> Witness:
    return dataclasses.replace(witness, co_signer=co_signer)


class StaffController(Controller):
    path = "/api/v1/staff"
    tags = ["staff 人员管理"]
    dependencies = {"witness": Provide(provide_witness)}

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
        witness: NamedDependency[Witness],
        data: JSONBody[StaffCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> StaffRead:
        detail = {"username": data.username, "unit": data.unit, "roles": sorted(data.roles)}
        return await self._change(
            witness, db_session, actor, "staff.add", None,
            lambda: services.enrol(db_session, actor, data, co_signed(witness, data.co_signer)), detail=detail,
        )  # fmt: skip

    @post("/{staff_id:int}/disable", summary="停用账号（立即结束其全部登录）", status_code=200, opt=MANAGE)
    async def disable(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "staff.disable", staff_id,
            lambda: services.set_active(db_session, actor, staff_id, False, logins, witness.request_id),
        )  # fmt: skip

    @post("/{staff_id:int}/enable", summary="启用账号", status_code=200, opt=MANAGE)
    async def enable(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "staff.enable", staff_id,
            lambda: services.set_active(db_session, actor, staff_id, True, logins, witness.request_id),
        )  # fmt: skip

    @post("/{staff_id:int}/password", summary="重置密码（立即结束其全部登录）", status_code=200, opt=MANAGE)
    async def reset_password(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        data: JSONBody[PasswordReset],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "staff.password_reset", staff_id,
            lambda: services.reset_password(
                db_session, actor, staff_id, data.password, logins, co_signed(witness, data.co_signer)
            ),
        )  # fmt: skip

    @post("/{staff_id:int}/roles", summary="授予岗位（三员分立：管理员岗位互斥）", status_code=200, opt=MANAGE)
    async def assign_role(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        data: JSONBody[RoleChange],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "staff.role_assign", staff_id,
            lambda: services.assign_role(
                db_session, actor, staff_id, data.role, logins, co_signed(witness, data.co_signer)
            ),
            detail={"role": data.role},
        )  # fmt: skip

    @delete("/{staff_id:int}/roles/{role:str}", summary="收回岗位", status_code=200, opt=MANAGE)
    async def remove_role(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        role: RolePath,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "staff.role_remove", staff_id,
            lambda: services.remove_role(db_session, actor, staff_id, role, logins, witness.request_id),
            detail={"role": role},
        )  # fmt: skip

    @post("/{staff_id:int}/unlock", summary="解除登录锁定", status_code=200, opt=MANAGE)
    async def unlock(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "staff.unlock", staff_id,
            lambda: services.unlock(db_session, actor, staff_id, login_throttle, witness.request_id),
        )  # fmt: skip

    @post("/{staff_id:int}/second-factor/reset", summary="重置动态验证码（下次登录时重新绑定）", status_code=200,
          opt=MANAGE)  # fmt: skip
    async def reset_second_factor(
        self,
        witness: NamedDependency[Witness],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: JSONBody[FactorReset | None] = None,
    ) -> StaffRead:
        return await self._change(
            witness, db_session, actor, "auth.second_factor.reset", staff_id,
            lambda: services.reset_factor(
                db_session, actor, staff_id, co_signed(witness, None if data is None else data.co_signer)
            ),
        )  # fmt: skip

    async def _change(
        self,
        witness: Witness,
        session: AsyncSession,
        actor: Actor,
        action: str,
        staff_id: int | None,
        work: Callable[[], Awaitable[Staff]],
        *,
        detail: dict[str, Any] | None = None,
    ) -> StaffRead:
        """Run one change to a person's account; a refusal is audited as ``action`` (the change audits itself)."""
        resource = None if staff_id is None else f"staff:{staff_id}"
        entry = actor.audit_entry(action, resource=resource, request_id=witness.request_id, detail=detail)
        async with rejections_audited(session, entry):
            staff = await work()
        return await self._read(session, actor, staff)
