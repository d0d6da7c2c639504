"""Working-day calendar endpoints (/api/v1/calendar/days): a year's special days, set and clear a day."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, delete, get, put
from litestar.di import NamedDependency
from litestar.openapi.spec import Example
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar import services
from fuquan.platform.calendar.schemas import CalendarDayRead, CalendarDayWrite, CalendarYearRead
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.errors import BadRequest, ValidationFailed
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import EARLIEST_YEAR, LATEST_YEAR, local_date, utcnow
from fuquan.tenants.scope import TenantScope

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
DayText = Annotated[str, Parameter(description="公历日期 YYYY-MM-DD", examples=[Example(value="2026-10-01")])]
Year = Annotated[int | None, QueryParameter(ge=EARLIEST_YEAR, le=LATEST_YEAR, description="公历年份，默认今年")]


def parse_day(text: str) -> date:
    """A calendar day in the path, strictly ``YYYY-MM-DD``; anything else is a 400 (not a 404)."""
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"日期“{text}”无效，应为 YYYY-MM-DD 格式的公历日期，如 2026-10-01", rule="date_format"
        ) from None
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise ValidationFailed(f"日期 {text} 超出可受理的范围（{EARLIEST_YEAR}—{LATEST_YEAR} 年）", rule="time_range")
    return day


def _resource(day: date) -> str:
    return f"calendar:{day.isoformat()}"


class CalendarController(Controller):
    path = "/api/v1/calendar"
    tags = ["calendar 工作日历"]

    @get("/days", summary="某年的节假日、调休上班日及本租户的调整", opt={"permission": "calendar.read"})
    async def list_days(
        self,
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
        year: Year = None,
    ) -> CalendarYearRead:
        wanted = local_date(utcnow(), tenant_scope.timezone).year if year is None else year
        return await services.year_days(db_session, tenant_scope, wanted)

    @put("/days/{day:str}", summary="设置本租户某日放假或上班（覆盖国家安排）", opt={"permission": "calendar.manage"})
    async def set_day(
        self,
        request: Request[Any, Any, Any],
        day: FromPath[DayText],
        data: JSONBody[CalendarDayWrite],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> CalendarDayRead:
        when, request_id = parse_day(day), request_id_of(request)
        detail = {"day": when.isoformat(), "workday": data.workday, "note": data.note}
        entry = actor.audit_entry("calendar.set_day", resource=_resource(when), request_id=request_id, detail=detail)
        async with rejections_audited(db_session, entry):
            if data.day is not None and data.day != when:
                mismatch = f"请求体中的日期 {data.day.isoformat()} 与地址中的日期 {when.isoformat()} 不一致"
                raise BadRequest(mismatch, rule="day_mismatch")
            row = await services.set_day(
                db_session, actor.scope, when, data.workday, data.note, actor, request_id=request_id
            )
        return services.day_read(row)

    @delete("/days/{day:str}", summary="取消本租户对某日的调整（恢复国家安排）", opt={"permission": "calendar.manage"})
    async def clear_day(
        self,
        request: Request[Any, Any, Any],
        day: FromPath[DayText],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> None:
        when, request_id = parse_day(day), request_id_of(request)
        detail = {"day": when.isoformat()}
        entry = actor.audit_entry("calendar.clear_day", resource=_resource(when), request_id=request_id, detail=detail)
        async with rejections_audited(db_session, entry):
            await services.clear_day(db_session, actor.scope, when, actor, request_id=request_id)
