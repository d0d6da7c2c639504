"""Web pages: 机关与服务点 — a unit as the organ it signs notices as, and the places where residents are served in
its name (便民服务中心/站, and agent outlets such as bank branches and post offices).

The verbs are the API's (``organs.services``), audited the same way; a refused form shows the page again with the
server's reason and status (404 outside the subtree, 409, 422)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.organs import services
from fuquan.platform.organs.models import SERVICE_POINT_KINDS
from fuquan.platform.organs.schemas import OrganWrite, ServicePointWrite
from fuquan.platform.web.pages import PageController, page, refusal, render
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.organs import KINDS_BY_LEVEL, ORGAN_KIND_NAMES
from fuquan.tenants.schemas import UnitCode
from fuquan.tenants.services import get_unit, unit_ancestors, unit_subtree

FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
READ: Final = page("units.read")
MANAGE: Final = page("units.manage")
DONE: Final = {"organ": "机关名称已保存：此后打印的通知书以新名称出具。", "opened": "服务点已开设。",
               "closed": "服务点已撤销（记录保留）。"}  # fmt: skip


class OrganForm(msgspec.Struct, kw_only=True):
    organ_name: str = ""
    organ_kind: str = ""


class PointForm(msgspec.Struct, kw_only=True):
    kind: str = "center"
    name: str = ""
    address: str = ""
    hours: str = ""
    phone: str = ""
    latitude: str = ""
    longitude: str = ""


async def _page(
    session: AsyncSession, actor: Actor, code: str, *, done: str = "", problem: FuquanError | None = None,
    point_form: PointForm | None = None, status_code: int = 200,
) -> Template:  # fmt: skip
    unit = await get_unit(session, actor.scope, code)
    ancestors = [a for a in await unit_ancestors(session, actor.scope.whole(), code) if actor.scope.covers(a.code)]
    below = await unit_subtree(session, actor.scope, code, max_level=unit.level + 1)
    return render(
        "units/index.html", actor, status_code=status_code, unit=unit, ancestors=ancestors,
        children=[child for child in below if child.level == unit.level + 1],
        organ=await services.organ(session, actor.scope, code),
        points=await services.service_points(session, actor.scope, code, include_closed=True),
        kinds={kind: ORGAN_KIND_NAMES[kind] for kind in KINDS_BY_LEVEL[unit.level]},
        point_kinds=SERVICE_POINT_KINDS, done=DONE.get(done, ""), problem=problem,
        point_form=point_form or PointForm(), manage="units.manage" in actor.permissions,
    )  # fmt: skip


class UnitPagesController(PageController):
    path = "/units"

    @get("/", opt=READ)
    async def mine(self, actor: NamedDependency[Actor]) -> Redirect:
        return Redirect(f"{self.path}/{actor.unit_code}", status_code=303)

    @get("/{code:str}", opt=READ)
    async def show(
        self, code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        done: FromQuery[Annotated[str, msgspec.Meta(max_length=16)]] = "",
    ) -> Template:  # fmt: skip
        return await _page(db_session, actor, normalise_unit_code(code), done=done)

    @post("/{code:str}/organ", opt=MANAGE, status_code=303)
    async def name_organ(
        self, request: Request[Any, Any, Any], code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: Annotated[OrganForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        unit, request_id = normalise_unit_code(code), request_id_of(request)
        fields = {"organ_name": data.organ_name.strip() or None, "organ_kind": data.organ_kind or None}
        entry = actor.audit_entry("unit.organ_named", resource=f"unit:{unit}", request_id=request_id, detail=fields)

        async def work() -> None:
            async with rejections_audited(db_session, entry):  # refused, as through the API: audited
                await services.name_organ(db_session, actor, unit, msgspec.convert(fields, OrganWrite), request_id)

        refused = await _refused(db_session, actor, unit, work)
        return refused or Redirect(f"{self.path}/{unit}?done=organ", status_code=303)

    @post("/{code:str}/service-points", opt=MANAGE, status_code=303)
    async def open_point(
        self, request: Request[Any, Any, Any], code: FromPath[UnitCode], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: Annotated[PointForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        unit = normalise_unit_code(code)

        async def work() -> None:
            point = msgspec.convert(_point_fields(data), ServicePointWrite, strict=False)
            await services.open_service_point(db_session, actor, unit, point, request_id_of(request))

        refused = await _refused(db_session, actor, unit, work, point_form=data)
        return refused or Redirect(f"{self.path}/{unit}?done=opened", status_code=303)

    @post("/{code:str}/service-points/{point_id:int}/close", opt=MANAGE, status_code=303)
    async def close_point(
        self, request: Request[Any, Any, Any], code: FromPath[UnitCode], point_id: RowId,
        db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
    ) -> Redirect:  # fmt: skip
        unit = normalise_unit_code(code)
        await services.close_service_point(db_session, actor, point_id, request_id_of(request))
        return Redirect(f"{self.path}/{unit}?done=closed", status_code=303)


async def _refused(
    session: AsyncSession, actor: Actor, unit: str, work: Callable[[], Awaitable[None]], **form: Any
) -> Template | None:
    """None when ``work`` went through; else the page again, with the server's reason and what was typed."""
    try:
        await work()
    except (FuquanError, msgspec.ValidationError) as error:
        problem = refusal(error)
        await session.rollback()
        return await _page(session, actor, unit, problem=problem, status_code=problem.status, **form)
    return None


def _point_fields(data: PointForm) -> dict[str, Any]:
    """The form's strings as the API's body: empty optional fields absent, coordinates as numbers."""
    fields: dict[str, Any] = {"kind": data.kind, "name": data.name.strip(), "address": data.address.strip(),
                              "hours": data.hours.strip()}  # fmt: skip
    for name in ("phone", "latitude", "longitude"):
        value = getattr(data, name).strip()
        if value:
            fields[name] = value
    return fields
