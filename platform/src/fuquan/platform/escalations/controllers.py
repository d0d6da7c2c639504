"""办不成事 endpoints: the desk registers and refers (/api/v1/escalations…), handlers take the steps, the desk's
admin keeps the duty roster, and the resident follows it (/api/v1/public/escalations/{reg_no})."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.params import Offset, RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.escalations.schemas import (
    EscalationCreate,
    EscalationPage,
    EscalationRead,
    EventRead,
    PublicEscalation,
    Referral,
    RosterDay,
    RosterWrite,
    StepRequest,
)
from fuquan.platform.escalations.services import desk, documents, handling, reads
from fuquan.tenants.divisions import normalise_unit_code

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Status = Literal["registered", "in_handling", "resolved", "closed"]
Unit = Annotated[str, PathParameter(pattern=r"^\d{2,15}$", description="市、县（区）单位代码")]
RegNo = Annotated[str, PathParameter(max_length=40, description="登记号")]
Code = Annotated[str, QueryParameter(min_length=1, max_length=12, description="查询码")]
MAX_ROSTER_DAYS = 62


class EscalationController(Controller):
    path = "/api/v1/escalations"
    tags = ["escalations 办不成事"]

    @post("/", summary="登记办不成事反映（现场、热线、网站留言）", opt={"permission": "escalations.register"})
    async def register(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing], calendar: NamedDependency[WorkingCalendar],
        data: JSONBody[EscalationCreate],
    ) -> EscalationRead:  # fmt: skip
        cipher = await key_ring.cipher(actor.scope)
        made = await desk.register(db_session, actor, cipher, calendar, data, utcnow(), request_id_of(request))
        return await reads.read(db_session, made, with_code=True)

    @post("/referrals", summary="办件转办不成事窗口（“这件事办不成”）", opt={"permission": "cases.read"})
    async def refer(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing], calendar: NamedDependency[WorkingCalendar],
        data: JSONBody[Referral],
    ) -> EscalationRead:  # fmt: skip
        cipher = await key_ring.cipher(actor.scope)
        made = await desk.refer(db_session, actor, cipher, calendar, data, utcnow(), request_id_of(request))
        return await reads.read(db_session, made, with_code=True)

    @get("/", summary="办不成事反映（本单位及下级、责任窗口在本辖区的、本人负责的）",
         opt={"permission": "escalations.read"})  # fmt: skip
    async def list_escalations(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[Status | None] = None, limit: FromQuery[Limit] = 50, offset: FromQuery[Offset] = 0,
    ) -> EscalationPage:  # fmt: skip
        return await reads.page(db_session, actor, status, limit, offset)

    @get("/{escalation_id:int}", summary="一件办不成事反映", opt={"permission": "escalations.read"})
    async def get_escalation(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        escalation_id: FromPath[RowId],
    ) -> EscalationRead:  # fmt: skip
        return await reads.one(db_session, actor, escalation_id)

    @get("/{escalation_id:int}/trace", summary="全程留痕", opt={"permission": "escalations.read"})
    async def trace(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        escalation_id: FromPath[RowId],
    ) -> list[EventRead]:  # fmt: skip
        return await reads.trace(db_session, actor, escalation_id)

    @post("/{escalation_id:int}/steps", summary="办理一步（分类、告知、答复、决定、升级、重办、销号）", status_code=200,
          opt={"permission": "escalations.handle"})  # fmt: skip
    async def step(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], key_ring: NamedDependency[KeyRing], calendar: NamedDependency[WorkingCalendar],
        escalation_id: FromPath[RowId], data: JSONBody[StepRequest],
    ) -> EscalationRead:  # fmt: skip
        cipher = await key_ring.cipher(actor.scope)
        done = await handling.take_step(db_session, actor, cipher, calendar, escalation_id, data, utcnow(),
                                        request_id_of(request))  # fmt: skip
        return await reads.read(db_session, done)

    @get("/{escalation_id:int}/transfer.pdf", summary="《“办不成事”反映窗口受理问题转办单》（PDF）",
         media_type="application/pdf", opt={"permission": "escalations.read"})  # fmt: skip
    async def transfer_sheet(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], calendar: NamedDependency[WorkingCalendar], escalation_id: FromPath[RowId],
    ) -> Response[bytes]:  # fmt: skip
        name, pdf = await documents.transfer_sheet(db_session, actor, calendar, escalation_id, str(request.base_url))
        disposition = f"inline; filename*=UTF-8''{quote(name)}"
        return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": disposition})

    @get("/roster/{unit:str}", summary="值班表", opt={"permission": "escalations.read"})
    async def roster(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], unit: FromPath[Unit],
        since: FromQuery[date | None] = None, until: FromQuery[date | None] = None,
    ) -> list[RosterDay]:  # fmt: skip
        first = since or local_date(utcnow(), actor.scope.timezone)
        last = until or first + timedelta(days=30)
        if not timedelta(0) <= last - first <= timedelta(days=MAX_ROSTER_DAYS):
            raise ValidationFailed(f"查询区间须在 {MAX_ROSTER_DAYS} 天以内且截止不早于起始", rule="roster_range")
        return await desk.roster(db_session, actor, normalise_unit_code(unit), first, last)

    @put("/roster/{unit:str}/{day:date}", summary="安排值班领导（留痕）", opt={"permission": "escalations.roster"})
    async def set_duty(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], unit: FromPath[Unit], day: FromPath[date], data: JSONBody[RosterWrite],
    ) -> RosterDay:  # fmt: skip
        return await desk.set_duty(db_session, actor, normalise_unit_code(unit), day, data, utcnow(),
                                   request_id_of(request))  # fmt: skip


class PublicEscalationController(Controller):
    path = "/api/v1/public/escalations"
    tags = ["public 公众查询"]

    @get(
        "/{reg_no:str}", summary="办不成事反映进度（凭登记号和查询码）", opt={"public": True, "exclude_from_auth": True}
    )
    async def progress(
        self, db_session: NamedDependency[AsyncSession], reg_no: FromPath[RegNo], code: FromQuery[Code]
    ) -> PublicEscalation:
        return await reads.public(db_session, reg_no, code)
