"""Web pages: 电子监察 — the supervisor's dashboard of their subtree, drilling down unit by unit."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.web.pages import PageController, page, render
from fuquan.platform.web.supervision.services import percent, supervision_page

# a division code; anything else is a 400 page, a well-formed code outside the subtree the 404 page
UnitCode = Annotated[str | None, QueryParameter(pattern=r"^\d{2,15}$")]


class SupervisionPagesController(PageController):
    path = "/supervision"

    @get("/", opt=page("supervision.read"))
    async def index(
        self, page_actor: NamedDependency[Actor], db_session: NamedDependency[AsyncSession], unit: UnitCode = None
    ) -> Template:
        """The dashboard of ``unit`` (default: the supervisor's own unit): red and yellow lists, per-unit figures."""
        view = await supervision_page(db_session, page_actor, unit, utcnow())
        return render("supervision/index.html", page_actor, view=view, board=view.board, percent=percent)
