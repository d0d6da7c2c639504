"""Web pages: 督办单 — a supervisor issues one from a case or an escalation page, the ordered unit's head replies in
writing, the supervisor accepts or returns the reply; the list shows what the caller's subtree received and issued.

Every verb is ``supervision.services.orders``' own, audited in its transaction; a refused one shows the page again
with the server's reason and status."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import FuquanError, ValidationFailed
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_date, local_time, utcnow
from fuquan.platform.supervision.schemas import OrderReply, OrderReview, OrderWrite
from fuquan.platform.supervision.services import orders
from fuquan.platform.web.forms import whole_number
from fuquan.platform.web.pages import PageController, page, refusal, render

READ: Final = page("supervision.read")
ACT: Final = page("supervision.act")
REPLY: Final = page("supervision.reply")
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
STATUSES: Final = (("issued", "待答复"), ("replied", "待审核"), ("closed", "已办结"))


class OrderForm(msgspec.Struct, kw_only=True):
    case_id: str = ""
    escalation_id: str = ""
    unit: str = ""
    demand: str = ""
    due_on: str = ""


class ReplyForm(msgspec.Struct, kw_only=True):
    version: str = ""
    reply: str = ""


class ReviewForm(msgspec.Struct, kw_only=True):
    version: str = ""
    outcome: str = ""
    note: str = ""
    due_on: str = ""


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


async def _detail(
    session: AsyncSession,
    actor: Actor,
    order_id: int,
    *,
    problem: FuquanError | None = None,
    reply: ReplyForm | None = None,
    review: ReviewForm | None = None,
    done: str | None = None,
) -> Template:
    found = await orders.order(session, actor, order_id)
    tz = actor.scope.timezone
    steps = [(local_time(step.at, tz), step) for step in found.steps]
    may_reply = found.status == "issued" and "supervision.reply" in actor.permissions and actor.unit_code == found.unit
    may_review = found.status == "replied" and "supervision.act" in actor.permissions and actor.unit_code != found.unit
    return render("orders/detail.html", actor, status_code=problem.status if problem else 200, o=found, steps=steps,
                  problem=problem, reply=reply or ReplyForm(), review=review or ReviewForm(), done=done,
                  may_reply=may_reply, may_review=may_review)  # fmt: skip


class OrderPagesController(PageController):
    path = "/supervision/orders"

    @get("/", opt=READ)
    async def list_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], status: FromQuery[str] = "",
        case_id: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        chosen = status if status in dict(STATUSES) else None
        found = await orders.orders(db_session, actor, chosen, whole_number(case_id), None)
        return render("orders/list.html", actor, orders=found, status=chosen or "", statuses=STATUSES)

    @get("/new", opt=ACT)
    async def new_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        case_id: FromQuery[str] = "", escalation_id: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        due = local_date(utcnow(), actor.scope.timezone) + timedelta(days=3)
        form = OrderForm(case_id=case_id, escalation_id=escalation_id, due_on=due.isoformat())
        return render("orders/new.html", actor, form=form, problem=None)

    @post("/", opt=ACT, status_code=303)
    async def issue(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: Annotated[OrderForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            due = _day(data.due_on)
            if due is None or not data.demand.strip():
                raise ValidationFailed("请写明督办事项和要求，并选择答复期限", rule="required")
            fields = {"case_id": whole_number(data.case_id), "escalation_id": whole_number(data.escalation_id),
                      "unit": data.unit.strip() or None, "demand": data.demand.strip(), "due_on": due}  # fmt: skip
            made = await orders.issue(db_session, actor, msgspec.convert(fields, OrderWrite), utcnow(),
                                      request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            problem = refusal(error)
            return render("orders/new.html", actor, status_code=problem.status, form=data, problem=problem)
        return Redirect(f"{self.path}/{made.id}?done=issued", status_code=303)

    @get("/{order_id:int}", opt=READ)
    async def detail(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], order_id: FromPath[RowId],
        done: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        notice = {"issued": "督办单已下发，被督办单位负责人已收到消息。", "replied": "已书面答复，监察人员已收到消息。",
                  "reviewed": "已审核。"}.get(done)  # fmt: skip
        return await _detail(db_session, actor, order_id, done=notice)

    @post("/{order_id:int}/reply", opt=REPLY, status_code=303)
    async def reply(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], order_id: FromPath[RowId], data: Annotated[ReplyForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            if not data.reply.strip():
                raise ValidationFailed("请填写书面答复", rule="required")
            answer = msgspec.convert({"version": whole_number(data.version) or 0, "reply": data.reply.strip()},
                                     OrderReply)  # fmt: skip
            await orders.reply(db_session, actor, order_id, answer, utcnow(), request_id_of(request))
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            return await _detail(db_session, actor, order_id, problem=refusal(error), reply=data)
        return Redirect(f"{self.path}/{order_id}?done=replied", status_code=303)

    @post("/{order_id:int}/review", opt=ACT, status_code=303)
    async def review(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], order_id: FromPath[RowId], data: Annotated[ReviewForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            fields = {"version": whole_number(data.version) or 0, "outcome": data.outcome,
                      "note": data.note.strip() or None, "due_on": _day(data.due_on)}  # fmt: skip
            await orders.review(db_session, actor, order_id, msgspec.convert(fields, OrderReview), utcnow(),
                                request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            return await _detail(db_session, actor, order_id, problem=refusal(error), review=data)
        return Redirect(f"{self.path}/{order_id}?done=reviewed", status_code=303)
