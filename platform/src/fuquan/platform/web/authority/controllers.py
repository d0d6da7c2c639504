"""Web pages: 赋权管理. (Skeleton: being built.)"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.web.pages import PageController, page, render


class AuthorityPagesController(PageController):
    path = "/authority"

    @get("/", opt=page("authority.read"))
    async def index(self, page_actor: NamedDependency[Actor]) -> Template:
        return render("error.html", page_actor, title="赋权管理", message="建设中")
