"""Web pages: 人员管理 — the staff of one's subtree, a person's account, enrolment and the account's actions.

The verbs are the API's (``staff.services``), audited the same way; a refused action shows the person's page (or
the form) again with the server's reason and status (403 not theirs to manage, 404 outside the subtree, 409, 422
三员分立 or a weak password).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.roles import FACTOR_ROLES, ROLE_NAMES, assignable_by
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.audit.services import AuditEntry, rejections_audited
from fuquan.platform.core.errors import BadRequest, FuquanError
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.staff import services
from fuquan.platform.staff.controllers import co_signed, provide_witness
from fuquan.platform.staff.services import Witness
from fuquan.platform.web.pages import PageController, page, render
from fuquan.platform.web.staff.schemas import (
    FactorForm,
    PasswordForm,
    RoleForm,
    StaffForm,
    staff_create,
    staff_errors,
    unit_code,
)
from fuquan.tenants.services import get_unit

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
MANAGE = page("staff.manage")
PAGE_SIZE = 50
ACTIVE_CHOICES = {"1": "在用", "0": "已停用"}
DONE = {
    "created": "已新增人员账号。请把用户名和初始密码当面或通过安全渠道告知本人。",
    "disabled": "账号已停用，其全部登录已结束。",
    "enabled": "账号已启用。",
    "password": "密码已重置，其全部登录已结束；请把新密码通过安全渠道告知本人。",
    "role_assigned": "已授予岗位，其全部登录已结束（下次登录起生效）。",
    "role_removed": "已收回岗位，其全部登录已结束。",
    "unlocked": "已解除登录锁定。",
    "factor_reset": "动态验证码已重置：本人下次登录时重新绑定。",
}


async def _person_page(
    session: AsyncSession,
    actor: Actor,
    staff_id: int,
    *,
    done: str = "",
    problem: FuquanError | None = None,
    status_code: int = 200,
) -> Template:
    """A person's account and what the actor may do with it; loaded afresh (a refused attempt was rolled back)."""
    staff = await services.get(session, actor, staff_id)
    (shown,) = await services.staff_reads(session, actor, [staff])
    giveable = assignable_by(actor.roles)
    return render(
        "staff/person.html", actor, status_code=status_code, person=shown, problem=problem,
        done=DONE.get(done), role_names=ROLE_NAMES, own=staff.id == actor.staff_id,
        manageable=all(role in giveable for role in shown.roles),
        addable=[(code, name) for code, name in ROLE_NAMES.items() if code in giveable and code not in shown.roles],
        removable={role for role in shown.roles if role in giveable} if len(shown.roles) > 1 else set(),
        resets_factors="security_admin" in actor.roles,
        has_factor_role=any(role in FACTOR_ROLES for role in shown.roles),
    )  # fmt: skip


async def _staff_form(
    session: AsyncSession,
    actor: Actor,
    form: StaffForm,
    *,
    errors: dict[str, str] | None = None,
    problem: FuquanError | None = None,
    status_code: int = 200,
) -> Template:
    own = await get_unit(session, actor.scope, actor.unit_code)
    giveable = assignable_by(actor.roles)
    return render(
        "staff/form.html", actor, status_code=status_code, form=form, errors=errors or {}, problem=problem, own=own,
        roles=[(code, name) for code, name in ROLE_NAMES.items() if code in giveable],
        co_signs="security_admin" in actor.roles,
    )  # fmt: skip


