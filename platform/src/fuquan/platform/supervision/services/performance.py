"""Staff and unit performance (绩效) and 办件结果比对: what each child unit — or each person — of a subtree did over any
range of days, beside the same figures for the period before (or the same days a year earlier).

Each figure is counted where it belongs:
- steps (受理, 不予受理, 补正, 准予, 不予许可, 出件) from the trace: the person who took the step and the unit where
  it was taken;
- on-time rate and working days: the cases decided in the period, for the person who decided and the unit deciding
  (the working days were kept at the decision: ``Case.working_days_used``);
- ratings: the cases decided in the period, for the person who accepted them and the accepting unit (the window the
  resident met); follow-ups likewise, opened in the period;
- 办不成事 traced back (mode 2, 倒逼), 督办单 received (units only) and 责任追究 records, opened in the period.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.timeutil import local_date, local_midnight
from fuquan.platform.supervision.repositories import PerformanceRepository, Period
from fuquan.platform.supervision.schemas import Figures, PerformanceRead, PerformanceRow
from fuquan.tenants.divisions import CODE_LENGTH_BY_LEVEL, level_of, normalise_unit_code
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

By = Literal["unit", "staff"]
Compare = Literal["previous", "last_year", "none"]
LONGEST: Final = timedelta(days=3 * 366)
STEP_FIELDS: Final = {"accept": "accepted", "refuse": "refused", "request_supplement": "supplements",
                      "request_correction": "supplements", "issue": "issued"}  # fmt: skip
Sums = Counter[str]


def figures(sums: Sums) -> Figures:
    def share(part: str, whole: str) -> float | None:
        return round(sums[part] / sums[whole], 4) if sums[whole] else None

    timed = sums["timed"]
    return Figures(
        accepted=sums["accepted"], refused=sums["refused"], supplements=sums["supplements"],
        decided=sums["decided"], denied=sums["denied"], issued=sums["issued"], on_time=sums["on_time"],
        on_time_rate=share("on_time", "timed"),
        average_working_days=round(sums["working_days"] / timed, 2) if timed else None,
        ratings=sums["ratings"], rating_average=round(sums["rating_sum"] / sums["ratings"], 2) if sums["ratings"]
        else None, poor_ratings=sums["poor"], follow_ups=sums["follow_ups"], callbacks_in_time=sums["called"],
        callback_rate=share("called", "follow_ups"), escalations=sums["escalations"], orders=sums["orders"],
        accountability=sums["accountability"],
    )  # fmt: skip


def previous_period(first: date, last: date, compare: Compare) -> tuple[date, date] | None:
    if compare == "none":
        return None
    if compare == "last_year":
        return _year_before(first), _year_before(last)
    days = (last - first).days + 1
    return first - timedelta(days=days), first - timedelta(days=1)


def _year_before(day: date) -> date:
    return day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) else date(day.year - 1, 2, 28)


async def _sums(session: AsyncSession, scope: TenantScope, code: str, first: date, last: date,
                length: int | None) -> dict[object, Sums]:  # fmt: skip
    """Raw sums per key (a staff id or a unit code) over the tenant's local days ``first``–``last``."""
    tz = scope.timezone
    period = Period(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz))
    repository = PerformanceRepository(session)
    sums: defaultdict[object, Sums] = defaultdict(Counter)
    for key, action, count in await repository.steps(scope, code, period, length):
        if action in ("approve", "deny"):
            sums[key]["decided"] += count
            if action == "deny":
                sums[key]["denied"] += count
        else:
            sums[key][STEP_FIELDS[action]] += count
    for key, timed, on_time, working_days in await repository.decisions(scope, code, period, length):
        sums[key].update(timed=timed, on_time=on_time, working_days=working_days)
    for key, ratings, rating_sum, poor in await repository.ratings(scope, code, period, length):
        sums[key].update(ratings=ratings, rating_sum=rating_sum, poor=poor)
    for key, called, at, due in await repository.follow_ups(scope, code, period, length):
        if key is not None:
            sums[key]["follow_ups"] += 1
            sums[key]["called"] += 1 if called and local_date(at, tz) <= due else 0
    for key, count in await repository.escalations(scope, code, period, length):
        sums[key]["escalations"] += count
    if length is not None:
        for key, count in await repository.orders(scope, code, period, length):
            sums[key]["orders"] += count
    for key, count in await repository.accountability(scope, code, period, length):
        sums[key]["accountability"] += count
    return sums


def _check(first: date, last: date) -> None:
    if last < first:
        raise ValidationFailed(f"结束日期 {last} 早于开始日期 {first}", rule="period")
    if last - first > LONGEST:
        raise ValidationFailed("统计区间最长三年，请缩短后再查询", rule="period")


async def performance(
    session: AsyncSession, actor: Actor, unit_code: str | None, first: date, last: date, by: By, compare: Compare
) -> PerformanceRead:
    """The subtree's figures per child unit (``by="unit"``, with the chosen unit's own work as 本级) or per person
    (``by="staff"``), busiest first, with the total, each beside the compared period's. Outside the caller's subtree:
    404."""
    actor.require("supervision.read")
    _check(first, last)
    scope = actor.scope
    code = normalise_unit_code(unit_code) if unit_code else actor.unit_code
    units = UnitRepository(session)
    chosen = await units.get(scope, code)  # NotFound outside the caller's subtree
    level = level_of(code)
    length = None if by == "staff" else CODE_LENGTH_BY_LEVEL.get(level + 1, len(code))
    current = await _sums(session, scope, code, first, last, length)
    before = previous_period(first, last, compare)
    earlier = await _sums(session, scope, code, *before, length) if before else {}

    keys = [key for key in {*current, *earlier} if key is not None]
    named: dict[object, tuple[str, str, str]] = {}  # key → (shown key, name, unit)
    if by == "staff":
        people = await PerformanceRepository(session).staff_units(scope, [int(str(key)) for key in keys])
        named = {key: people.get(int(str(key)), (str(key), str(key), "")) for key in keys}
    else:
        names = await units.names(scope, [str(key) for key in keys])
        named = {key: (str(key), names.get(str(key), str(key)), str(key)) for key in keys}

    def row(key: object) -> PerformanceRow:
        shown, name, unit = named[key]
        return PerformanceRow(key=shown, name=name, unit=unit, own=by == "unit" and key == code,
                              figures=figures(current.get(key, Counter())),
                              previous=figures(earlier.get(key, Counter())) if before else None)  # fmt: skip

    rows = sorted((row(key) for key in keys), key=lambda r: (not r.own, -r.figures.accepted - r.figures.decided, r.key))
    total_now: Sums = sum(current.values(), Counter())
    total_before: Sums = sum(earlier.values(), Counter())
    total = PerformanceRow(key=code, name="合计", unit=code, figures=figures(total_now),
                           previous=figures(total_before) if before else None)  # fmt: skip
    return PerformanceRead(
        unit=code, unit_name=chosen.name, by=by, first=first, last=last,
        previous_first=before[0] if before else None, previous_last=before[1] if before else None,
        rows=rows, total=total,
    )  # fmt: skip
