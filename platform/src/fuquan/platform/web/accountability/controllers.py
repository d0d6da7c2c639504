"""Web pages: 责任追究 — a supervisor opens a record against a staff member citing cases, 督办单 and escalations; the
person concerned states their case; a supervisor decides the measure. A staff member sees the records about them.

Every verb is ``supervision.services.accountability``' own, audited in its transaction; a refused one shows the
page again with the server's reason and status."""

from __future__ import annotations

import re
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
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision.models import MEASURES
from fuquan.platform.supervision.schemas import AccountabilityDecision, AccountabilityStatement, AccountabilityWrite
from fuquan.platform.supervision.services import accountability
from fuquan.platform.web.forms import whole_number
from fuquan.platform.web.pages import PageController, page, refusal, render

MINE: Final = page("cases.read")  # anyone with a desk sees the records about them
ACT: Final = page("supervision.act")
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)
_SEPARATORS: Final = re.compile(r"[\s,，、;；]+")


class RecordForm(msgspec.Struct, kw_only=True):
    staff: str = ""
    reason: str = ""
    case_ids: str = ""
    order_ids: str = ""
    escalation_ids: str = ""


class StatementForm(msgspec.Struct, kw_only=True):
    version: str = ""
    statement: str = ""


class DecisionForm(msgspec.Struct, kw_only=True):
    version: str = ""
    measure: str = ""
    decision: str = ""


def ids(text: str, what: str) -> list[int]:
    """Numbers typed one after another (spaces, commas or 、 between); a clear 422 for anything else."""
    found = []
    for part in _SEPARATORS.split(text.strip()):
        if not part:
            continue
        number = whole_number(part)
        if number is None or number < 1:
            raise ValidationFailed(f"{what}编号“{part}”不是有效的编号，请只填数字，多个用逗号分开", rule="cited_ids")
        found.append(number)
    return found


async def _detail(session: AsyncSession, actor: Actor, record_id: int, *, problem: FuquanError | None = None,
                  statement: StatementForm | None = None, decision: DecisionForm | None = None,
                  done: str | None = None) -> Template:  # fmt: skip
    found = await accountability.record(session, actor, record_id)
    own = found.staff_username == actor.username
    may_decide = found.status == "open" and "supervision.act" in actor.permissions and not own
    return render("accountability/detail.html", actor, status_code=problem.status if problem else 200, r=found,
                  problem=problem, statement=statement or StatementForm(), decision=decision or DecisionForm(),
                  done=done, may_state=own and found.status == "open", may_decide=may_decide,
                  measures=MEASURES)  # fmt: skip


class AccountabilityPagesController(PageController):
    path = "/supervision/accountability"

    @get("/", opt=MINE)
    async def list_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], status: FromQuery[str] = ""
    ) -> Template:
        chosen = status if status in ("open", "decided") else None
        found = await accountability.records(db_session, actor, chosen)
        return render("accountability/list.html", actor, records=found, status=chosen or "")

    @get("/new", opt=ACT)
    async def new_page(
        self, actor: NamedDependency[Actor], case_id: FromQuery[str] = "", order_id: FromQuery[str] = "",
        escalation_id: FromQuery[str] = "", staff: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        form = RecordForm(staff=staff, case_ids=case_id, order_ids=order_id, escalation_ids=escalation_id)
        return render("accountability/new.html", actor, form=form, problem=None)

    @post("/", opt=ACT, status_code=303)
    async def open_record(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: Annotated[RecordForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            if not data.staff.strip() or not data.reason.strip():
                raise ValidationFailed("请填写被追究人员的账号和追究事由", rule="required")
            fields = {"staff": data.staff.strip(), "reason": data.reason.strip(),
                      "case_ids": ids(data.case_ids, "办件"), "order_ids": ids(data.order_ids, "督办单"),
                      "escalation_ids": ids(data.escalation_ids, "办不成事反映")}  # fmt: skip
            made = await accountability.open_record(db_session, actor, msgspec.convert(fields, AccountabilityWrite),
                                                    utcnow(), request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            problem = refusal(error)
            return render("accountability/new.html", actor, status_code=problem.status, form=data, problem=problem)
        return Redirect(f"{self.path}/{made.id}?done=opened", status_code=303)

    @get("/{record_id:int}", opt=MINE)
    async def detail(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], record_id: FromPath[RowId],
        done: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        notice = {"opened": "已发起，被追究人员已收到消息，可陈述申辩。", "stated": "陈述申辩已提交。",
                  "decided": "处理结果已作出，被追究人员已收到消息。"}.get(done)  # fmt: skip
        return await _detail(db_session, actor, record_id, done=notice)

    @post("/{record_id:int}/statement", opt=MINE, status_code=303)
    async def state(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], record_id: FromPath[RowId], data: Annotated[StatementForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            if not data.statement.strip():
                raise ValidationFailed("请填写陈述申辩的内容", rule="required")
            statement = msgspec.convert({"version": whole_number(data.version) or 0,
                                         "statement": data.statement.strip()}, AccountabilityStatement)  # fmt: skip
            await accountability.state(db_session, actor, record_id, statement, utcnow(), request_id_of(request))
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            return await _detail(db_session, actor, record_id, problem=refusal(error), statement=data)
        return Redirect(f"{self.path}/{record_id}?done=stated", status_code=303)

    @post("/{record_id:int}/decision", opt=ACT, status_code=303)
    async def decide(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], record_id: FromPath[RowId], data: Annotated[DecisionForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            if data.measure not in MEASURES or not data.decision.strip():
                raise ValidationFailed("请选择处理结果并写明理由", rule="required")
            decision = msgspec.convert({"version": whole_number(data.version) or 0, "measure": data.measure,
                                        "decision": data.decision.strip()}, AccountabilityDecision)  # fmt: skip
            await accountability.decide(db_session, actor, record_id, decision, utcnow(), request_id_of(request))
        except (msgspec.ValidationError, FuquanError) as error:
            await db_session.rollback()
            return await _detail(db_session, actor, record_id, problem=refusal(error), decision=data)
        return Redirect(f"{self.path}/{record_id}?done=decided", status_code=303)
