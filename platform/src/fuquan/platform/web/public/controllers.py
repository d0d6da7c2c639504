"""Public pages (no login): progress lookup and rating. (Skeleton: being built.)"""

from __future__ import annotations

from litestar import get
from litestar.response import Template

from fuquan.platform.web.pages import OPEN, PageController, render


class ProgressPagesController(PageController):
    path = "/progress"

    @get("/", opt=OPEN)
    async def index(self) -> Template:
        return render("error.html", None, title="办件进度查询", message="建设中")
