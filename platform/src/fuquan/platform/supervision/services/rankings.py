"""流动红旗 (units) and 服务之星 (staff): a month's ranking beneath a unit, from the performance figures, which a
supervisor previews and publishes internally; everyone in the unit's subtree then sees it, and the winner is told.

The score, out of 100, is what the figures show of service, not of size alone:
- 按时办结 40 × the on-time rate (nothing decided: 0);
- 群众满意 30 × (average rating − 1) ÷ 4 (no ratings: 24, as a "基本满意" or better month);
- 差评回访 10 × the callback-in-time rate (no poor ratings: 10);
- 工作量 20 × handled (accepted + decided) ÷ the most any ranked one handled;
- less 3 for each 办不成事 traced back (mode 2), 2 for each 督办单 received, 5 for each 责任追究 record; never below 0.
Only those who handled at least one case in the month are ranked.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import Conflict, ValidationFailed
from fuquan.platform.core.inserts import insert_together
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.notifications.services.outbox import inbox_row
from fuquan.platform.supervision.models import Ranking
from fuquan.platform.supervision.repositories import RankingRepository
from fuquan.platform.supervision.schemas import Figures, RankingRead, RankingRow, RankingWrite
from fuquan.platform.supervision.services.performance import performance
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.repositories import UnitRepository

KIND_NAMES: Final = {"flag": "流动红旗", "star": "服务之星"}
MONTH: Final = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
Kind = Literal["flag", "star"]


def score(figures: Figures, most_handled: int) -> float:
    handled = figures.accepted + figures.decided
    points = 40 * (figures.on_time_rate or 0.0)
    points += 30 * ((figures.rating_average - 1) / 4 if figures.rating_average is not None else 0.8)
    points += 10 * (figures.callback_rate if figures.callback_rate is not None else 1.0)
    points += 20 * (handled / most_handled if most_handled else 0.0)
    points -= 3 * figures.escalations + 2 * figures.orders + 5 * figures.accountability
    return round(max(points, 0.0), 1)


def month_range(month: str) -> tuple[date, date]:
    """The first and last day of ``2026-11``; a clerk's message for anything else."""
    found = MONTH.fullmatch(month.strip())
    if found is None or not 2000 <= int(found.group(1)) <= 2099:
        raise ValidationFailed(f"月份“{month}”不是有效月份，请按 2026-11 的格式填写", rule="month")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    return first, (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


async def preview(session: AsyncSession, actor: Actor, unit_code: str | None, month: str, kind: Kind) -> RankingRead:
    """The month's ranking as the figures stand now (not published)."""
    first, last = month_range(month)
    code = normalise_unit_code(unit_code) if unit_code else actor.unit_code
    read = await performance(session, actor, code, first, last, "unit" if kind == "flag" else "staff", "none")
    ranked = [row for row in read.rows if not row.own and row.figures.accepted + row.figures.decided > 0]
    most = max((row.figures.accepted + row.figures.decided for row in ranked), default=0)
    scored = sorted(((score(row.figures, most), row) for row in ranked), key=lambda pair: (-pair[0], pair[1].key))
    rows = [
        RankingRow(rank=rank, key=row.key, name=row.name, unit=row.unit, score=points,
                   handled=row.figures.accepted + row.figures.decided, on_time_rate=row.figures.on_time_rate,
                   rating_average=row.figures.rating_average, callback_rate=row.figures.callback_rate,
                   escalations=row.figures.escalations, orders=row.figures.orders,
                   accountability=row.figures.accountability)
        for rank, (points, row) in enumerate(scored, start=1)
    ]  # fmt: skip
    return RankingRead(id=None, unit=read.unit, unit_name=read.unit_name, month=month, kind=kind,
                       kind_name=KIND_NAMES[kind], rows=rows, note=None, published_at=None)  # fmt: skip


async def publish(session: AsyncSession, actor: Actor, data: RankingWrite, now: datetime,
                  request_id: str | None) -> RankingRead:  # fmt: skip
    """Publish a finished month's ranking (once per unit, month and kind); the winner is told in their inbox."""
    actor.require("supervision.act")
    first, last = month_range(data.month)
    if last >= local_date(now, actor.scope.timezone):
        raise ValidationFailed(f"{data.month} 还没有结束，月度评比在月份结束后发布", rule="month_not_over")
    ranking = await preview(session, actor, data.unit, data.month, data.kind)
    if not ranking.rows:
        raise ValidationFailed(f"{data.month} 没有可参评的办件", rule="nothing_to_rank")
    repository = RankingRepository(session)
    if await repository.exists(actor.scope, ranking.unit, first, data.kind):
        raise Conflict(f"{ranking.unit_name} {data.month} 的{KIND_NAMES[data.kind]}已经发布过了", rule="published")
    row = Ranking(tenant_id=actor.tenant_id, unit_code=ranking.unit, month=first, kind=data.kind,
                  rows=[{f: getattr(r, f) for f in r.__struct_fields__} for r in ranking.rows], note=data.note,
                  published_by=actor.staff_id, published_at=now)  # fmt: skip
    repository.add(row)
    await session.flush()
    winner = ranking.rows[0]
    told = await repository.winners(actor.scope, data.kind, winner.key)
    title = f"{ranking.unit_name} {data.month} {KIND_NAMES[data.kind]}：{winner.name}"
    await insert_together(session, [  # a unit without a head: nobody told, published all the same
        inbox_row(actor.tenant_id, staff_id, kind="ranking", title=title, body=data.note or title,
                  dedupe_key=f"ranking:{row.id}", link="/supervision/rankings", case_id=None, now=now)
        for staff_id in told
    ])  # fmt: skip
    await append(session, actor.audit_entry(
        "supervision.ranking", resource=f"ranking:{row.id}", request_id=request_id,
        detail={"unit": ranking.unit, "month": data.month, "kind": data.kind, "first": winner.key},
    ))  # fmt: skip
    return RankingRead(**{**{f: getattr(ranking, f) for f in ranking.__struct_fields__}, "id": row.id,
                          "note": data.note, "published_at": now})  # fmt: skip


async def published(session: AsyncSession, actor: Actor, limit: int = 24) -> list[RankingRead]:
    """The rankings published for the caller's unit or any unit above it, and (for supervisors) beneath it."""
    rows = await RankingRepository(session).visible(actor.scope, actor.unit_code, limit)
    names = await UnitRepository(session).names(actor.scope, [row.unit_code for row in rows])
    return [
        RankingRead(id=row.id, unit=row.unit_code, unit_name=names.get(row.unit_code, row.unit_code),
                    month=f"{row.month:%Y-%m}", kind=row.kind,  # type: ignore[arg-type]
                    kind_name=KIND_NAMES[row.kind], rows=[RankingRow(**item) for item in row.rows], note=row.note,
                    published_at=row.published_at)
        for row in rows
    ]  # fmt: skip
