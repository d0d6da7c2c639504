"""What the supervision page shows: the dashboard of ``supervision.services`` and its charts' data.

The charts draw the same figures the tables carry (the tables are the page; charts are an enhancement
for browsers with JavaScript), and each chart's text alternative summarises them in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.supervision.schemas import DashboardRead, StatusCount, UnitFigures
from fuquan.platform.supervision.services import dashboard


@dataclass(frozen=True, slots=True)
class SupervisionPage:
    board: DashboardRead
    statuses: list[StatusCount]  # the statuses some case of the subtree is in
    charts: dict[str, Any]  # embedded as JSON for static/web/supervision.js
    status_label: str  # each chart's aria-label
    rates_label: str
    signals_label: str


def percent(value: float | None) -> str:
    """A rate for people: ``83.3%``, or ``—`` when there was nothing to count (never 0 %)."""
    return "—" if value is None else f"{value * 100:.1f}%"


def _row_name(row: UnitFigures) -> str:
    return f"{row.name}（本级）" if row.own else row.name


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


async def supervision_page(session: AsyncSession, actor: Actor, unit: str | None, now: datetime) -> SupervisionPage:
    board = await dashboard(session, actor, unit, now)
    statuses = [status for status in board.statuses if status.count]
    busy = [row for row in board.units if row.total]  # units without a single case would only stretch the charts
    names = [_row_name(row) for row in busy]
    charts = {
        "status": {"names": [s.name for s in statuses], "counts": [s.count for s in statuses]},
        "units": {
            "names": names,
            "on_time": [_pct(row.on_time_rate) for row in busy],
            "good": [_pct(row.good_share) for row in busy],
            "yellow": [row.yellow for row in busy],
            "red": [row.red for row in busy],
        },
    }
    status_label = (
        f"办件状态分布，共 {board.total.total} 件：" + "，".join(f"{s.name} {s.count} 件" for s in statuses)
        if statuses
        else "办件状态分布：暂无办件"
    )
    idle = len(board.units) - len(busy)
    rest = f"；其余 {idle} 个单位暂无办件" if idle and busy else ""
    rates = [
        f"{name}按时办结率 {percent(row.on_time_rate)}（{row.on_time}/{row.finished}），"
        f"好评率 {percent(row.good_share)}（{row.good_ratings}/{row.ratings}）"
        for name, row in zip(names, busy, strict=True)
    ]
    signals = [f"{name}预警 {row.yellow} 件、逾期 {row.red} 件" for name, row in zip(names, busy, strict=True)]
    return SupervisionPage(
        board=board,
        statuses=statuses,
        charts=charts,
        status_label=status_label,
        rates_label="各单位按时办结率与好评率：" + ("；".join(rates) + rest if rates else "暂无办件"),
        signals_label="各单位预警与逾期办件数：" + ("；".join(signals) + rest if signals else "暂无办件"),
    )
