"""Working-day calendar verbs: set a day (设置放假/调休上班), clear it (恢复), and the tenant's calendar.

Every change writes its audit record in the caller's transaction; services never commit.
"""

from __future__ import annotations

from datetime import date

import structlog
from litestar.di import NamedDependency
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.models import CalendarOverride
from fuquan.platform.calendar.repositories import CalendarRepository
from fuquan.platform.calendar.schemas import CalendarDayRead, CalendarYearRead
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied
from fuquan.platform.core.versions.services import CALENDAR, TenantSettingCache, changed
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

MANAGE = "calendar.manage"
Author = Actor | str  # a staff member (API), or an operator's label such as "cli"


def _authorise(actor: Author, scope: TenantScope) -> None:
    """A staff member needs ``calendar.manage`` at the tenant's root unit; an operator label passes."""
    if isinstance(actor, str):
        return
    actor.require(MANAGE)
    if actor.tenant_id != scope.tenant_id:
        raise NotFound("该租户不存在或不在您的管辖范围内")
    if not actor.scope.is_tenant_wide:
        raise PermissionDenied("工作日历适用于全省（区），只有省级单位的管理员可以维护", rule="tenant_wide_only")


def _audit_entry(
    actor: Author, scope: TenantScope, action: str, day: date, detail: dict[str, object], request_id: str | None
) -> AuditEntry:
    resource = f"calendar:{day.isoformat()}"
    if isinstance(actor, str):
        return AuditEntry(action=action, tenant_id=scope.tenant_id, actor=actor, resource=resource, detail=detail)
    return actor.audit_entry(action, resource=resource, request_id=request_id, detail=detail)


def _author_name(actor: Author) -> str:
    return actor if isinstance(actor, str) else actor.username


async def calendar_for(session: AsyncSession, scope: TenantScope) -> WorkingCalendar:
    """The tenant's working-day calendar: the library's schedule under the tenant's own entries."""
    rows = await CalendarRepository(session).overrides(scope)
    return WorkingCalendar({row.day: row.workday for row in rows})


async def provide_calendar(
    tenant_scope: NamedDependency[TenantScope],
    calendars: NamedDependency[TenantSettingCache[TenantScope, WorkingCalendar]],
) -> WorkingCalendar:
    """The caller's tenant's working calendar (a request dependency), from this process's cache."""
    return await calendars.get(tenant_scope)


def day_read(row: CalendarOverride) -> CalendarDayRead:
    return CalendarDayRead(day=row.day, workday=row.workday, source="tenant", note=row.note, created_by=row.created_by)


async def year_days(session: AsyncSession, scope: TenantScope, year: int) -> CalendarYearRead:
    """A year's non-ordinary days (holidays on weekdays, workdays on weekends) and the tenant's entries."""
    calendar = await calendar_for(session, scope)
    rows = {row.day: row for row in await CalendarRepository(session).overrides(scope, year)}
    days = []
    for special in calendar.special_days(year):
        row = rows.get(special.day)
        if row is not None:
            days.append(day_read(row))
        else:
            days.append(
                CalendarDayRead(day=special.day, workday=special.workday, source=special.source, note=special.name)
            )
    return CalendarYearRead(year=year, covered=calendar.covered(year), days=days)


async def set_day(
    session: AsyncSession,
    scope: TenantScope,
    day: date,
    workday: bool,
    note: str,
    actor: Author,
    *,
    request_id: str | None = None,
) -> CalendarOverride:
    """Make ``day`` a working day (调休上班) or a day off (本地放假) for the tenant, replacing any entry."""
    _authorise(actor, scope)
    repository = CalendarRepository(session)
    row = await repository.get(scope, day, for_update=True)  # "previous" is what this change replaces
    detail: dict[str, object] = {"day": day.isoformat(), "workday": workday, "note": note}
    if row is not None:
        detail["previous"] = {"workday": row.workday, "note": row.note}
    entry = _audit_entry(actor, scope, "calendar.set_day", day, detail, request_id)
    if row is None:
        row = CalendarOverride(
            tenant_id=scope.tenant_id, day=day, workday=workday, note=note, created_by=_author_name(actor)
        )
        try:
            await repository.add(row)
        except IntegrityError as error:
            raise Conflict(f"{day.isoformat()} 的设置刚被他人修改，请刷新后重试", rule="calendar_day_taken") from error
    else:
        row.workday, row.note, row.created_by = workday, note, _author_name(actor)
        await session.flush()
    await changed(session, scope, CALENDAR)
    await append(session, entry)
    log.info("calendar_day_set", tenant_id=scope.tenant_id, day=day.isoformat(), workday=workday)
    return row


async def clear_day(
    session: AsyncSession, scope: TenantScope, day: date, actor: Author, *, request_id: str | None = None
) -> CalendarOverride:
    """Remove the tenant's entry for ``day``; the national schedule (or the weekend rule) applies again."""
    _authorise(actor, scope)
    repository = CalendarRepository(session)
    row = await repository.get(scope, day)
    detail: dict[str, object] = {"day": day.isoformat()}
    if row is not None:
        detail["previous"] = {"workday": row.workday, "note": row.note}
    entry = _audit_entry(actor, scope, "calendar.clear_day", day, detail, request_id)
    if row is None or not await repository.delete(row):
        raise NotFound(f"{day.isoformat()} 没有本租户的工作日历设置")
    await changed(session, scope, CALENDAR)
    await append(session, entry)
    log.info("calendar_day_cleared", tenant_id=scope.tenant_id, day=day.isoformat(), workday=row.workday)
    return row
