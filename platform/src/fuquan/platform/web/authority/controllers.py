"""Web pages: 赋权管理 — the authority matrix, grants (new, list, one, revoke) and “why can / can't”.

The verbs are the API's (authority.services.delegate / revoke), audited the same way; a broken rule
re-renders the form with the server's reason and status (422 rule, 409 conflict, 404 out of scope).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.services.reads import search_grants
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.errors import BadRequest, FuquanError
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import as_utc, local_date, utcnow
from fuquan.platform.web.authority import views
from fuquan.platform.web.authority.schemas import (
    ACTIONS,
    GrantForm,
    RevokeForm,
    grant_create,
    grant_errors,
    reason_error,
    unit_field,
)
from fuquan.platform.web.pages import PageController, page, render
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.services import find_unit, get_unit

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
PAGE_SIZE = 50
STATUSES = tuple(views.STATUS_LABELS)
# which field a broken rule of DESIGN §6.1 is about, so the reason shows next to it too
RULE_FIELDS = {
    "target_below_grantor": "unit",
    "floor": "unit",
    "target_in_parent_scope": "unit",
    "grantor_holds": "item",
    "redelegable": "item",
    "within_parent_window": "valid_until",
    "window_order": "valid_until",
}


def _action(action: str) -> str:
    if action not in ACTIONS:
        raise BadRequest("权限类型只能是“受理”（accept）或“办理（审批）”（decide）", rule="action")
    return action


async def _grant_form(
    session: AsyncSession,
    actor: Actor,
    catalog: Catalog,
    form: GrantForm,
    *,
    errors: dict[str, str] | None = None,
    problem: FuquanError | None = None,
    status_code: int = 200,
) -> Template:
    """The grant form with the rules beside the fields; loaded afresh (a rejected attempt was rolled back)."""
    target = None
    if code := unit_field(form.unit):
        target = await find_unit(session, actor.scope, code)
    field_errors = dict(errors or {})
    if problem is not None and problem.rule in RULE_FIELDS:
        field_errors.setdefault(RULE_FIELDS[problem.rule], problem.detail)
    own = await get_unit(session, actor.scope, actor.unit_code)
    return render(
        "authority/grant_form.html",
        actor,
        status_code=status_code,
        form=form,
        errors=field_errors,
        problem=problem,
        items=[(code, views.item_label(catalog.items[code])) for code in sorted(catalog.items)],
        units=await views.unit_options(session, actor, include_self=False),
        target=target,
        own=own,
        held=await views.held_rights(session, actor, catalog),
        labels=views,
    )


class AuthorityPagesController(PageController):
    path = "/authority"

    @get("/", opt=page("authority.read"))
    async def matrix(
        self,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        unit: FromQuery[str] = "",
        action: FromQuery[str] = "accept",
    ) -> Template:
        unit = unit.strip()
        code = normalise_unit_code(unit) if unit else page_actor.unit_code  # not a code: a 400 page
        matrix = await views.matrix_page(db_session, page_actor, catalog, authority_registry, code, _action(action))
        return render("authority/matrix.html", page_actor, page=matrix, labels=views)

    @get("/grants/new", opt=page("grants.manage"))
    async def new_grant(
        self,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        unit: FromQuery[str] = "",
        item: FromQuery[str] = "",
        action: FromQuery[str] = "accept",
    ) -> Template:
        today = local_date(utcnow(), page_actor.scope.timezone).isoformat()
        form = GrantForm(unit=unit, item=item, action=action, valid_from=today).cleaned()
        return await _grant_form(db_session, page_actor, catalog, form)

    @post("/grants", opt=page("grants.manage"))
    async def create_grant(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[GrantForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template | Redirect:
        form = data.cleaned()
        errors = grant_errors(form, set(catalog.items))
        if errors:
            return await _grant_form(db_session, page_actor, catalog, form, errors=errors, status_code=400)
        grant_request = grant_create(form)
        request_id = request_id_of(request)
        detail = {"item": grant_request.item, "action": grant_request.action, "unit": grant_request.unit,
                  "scope": grant_request.scope}  # fmt: skip
        entry = page_actor.audit_entry("grant.create", request_id=request_id, detail=detail)
        try:
            async with rejections_audited(db_session, entry):
                grant = await authority.delegate(
                    db_session, page_actor, grant_request, catalog, authority_registry, request_id
                )
        except FuquanError as problem:  # the rejection is audited and committed; show the rule beside the form
            return await _grant_form(db_session, page_actor, catalog, form, problem=problem, status_code=problem.status)
        return Redirect(f"/authority/grants/{grant.id}", status_code=303)

    @get("/grants", opt=page("grants.read"))
    async def grants(
        self,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        unit: FromQuery[str] = "",
        item: FromQuery[str] = "",
        action: FromQuery[str] = "",
        status: FromQuery[str] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=100_000)] = 1,
    ) -> Template:
        scope = page_actor.scope
        unit, item = unit.strip(), item.strip()
        if unit:
            unit = normalise_unit_code(unit)  # not a code: a 400 page
        if action and action not in ACTIONS:
            raise BadRequest("权限类型只能是受理或办理（审批）", rule="action")
        if status and status not in STATUSES:
            raise BadRequest("状态只能是生效中、尚未生效、已到期或已撤销", rule="status")
        if item and item not in catalog.items:
            raise BadRequest(f"事项 {item} 不在目录中", rule="item")
        unit_row = await get_unit(db_session, scope, unit) if unit else None  # out of scope: 404
        rows = await search_grants(
            db_session, scope, unit=unit or None, item=item or None, action=action or None, status=status or None,
            now=utcnow(), limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE,
        )  # fmt: skip
        shown = await views.grant_views(db_session, scope, catalog, rows[:PAGE_SIZE])
        filters = {"unit": unit, "item": item, "action": action, "status": status}
        return render(
            "authority/grants.html", page_actor, grants=shown, filters=filters, unit=unit_row,
            items=[(code, catalog.items[code].name) for code in sorted(catalog.items)], labels=views,
            page_number=page_number, has_next=len(rows) > PAGE_SIZE,
            query=urlencode({key: value for key, value in filters.items() if value}),
        )  # fmt: skip

    @get("/grants/{grant_id:int}", opt=page("grants.read"))
    async def grant(
        self,
        grant_id: RowId,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template:
        return await self._grant_page(db_session, authority_registry, page_actor, catalog, grant_id)

    async def _grant_page(
        self,
        session: AsyncSession,
        registry: AuthorityRegistry,
        actor: Actor,
        catalog: Catalog,
        grant_id: int,
        *,
        reason: str = "",
        reason_problem: str | None = None,
        status_code: int = 200,
    ) -> Template:
        grant_page = await views.grant_page(session, actor, catalog, registry, grant_id)
        return render(
            "authority/grant.html", actor, status_code=status_code, page=grant_page, reason=reason,
            reason_problem=reason_problem, labels=views,
        )  # fmt: skip

    @post("/grants/{grant_id:int}/revoke", opt=page("grants.manage"))
    async def revoke(
        self,
        request: Request[Any, Any, Any],
        grant_id: RowId,
        data: Annotated[RevokeForm, FormBody],
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template | Redirect:
        problem = reason_error(data)
        reason = data.reason.strip()
        if problem is not None:
            return await self._grant_page(
                db_session, authority_registry, page_actor, catalog, grant_id, reason=reason, reason_problem=problem,
                status_code=400,
            )  # fmt: skip
        request_id = request_id_of(request)
        entry = page_actor.audit_entry(
            "grant.revoke", resource=f"grant:{grant_id}", request_id=request_id, detail={"reason": reason}
        )
        async with rejections_audited(db_session, entry):
            await authority.revoke(db_session, page_actor, grant_id, reason, catalog, authority_registry, request_id)
        return Redirect(f"/authority/grants/{grant_id}", status_code=303)

    @get("/explain", opt=page("authority.read"))
    async def explain(
        self,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        unit: FromQuery[str] = "",
        item: FromQuery[str] = "",
        action: FromQuery[str] = "accept",
        role: FromQuery[str] = "",
        at: FromQuery[str] = "",
    ) -> Template:
        unit, item, at = unit.strip(), item.strip(), at.strip()
        code = unit_field(unit)
        form = {"unit": code or unit, "item": item, "action": action, "role": role, "at": at}
        errors: dict[str, str] = {}
        if unit and code is None:
            errors["unit"] = "区划代码应为 2、4、6、9、12 或 15 位数字"
        if item and item not in catalog.items:
            errors["item"] = "请选择目录中的一个事项"
        if action not in ACTIONS:
            errors["action"] = "请选择受理或办理（审批）"
        if role and role not in views.ROLE_CHOICES:
            errors["role"] = "请选择列表中的岗位"
        when = utcnow()
        if at:
            try:
                when = as_utc(datetime.fromisoformat(at), page_actor.scope.timezone)
            except (ValueError, FuquanError):
                errors["at"] = "查询时间格式不对，例如 2026-03-01T09:30；留空表示现在"
        answer = None
        if code and item and not errors:
            answer = await views.explain(
                db_session, page_actor, catalog, authority_registry, unit_code=code, item_code=item,
                action=action, at=when, role=role or None,
            )  # fmt: skip
        return render(
            "authority/explain.html", page_actor, status_code=400 if errors else 200, form=form, errors=errors,
            answer=answer, units=await views.unit_options(db_session, page_actor, include_self=True),
            items=[(code, views.item_label(catalog.items[code])) for code in sorted(catalog.items)],
            roles=[(code, views.ROLE_NAMES[code]) for code in views.ROLE_CHOICES], labels=views,
        )  # fmt: skip
