"""Web pages: 电子监察 — the supervisor's dashboard of their subtree, drilling down unit by unit."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision.services import followups
from fuquan.platform.web.pages import PageController, page, render
from fuquan.platform.web.supervision.views import percent, supervision_page
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode


class SupervisionPagesController(PageController):
    path = "/supervision"

    @get("/", opt=page("supervision.read"))
    async def index(
        self,
        page_actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        unit: FromQuery[UnitCode | None] = None,
    ) -> Template:
        """The dashboard of ``unit`` (default: the supervisor's own unit): red and yellow lists, per-unit figures.
        Anything but a division code is a 400 page, a code outside the subtree the 404 page."""
        unit = None if unit is None else normalise_unit_code(unit)
        view = await supervision_page(db_session, page_actor, unit, utcnow())
        follow_ups = await followups.rates(db_session, page_actor, unit)
        return render("supervision/index.html", page_actor, view=view, board=view.board, percent=percent,
                      follow_ups=follow_ups)  # fmt: skip
