"""Web pages: 办不成事反映 — the desk registers what a resident brings and prints the 转办单; the duty leader, the
window's head and the leadership take the steps; the desk's admin keeps the duty roster; a clerk carries a case that
could not be done to the desk from the case page.

Every verb is ``escalations.services``' own, audited in its transaction; a refused one shows the page again with
the server's reason and status."""

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
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.core.errors import FuquanError, ValidationFailed
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.params import RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_date, local_time, utcnow
from fuquan.platform.escalations.schemas import (
    CHANNEL_NAMES,
    EscalationCreate,
    Referral,
    RosterWrite,
    StepRequest,
)
from fuquan.platform.escalations.services import desk, handling, reads
from fuquan.platform.escalations.state_machine import ACTION_NAMES, MODE_NAMES, TIER_NAMES
from fuquan.platform.web.pages import PageController, page, refusal, render

READ: Final = page("escalations.read")
REGISTER: Final = page("escalations.register")
HANDLE: Final = page("escalations.handle")
ROSTER: Final = page("escalations.roster")
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)


class RegisterForm(msgspec.Struct, kw_only=True):
    channel: str = "in_person"
    name: str = ""
    phone: str = ""
    id_number: str = ""
    summary: str = ""
    recording_ref: str = ""


class StepForm(msgspec.Struct, kw_only=True):
    action: str = ""
    version: str = ""
    mode: str = ""
    responsible_unit: str = ""
    responsible_staff: str = ""
    note: str = ""
    window_unit: str = ""
    deferral_approved: str = ""
    meeting_ref: str = ""
    confirmation: str = ""


class ReferForm(msgspec.Struct, kw_only=True):
    case_id: str = ""
    summary: str = ""


class DutyForm(msgspec.Struct, kw_only=True):
    day: str = ""
    staff: str = ""


def _blank(text: str) -> str | None:
    return text.strip() or None


async def _detail(
    session: AsyncSession, actor: Actor, escalation_id: int, *, problem: FuquanError | None = None,
    form: StepForm | None = None, status_code: int = 200, done: str | None = None,
) -> Template:  # fmt: skip
    found = await reads.one(session, actor, escalation_id)
    trace = await reads.trace(session, actor, escalation_id)
    steps = [(local_time(event.at, actor.scope.timezone), event) for event in trace]
    return render("escalations/detail.html", actor, status_code=status_code, e=found, steps=steps, problem=problem,
                  form=form or StepForm(), done=done, modes=MODE_NAMES, tiers=TIER_NAMES, actions=ACTION_NAMES,
                  channels=CHANNEL_NAMES)  # fmt: skip


