"""Web pages: 我的消息 — every staff member's inbox (what needs me now), and the unread count in the header.

The header asks ``/inbox/badge`` after the page has loaded (htmx), so no page waits for the count.
"""

from __future__ import annotations

from typing import Annotated, Final

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import SELF, Actor
from fuquan.platform.core.params import RowId
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.notifications.services import inbox
from fuquan.platform.web.inbox.views import inbox_rows
from fuquan.platform.web.pages import PageController, page, render

OWN: Final = page(SELF)
PAGE_SIZE: Final = 50


class InboxPagesController(PageController):
    path = "/inbox"

    @get("/", opt=OWN)
    async def list_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        offset: FromQuery[Annotated[int, QueryParameter(ge=0, le=1_000_000)]] = 0,
    ) -> Template:  # fmt: skip
        found = await inbox.inbox(db_session, actor, unread_only=False, limit=PAGE_SIZE, offset=offset)
        return render("inbox/list.html", actor, page=found, rows=inbox_rows(found.items, actor.scope.timezone),
                      offset=offset, size=PAGE_SIZE)  # fmt: skip

    @get("/badge", opt=OWN)
    async def badge(self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]) -> Template:
        return render("inbox/badge.html", actor, unread=await inbox.unread(db_session, actor))

    @post("/{item_id:int}/read", opt=OWN, status_code=303)
    async def read_one(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], item_id: FromPath[RowId],
        next_page: FromQuery[Annotated[str, QueryParameter(max_length=256)]] = "/inbox",
    ) -> Redirect:  # fmt: skip
        await inbox.mark_read(db_session, actor, item_id, utcnow())
        return Redirect(
            next_page if next_page.startswith("/") and not next_page.startswith("//") else "/inbox", status_code=303
        )

    @post("/read", opt=OWN, status_code=303)
    async def read_all(self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]) -> Redirect:
        await inbox.mark_read(db_session, actor, None, utcnow())
        return Redirect("/inbox", status_code=303)
