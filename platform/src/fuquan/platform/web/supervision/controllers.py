"""Web pages: 电子监察. (Skeleton: being built.)"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.web.pages import PageController, page, render


class SupervisionPagesController(PageController):
    path = "/supervision"

    @get("/", opt=page("supervision.read"))
    async def index(self, page_actor: NamedDependency[Actor]) -> Template:
        return render("error.html", page_actor, title="电子监察", message="建设中")