class EscalationPagesController(PageController):
    path = "/escalations"

    @get("/", opt=READ)
    async def list_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        chosen = status if status in ("registered", "in_handling", "resolved", "closed") else None
        found = await reads.page(db_session, actor, chosen, 100, 0)
        return render("escalations/list.html", actor, page=found, status=chosen or "", tiers=TIER_NAMES,
                      channels=CHANNEL_NAMES)  # fmt: skip

    @get("/new", opt=REGISTER)
    async def new_page(self, actor: NamedDependency[Actor]) -> Template:
        return render("escalations/new.html", actor, form=RegisterForm(), problem=None, channels=CHANNEL_NAMES)

    @post("/", opt=REGISTER, status_code=303)
    async def register(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing], calendar: NamedDependency[WorkingCalendar],
        data: Annotated[RegisterForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            if not data.name.strip() or not data.summary.strip():
                raise ValidationFailed("请填写反映人姓名和反映的问题", rule="required")
            resident = {"name": data.name.strip(), "phone": _blank(data.phone), "id_number": _blank(data.id_number)}
            fields = {"channel": data.channel, "summary": data.summary.strip(),
                      "recording_ref": _blank(data.recording_ref), "resident": resident}  # fmt: skip
            change = msgspec.convert(fields, EscalationCreate)
            made = await desk.register(db_session, actor, await key_ring.cipher(actor.scope), calendar, change,
                                       utcnow(), request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            problem = refusal(error)
            return render("escalations/new.html", actor, status_code=problem.status, form=data, problem=problem,
                          channels=CHANNEL_NAMES)  # fmt: skip
        return Redirect(f"{self.path}/{made.id}?done=registered", status_code=303)

    @get("/{escalation_id:int}", opt=READ)
    async def detail(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        escalation_id: FromPath[RowId], done: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        notice = {"registered": "已登记。请打印转办单交给反映人，并告知登记号和查询码。",
                  "step": "已办理。"}.get(done)  # fmt: skip
        return await _detail(db_session, actor, escalation_id, done=notice)

    @post("/{escalation_id:int}/steps", opt=HANDLE, status_code=303)
    async def step(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing], calendar: NamedDependency[WorkingCalendar],
        escalation_id: FromPath[RowId], data: Annotated[StepForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            fields = {"action": data.action, "version": int(data.version) if data.version.isdigit() else 0,
                      "mode": _blank(data.mode), "responsible_unit": _blank(data.responsible_unit),
                      "responsible_staff": _blank(data.responsible_staff), "note": _blank(data.note),
                      "window_unit": _blank(data.window_unit), "deferral_approved": data.deferral_approved == "on",
                      "meeting_ref": _blank(data.meeting_ref), "confirmation": _blank(data.confirmation)}  # fmt: skip
            request_body = msgspec.convert(fields, StepRequest)
            await handling.take_step(db_session, actor, await key_ring.cipher(actor.scope), calendar, escalation_id,
                                     request_body, utcnow(), request_id_of(request))  # fmt: skip
        except (msgspec.ValidationError, FuquanError) as error:
            problem = refusal(error)
            await db_session.rollback()
            return await _detail(db_session, actor, escalation_id, problem=problem, form=data,
                                 status_code=problem.status)  # fmt: skip
        return Redirect(f"{self.path}/{escalation_id}?done=step", status_code=303)

    @post("/referrals", opt=page("cases.read"), status_code=303)
    async def refer(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing], calendar: NamedDependency[WorkingCalendar],
        data: Annotated[ReferForm, FormBody],
    ) -> Redirect:  # fmt: skip
        if not data.case_id.isdigit() or not data.summary.strip():
            raise ValidationFailed("请写明这件事为什么办不成")
        referral = Referral(case_id=int(data.case_id), summary=data.summary.strip()[:1000])
        made = await desk.refer(db_session, actor, await key_ring.cipher(actor.scope), calendar, referral, utcnow(),
                                request_id_of(request))  # fmt: skip
        target = f"{self.path}/{made.id}?done=registered" if "escalations.read" in actor.permissions else (
            f"/cases/{referral.case_id}?referred={made.reg_no}")  # fmt: skip
        return Redirect(target, status_code=303)

    @get("/roster", opt=ROSTER)
    async def roster_page(self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]) -> Template:
        return await _roster(db_session, actor)

    @post("/roster", opt=ROSTER, status_code=303)
    async def set_duty(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: Annotated[DutyForm, FormBody],
    ) -> Redirect | Template:  # fmt: skip
        try:
            day = date.fromisoformat(data.day)
            duty = RosterWrite(staff=data.staff.strip())
            await desk.set_duty(db_session, actor, actor.unit_code, day, duty, utcnow(), request_id_of(request))
        except ValueError:
            return await _roster(db_session, actor, ValidationFailed("日期格式应为 2026-12-07"), data)
        except FuquanError as error:
            return await _roster(db_session, actor, error, data)
        return Redirect(f"{self.path}/roster", status_code=303)


async def _roster(session: AsyncSession, actor: Actor, problem: FuquanError | None = None,
                  form: DutyForm | None = None) -> Template:  # fmt: skip
    today = local_date(utcnow(), actor.scope.timezone)
    days = await desk.roster(session, actor, actor.unit_code, today, today + timedelta(days=30))
    return render("escalations/roster.html", actor, status_code=problem.status if problem else 200, days=days,
                  problem=problem, form=form or DutyForm(day=today.isoformat()), unit=actor.unit_code)  # fmt: skip
