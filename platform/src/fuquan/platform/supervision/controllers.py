"""Supervision endpoint (/api/v1/supervision…): the dashboard the supervision page draws."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision import services
from fuquan.platform.supervision.schemas import DashboardRead
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
