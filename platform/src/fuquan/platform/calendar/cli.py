"""``fuquan calendar``: set, clear and show a tenant's working-day calendar (工作日历) from the shell."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.calendar import services
from fuquan.platform.calendar.schemas import CalendarYearRead
from fuquan.platform.core.config import command_settings
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.errors import FuquanError, NotFound
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.tenants.models import Tenant
from fuquan.tenants.options import unit_code_option
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

T = TypeVar("T")
console = output_console(stderr=True)
OPERATOR = "cli"  # who the audit log names for a change made from the shell
WEEKDAYS = "一二三四五六日"
SOURCES = {"library": "国家安排", "tenant": "本租户调整", "weekend-fallback": "仅按周末（库未覆盖该年）"}
DAY = click.DateTime(formats=["%Y-%m-%d"])


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except FuquanError as error:
        console.print(f"[red]错误：{error.detail}[/red]")
        raise SystemExit(2) from error


async def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(command_settings().database_url)
    try:
        maker: async_sessionmaker[AsyncSession] = session_factory(engine)
        async with session_scope(maker) as session:
            return await work(session)
    finally:
        await engine.dispose()


async def _tenant(session: AsyncSession, code: str) -> Tenant:
    tenant = await TenantRepository(session).by_code(code)
    if tenant is None:
        raise NotFound(f"租户 {code} 不存在")
    return tenant


@click.group("calendar")
def calendar() -> None:
    """Working-day calendar (工作日历): a tenant's holidays and make-up workdays."""


@calendar.command("set")
@click.argument("day", type=DAY, metavar="DAY")
@click.option(
    "--tenant", "tenant_code", required=True, callback=unit_code_option, help="Tenant (province) code, e.g. 64."
)
@click.option("--workday/--day-off", "workday", default=None, help="A working day (调休上班) or a day off (放假).")
@click.option("--note", default="", help="Why, e.g. the notice that set it.")
def calendar_set(day: datetime, tenant_code: str, workday: bool | None, note: str) -> None:
    """Make DAY (YYYY-MM-DD) a working day or a day off for the tenant, overriding the national schedule."""
    if workday is None:
        raise click.UsageError("请指定 --workday（上班）或 --day-off（放假）")

    async def work(session: AsyncSession) -> None:
        tenant = await _tenant(session, tenant_code)
        await services.set_day(session, whole_tenant(tenant), day.date(), workday, note, OPERATOR)

    _run(_in_transaction(work))
    console.print(f"已设置租户 {tenant_code} 的 {day.date().isoformat()} 为{'上班' if workday else '放假'}")


@calendar.command("clear")
@click.argument("day", type=DAY, metavar="DAY")
@click.option(
    "--tenant", "tenant_code", required=True, callback=unit_code_option, help="Tenant (province) code, e.g. 64."
)
def calendar_clear(day: datetime, tenant_code: str) -> None:
    """Remove the tenant's entry for DAY; the national schedule applies again."""

    async def work(session: AsyncSession) -> None:
        tenant = await _tenant(session, tenant_code)
        await services.clear_day(session, whole_tenant(tenant), day.date(), OPERATOR)

    _run(_in_transaction(work))
    console.print(f"已取消租户 {tenant_code} 对 {day.date().isoformat()} 的调整")


@calendar.command("show")
@click.option(
    "--tenant", "tenant_code", required=True, callback=unit_code_option, help="Tenant (province) code, e.g. 64."
)
@click.option("--year", type=click.IntRange(1949, 9998), default=None, help="Default: this year.")
def calendar_show(tenant_code: str, year: int | None) -> None:
    """List the year's holidays on weekdays, workdays on weekends and the tenant's own entries."""

    async def work(session: AsyncSession) -> CalendarYearRead:
        tenant = await _tenant(session, tenant_code)
        wanted = local_date(utcnow(), tenant.timezone).year if year is None else year
        return await services.year_days(session, whole_tenant(tenant), wanted)

    result = _run(_in_transaction(work))
    title = f"租户 {tenant_code} {result.year} 年工作日历（仅列出与“周一至周五上班”不同的日子及本租户的调整）"
    if not result.covered:
        console.print(
            f"[yellow]注意：日历库未收录 {result.year} 年的放假安排，按周末计算，并以本租户的调整为准[/yellow]"
        )
    table = Table(title=title)
    for column in ("日期", "星期", "上班/放假", "来源", "说明", "设置人"):
        table.add_column(column)
    for entry in result.days:
        kind = "上班" if entry.workday else "放假"
        weekday = WEEKDAYS[entry.day.weekday()]
        table.add_row(entry.day.isoformat(), weekday, kind, SOURCES[entry.source], entry.note, entry.created_by or "")
    output_console().print(table)


__all__ = ["calendar"]
