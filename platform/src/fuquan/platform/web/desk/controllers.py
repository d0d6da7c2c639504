"""Web pages: 前台受理 (front desk) and 后台审批 (back office) queues of the person's unit.

Each row links to the case page, where the steps are taken; the queues themselves only read.
"""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.web.desk.views import queue
from fuquan.platform.web.pages import PageController, page, render

PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=10_000)]


class DeskController(PageController):
    path = "/desk"

    @get("/", opt=page("cases.handle"))
    async def index(
        self,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        calendar: NamedDependency[WorkingCalendar],
        status: FromQuery[str] = "todo",
        page_no: PageNumber = 1,
    ) -> Template:
        """前台受理: submitted cases to accept, refuse or send back for supplement; decided ones to issue."""
        view = await queue(db_session, page_actor, catalog, calendar, "front", status, page_no)
        return render("desk/queue.html", page_actor, view=view)

    @get("/back", opt=page("cases.handle"))
    async def back_office(
        self,
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        calendar: NamedDependency[WorkingCalendar],
        status: FromQuery[str] = "todo",
        page_no: PageNumber = 1,
    ) -> Template:
        """后台审批: cases routed to this unit to decide, including those in a special procedure."""
        view = await queue(db_session, page_actor, catalog, calendar, "back", status, page_no)
        return render("desk/queue.html", page_actor, view=view)
