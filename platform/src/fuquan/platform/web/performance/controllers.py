"""Web page: 办件绩效与结果比对 — the supervisor picks a unit, a range of days, per unit or per person and what to
compare against; the table carries the figures, two ECharts bar charts draw the comparison (static/web/supervision.js),
and the same figures download as XLSX or CSV from the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import urlencode

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.supervision.schemas import PerformanceRead
from fuquan.platform.supervision.services import exports, performance
from fuquan.platform.web.pages import PageController, page, render
from fuquan.platform.web.supervision.views import percent
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

READ: Final = page("supervision.read")
COMPARE_NAMES: Final = {"previous": "上一个同样长的期间", "last_year": "去年同期", "none": "不对比"}


def _day(text: str, fallback: date, what: str) -> date:
    if not text.strip():
        return fallback
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise ValidationFailed(f"{what}“{text}”不是有效日期，请按 2026-12-07 的格式填写", rule="period") from error


def charts(read: PerformanceRead) -> dict[str, Any]:
    """The comparison the charts draw: decided cases and on-time rates, this period beside the compared one."""
    rows = [row for row in read.rows if row.figures.decided or (row.previous and row.previous.decided)][:30]

    def rate(value: float | None) -> float | None:
        return None if value is None else round(value * 100, 1)

    data: dict[str, Any] = {
        "names": [f"{row.name}（本级）" if row.own else row.name for row in rows],
        "decided": [row.figures.decided for row in rows],
        "on_time": [rate(row.figures.on_time_rate) for row in rows],
    }
    if read.previous_first:
        data["decided_before"] = [row.previous.decided if row.previous else 0 for row in rows]
        data["on_time_before"] = [rate(row.previous.on_time_rate) if row.previous else None for row in rows]
    return {"compare": data}


class PerformancePagesController(PageController):
    path = "/supervision/performance"

    @get("/", opt=READ)
    async def performance_page(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        unit: FromQuery[UnitCode | None] = None, first: FromQuery[str] = "", last: FromQuery[str] = "",
        by: FromQuery[str] = "unit", compare: FromQuery[str] = "previous",
    ) -> Template:  # fmt: skip
        today = local_date(utcnow(), actor.scope.timezone)
        chosen_by: performance.By = "staff" if by == "staff" else "unit"
        chosen_compare: performance.Compare = compare if compare in ("last_year", "none") else "previous"  # type: ignore[assignment]
        start = _day(first, today.replace(day=1), "开始日期")
        end = _day(last, today, "结束日期")
        code = normalise_unit_code(unit) if unit else None
        read = await performance.performance(db_session, actor, code, start, end, chosen_by, chosen_compare)
        query = {"unit": read.unit, "first": start.isoformat(), "last": end.isoformat(), "by": chosen_by,
                 "compare": chosen_compare}  # fmt: skip
        return render(
            "supervision/performance.html", actor, read=read, percent=percent, charts=charts(read),
            columns=exports.COLUMNS, compare_names=COMPARE_NAMES, chosen_compare=chosen_compare,
            xlsx=f"/api/v1/supervision/performance/export?{urlencode(query)}",
            csv=f"/api/v1/supervision/performance/export?{urlencode({**query, 'format': 'csv'})}",
            previous_month=(today.replace(day=1) - timedelta(days=1)).replace(day=1),
        )  # fmt: skip
