"""Supervision endpoint (/api/v1/supervision…): the dashboard the supervision page draws."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision import services
from fuquan.platform.supervision.schemas import DashboardRead

# a division code (2, 4, 6, 9, 12 or 15 digits); a well-formed code outside the caller's subtree is a 404
UnitCode = Annotated[str | None, QueryParameter(pattern=r"^\d{2,15}$", description="单位区划代码，默认为本人所在单位")]


class SupervisionController(Controller):
    path = "/api/v1/supervision"
    tags = ["supervision 电子监察"]

    @get("/dashboard", summary="电子监察看板：办件状态、预警与逾期、按时办结率、好差评",
         opt={"permission": "supervision.read"})  # fmt: skip
    async def dashboard(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], unit: UnitCode = None
    ) -> DashboardRead:
        """Figures of the unit's subtree, per child unit (rolled up over its own subtree) and in total, with the
        red (逾期) and yellow (预警) lists; signals as the case API computes them today."""
        return await services.dashboard(db_session, actor, unit, utcnow())
