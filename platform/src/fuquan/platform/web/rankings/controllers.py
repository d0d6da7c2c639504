"""Web page: 流动红旗 and 服务之星 — everyone sees the rankings published for their unit and the units above it; a
supervisor previews a finished month's ranking beneath their unit and publishes it (``supervision.services.rankings``,
audited; a refused one shows the page again with the server's reason)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.supervision.schemas import RankingRead, RankingWrite
from fuquan.platform.supervision.services import rankings
from fuquan.platform.web.pages import PageController, page, refusal, render
from fuquan.platform.web.supervision.views import percent

READ: Final = page("cases.read")
ACT: Final = page("supervision.act")
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)


class PublishForm(msgspec.Struct, kw_only=True):
    month: str = ""
    kind: str = ""
    note: str = ""


def _last_month(actor: Actor) -> str:
    return f"{local_date(utcnow(), actor.scope.timezone).replace(day=1) - timedelta(days=1):%Y-%m}"


async def _page(session: AsyncSession, actor: Actor, month: str, kind: str, *, problem: FuquanError | None = None,
                note: str = "") -> Template:  # fmt: skip
    chosen: rankings.Kind = "star" if kind == "star" else "flag"
    preview: RankingRead | None = None
    if "supervision.read" in actor.permissions:
        preview = await rankings.preview(session, actor, None, month, chosen)
    published = await rankings.published(session, actor)
    already = preview is not None and any(
        (r.unit, r.month, r.kind) == (preview.unit, preview.month, preview.kind) for r in published
    )
    return render("supervision/rankings.html", actor, status_code=problem.status if problem else 200,
                  published=published, already=already, preview=preview, month=month, kind=chosen,
                  problem=problem, note=note, percent=percent, kinds=rankings.KIND_NAMES)  # fmt: skip


class RankingPagesController(PageController):
    path = "/supervision/rankings"

    @get("/", opt=READ)
    async def rankings_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], month: FromQuery[str] = "",
        kind: FromQuery[str] = "flag",
    ) -> Template:  # fmt: skip
        return await _page(db_session, actor, month.strip() or _last_month(actor), kind)

    @post("/", opt=ACT, status_code=303)
    async def publish(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: Annotated[PublishForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            fields = {"month": data.month.strip(), "kind": data.kind, "note": data.note.strip() or None}
            await rankings.publish(db_session, actor, msgspec.convert(fields, RankingWrite), utcnow(),
                                   request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            problem = refusal(error)
            return await _page(db_session, actor, data.month.strip() or _last_month(actor), data.kind,
                               problem=problem, note=data.note)  # fmt: skip
        return Redirect(f"{self.path}?month={data.month.strip()}&kind={data.kind}", status_code=303)
