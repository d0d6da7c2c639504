"""Web pages: 收件（网格员、代办员）. (Skeleton: being built.)"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.web.pages import PageController, page, render


class IntakeController(PageController):
    path = "/intake"

    @get("/", opt=page("cases.create"))
    async def index(self, page_actor: NamedDependency[Actor]) -> Template:
        return render("error.html", page_actor, title="收件（网格员、代办员）", message="建设中")
