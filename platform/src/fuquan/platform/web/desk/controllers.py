"""Web pages: 前台受理与后台审批. (Skeleton: being built.)"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.web.pages import PageController, page, render


class DeskController(PageController):
    path = "/desk"

    @get("/", opt=page("cases.handle"))
    async def index(self, page_actor: NamedDependency[Actor]) -> Template:
        return render("error.html", page_actor, title="前台受理与后台审批", message="建设中")
