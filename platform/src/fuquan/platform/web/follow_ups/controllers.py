"""Web pages: 差评整改 — the follow-ups of poor ratings and complaints of the caller's subtree; the handling unit
calls the resident back, rectifies and replies, and a supervisor above reviews. Each step is
``supervision.services.followups``' own, audited; a refused one shows the page again with the server's reason."""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision.schemas import FollowUpStep
from fuquan.platform.supervision.services import followups
from fuquan.platform.web.forms import whole_number
from fuquan.platform.web.pages import PageController, page, refusal, render

READ: Final = page("cases.read")
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)


class StepForm(msgspec.Struct, kw_only=True):
    action: str = ""
    version: str = ""
    note: str = ""
    outcome: str = ""


async def _detail(session: AsyncSession, actor: Actor, follow_up_id: int, *, problem: FuquanError | None = None,
                  form: StepForm | None = None, done: str | None = None) -> Template:  # fmt: skip
    found = await followups.follow_up(session, actor, follow_up_id)
    action = followups.next_action(found.status)
    if action == "review":
        allowed = "supervision.read" in actor.permissions and actor.unit_code != found.unit
    else:
        allowed = action is not None and actor.unit_code == found.unit
    return render("follow_ups/detail.html", actor, status_code=problem.status if problem else 200, f=found,
                  action=action if allowed else None, action_name=followups.NAMES.get(action or "", ""),
                  problem=problem, form=form or StepForm(), done=done)  # fmt: skip


class FollowUpPagesController(PageController):
    path = "/supervision/follow-ups"

    @get("/", opt=READ)
    async def list_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], status: FromQuery[str] = ""
    ) -> Template:
        chosen = status if status in followups.STATUS_NAMES else None
        found = await followups.follow_ups(db_session, actor, chosen, 200)
        return render("follow_ups/list.html", actor, follow_ups=found, status=chosen or "",
                      statuses=followups.STATUS_NAMES)  # fmt: skip

    @get("/{follow_up_id:int}", opt=READ)
    async def detail(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        follow_up_id: FromPath[RowId], done: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        return await _detail(db_session, actor, follow_up_id, done="已办理。" if done == "step" else None)

    @post("/{follow_up_id:int}/steps", opt=READ, status_code=303)
    async def step(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], follow_up_id: FromPath[RowId], data: Annotated[StepForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            fields = {"action": data.action, "version": whole_number(data.version) or 0,
                      "note": data.note.strip() or None, "outcome": data.outcome or None}  # fmt: skip
            await followups.take_step(db_session, actor, follow_up_id, msgspec.convert(fields, FollowUpStep),
                                      utcnow(), request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            problem = refusal(error)
            return await _detail(db_session, actor, follow_up_id, problem=problem, form=data)
        return Redirect(f"{self.path}/{follow_up_id}?done=step", status_code=303)
