"""Web pages: the case page. (Skeleton: being built.)"""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.web.pages import PageController, page, render


class CasePagesController(PageController):
    path = "/cases"

    @get("/{case_id:int}", opt=page("cases.read"))
    async def case_page(self, case_id: FromPath[int], page_actor: NamedDependency[Actor]) -> Template:
        return render("error.html", page_actor, title=f"办件 {case_id}", message="建设中")
