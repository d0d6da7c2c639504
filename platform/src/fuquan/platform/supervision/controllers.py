"""Supervision endpoint (/api/v1/supervision…): the dashboard the supervision page draws."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision import services
from fuquan.platform.supervision.schemas import (
    DashboardRead,
    FollowUpRates,
    FollowUpRead,
    FollowUpSettings,
    FollowUpStep,
)
from fuquan.platform.supervision.services import followups
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode


class SupervisionController(Controller):
    path = "/api/v1/supervision"
    tags = ["supervision 电子监察"]

    @get("/dashboard", summary="电子监察看板：办件状态、预警与逾期、按时办结率、好差评",
         opt={"permission": "supervision.read"})  # fmt: skip
    async def dashboard(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        unit: FromQuery[UnitCode | None] = None,
    ) -> DashboardRead:
        """Figures of the unit's subtree (default: the caller's own unit; outside the caller's subtree: 404), per
        child unit (rolled up over its own subtree) and in total, with the red (逾期) and yellow (预警) lists;
        signals as the case API computes them today."""
        unit = None if unit is None else normalise_unit_code(unit)
        return await services.dashboard(db_session, actor, unit, utcnow())

    @get("/follow-ups", summary="差评整改（本单位及下级）", opt={"permission": "cases.read"})
    async def follow_ups(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[Literal["open", "called_back", "rectified", "replied", "closed"] | None] = None,
    ) -> list[FollowUpRead]:  # fmt: skip
        return await followups.follow_ups(db_session, actor, status, 200)

    @post("/follow-ups/{follow_up_id:int}/steps", summary="回访、整改、答复申请人、复核", status_code=200,
          opt={"permission": "cases.read"})  # fmt: skip
    async def follow_up_step(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], follow_up_id: FromPath[RowId], data: JSONBody[FollowUpStep],
    ) -> FollowUpRead:  # fmt: skip
        return await followups.take_step(db_session, actor, follow_up_id, data, utcnow(), request_id_of(request))

    @get("/follow-ups/rates", summary="差评回访率和整改率（按下级单位）", opt={"permission": "supervision.read"})
    async def follow_up_rates(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        unit: FromQuery[UnitCode | None] = None,
    ) -> list[FollowUpRates]:  # fmt: skip
        return await followups.rates(db_session, actor, None if unit is None else normalise_unit_code(unit))

    @get("/settings", summary="电子监察设置（差评整改时限）", opt={"permission": "supervision.read"})
    async def get_settings(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> FollowUpSettings:
        return await followups.settings(db_session, actor)

    @put("/settings", summary="修改差评整改时限（留痕）", opt={"permission": "supervision.manage"})
    async def set_settings(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: JSONBody[FollowUpSettings],
    ) -> FollowUpSettings:  # fmt: skip
        return await followups.set_settings(db_session, actor, data, request_id_of(request))