class StaffPagesController(PageController):
    path = "/staff"
    dependencies = {**PageController.dependencies, "witness": Provide(provide_witness)}

    @get("/", opt=MANAGE)
    async def staff_list(
        self,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        unit: FromQuery[str] = "",
        role: FromQuery[str] = "",
        active: FromQuery[str] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=100_000)] = 1,
    ) -> Template:
        unit, role, active = unit.strip(), role.strip(), active.strip()
        code = unit_code(unit) if unit else None
        if unit and code is None:
            raise BadRequest("区划代码应为 2、4、6、9、12 或 15 位数字", rule="unit")
        if role and role not in ROLE_NAMES:
            raise BadRequest("请选择列表中的岗位", rule="role")
        if active and active not in ACTIVE_CHOICES:
            raise BadRequest("状态只能是在用或已停用", rule="active")
        query = services.StaffQuery(unit=code, role=role or None, active=None if not active else active == "1")
        found = await services.search(
            db_session, page_actor, query, limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE
        )
        shown = await services.staff_reads(db_session, page_actor, found[:PAGE_SIZE])
        filters = {"unit": code or unit, "role": role, "active": active}
        return render(
            "staff/list.html", page_actor, staff=shown, filters=filters, role_names=ROLE_NAMES,
            active_choices=ACTIVE_CHOICES, page_number=page_number, has_next=len(found) > PAGE_SIZE,
            query=urlencode({key: value for key, value in filters.items() if value}),
        )  # fmt: skip

    @get("/new", opt=MANAGE)
    async def new_staff(
        self, db_session: NamedDependency[AsyncSession], page_actor: NamedDependency[Actor], unit: FromQuery[str] = ""
    ) -> Template:
        form = StaffForm(unit=unit_code(unit.strip()) or page_actor.unit_code)
        return await _staff_form(db_session, page_actor, form)

    @post("/", opt=MANAGE)
    async def create_staff(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[StaffForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        witness: NamedDependency[Witness],
    ) -> Template | Redirect:
        form = data.cleaned()
        errors = staff_errors(form)
        if errors:
            return await _staff_form(db_session, page_actor, form, errors=errors, status_code=400)
        request_id = request_id_of(request)
        detail = {"username": form.username, "unit": unit_code(form.unit), "roles": [form.role]}
        entry = page_actor.audit_entry("staff.add", request_id=request_id, detail=detail)
        try:
            async with rejections_audited(db_session, entry):
                created = staff_create(form)
                staff = await services.enrol(db_session, page_actor, created, co_signed(witness, created.co_signer))
        except FuquanError as problem:  # audited and committed; the form again with the reason, password cleared
            form = StaffForm(username=form.username, display_name=form.display_name, unit=form.unit, role=form.role)
            return await _staff_form(db_session, page_actor, form, problem=problem, status_code=problem.status)
        return Redirect(f"/staff/{staff.id}?done=created", status_code=303)

    @get("/{staff_id:int}", opt=MANAGE)
    async def person(
        self,
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        done: FromQuery[str] = "",
    ) -> Template:
        return await _person_page(db_session, page_actor, staff_id, done=done)

    async def _act(
        self,
        session: AsyncSession,
        actor: Actor,
        staff_id: int,
        entry: AuditEntry,
        work: Callable[[], Awaitable[object]],
        done: str,
    ) -> Template | Redirect:
        """Run one action on a person (a refusal audited and shown on their page with its status)."""
        try:
            async with rejections_audited(session, entry):
                await work()
        except FuquanError as problem:
            return await _person_page(session, actor, staff_id, problem=problem, status_code=problem.status)
        return Redirect(f"/staff/{staff_id}?done={done}", status_code=303)

    @post("/{staff_id:int}/disable", opt=MANAGE)
    async def disable(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> Template | Redirect:
        request_id = request_id_of(request)
        entry = page_actor.audit_entry("staff.disable", resource=f"staff:{staff_id}", request_id=request_id)
        work = partial(services.set_active, db_session, page_actor, staff_id, False, logins, request_id)
        return await self._act(db_session, page_actor, staff_id, entry, work, "disabled")

    @post("/{staff_id:int}/enable", opt=MANAGE)
    async def enable(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> Template | Redirect:
        request_id = request_id_of(request)
        entry = page_actor.audit_entry("staff.enable", resource=f"staff:{staff_id}", request_id=request_id)
        work = partial(services.set_active, db_session, page_actor, staff_id, True, logins, request_id)
        return await self._act(db_session, page_actor, staff_id, entry, work, "enabled")

    @post("/{staff_id:int}/password", opt=MANAGE)
    async def reset_password(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        data: Annotated[PasswordForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
        witness: NamedDependency[Witness],
    ) -> Template | Redirect:
        request_id = request_id_of(request)
        entry = page_actor.audit_entry("staff.password_reset", resource=f"staff:{staff_id}", request_id=request_id)
        witness = co_signed(witness, data.co_signer())
        work = partial(services.reset_password, db_session, page_actor, staff_id, data.password, logins, witness)
        return await self._act(db_session, page_actor, staff_id, entry, work, "password")

    @post("/{staff_id:int}/roles", opt=MANAGE)
    async def assign_role(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        data: Annotated[RoleForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
        witness: NamedDependency[Witness],
    ) -> Template | Redirect:
        role = _role(data)
        request_id = request_id_of(request)
        entry = page_actor.audit_entry(
            "staff.role_assign", resource=f"staff:{staff_id}", request_id=request_id, detail={"role": role}
        )
        witness = co_signed(witness, data.co_signer())
        work = partial(services.assign_role, db_session, page_actor, staff_id, role, logins, witness)
        return await self._act(db_session, page_actor, staff_id, entry, work, "role_assigned")

    @post("/{staff_id:int}/roles/remove", opt=MANAGE)
    async def remove_role(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        data: Annotated[RoleForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> Template | Redirect:
        role = _role(data)
        request_id = request_id_of(request)
        entry = page_actor.audit_entry(
            "staff.role_remove", resource=f"staff:{staff_id}", request_id=request_id, detail={"role": role}
        )
        work = partial(services.remove_role, db_session, page_actor, staff_id, role, logins, request_id)
        return await self._act(db_session, page_actor, staff_id, entry, work, "role_removed")

    @post("/{staff_id:int}/unlock", opt=MANAGE)
    async def unlock(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> Template | Redirect:
        request_id = request_id_of(request)
        entry = page_actor.audit_entry("staff.unlock", resource=f"staff:{staff_id}", request_id=request_id)
        work = partial(services.unlock, db_session, page_actor, staff_id, login_throttle, request_id)
        return await self._act(db_session, page_actor, staff_id, entry, work, "unlocked")

    @post("/{staff_id:int}/second-factor/reset", opt=MANAGE)
    async def reset_second_factor(
        self,
        request: Request[Any, Any, Any],
        staff_id: RowId,
        data: Annotated[FactorForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        witness: NamedDependency[Witness],
    ) -> Template | Redirect:
        request_id = request_id_of(request)
        entry = page_actor.audit_entry("auth.second_factor.reset", resource=f"staff:{staff_id}", request_id=request_id)
        work = partial(services.reset_factor, db_session, page_actor, staff_id, co_signed(witness, data.co_signer()))
        return await self._act(db_session, page_actor, staff_id, entry, work, "factor_reset")


def _role(form: RoleForm) -> str:
    if form.role not in ROLE_NAMES:
        raise BadRequest("请选择列表中的岗位", rule="role")
    return form.role
