"""The supervision dashboard (电子监察看板) of a unit's subtree.

Counts come straight from SQL; deadline signals (黄牌 预警, 红牌 逾期) and whether a decided case was
on time come from ``cases.services.reads.timing`` on the tenant's working calendar — the very code the case
API answers with — so the dashboard never holds a second deadline rule.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.cases.models import Case
from fuquan.platform.cases.repositories import ApplicantRepository
from fuquan.platform.cases.schemas import DeadlineRead
from fuquan.platform.cases.services.reads import DECIDED, timing
from fuquan.platform.cases.state_machine import STATUS_NAMES, Status
from fuquan.platform.catalog.services import current
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.supervision.repositories import RatingSums, SupervisionRepository, unit_of
from fuquan.platform.supervision.schemas import DashboardRead, StatusCount, UnitFigures, UnitRef, WarningRow
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

OPEN = (
    Status.ACCEPTED,
    Status.IN_REVIEW,
    Status.SUSPENDED,
    Status.CORRECTING,
)  # 在办: the clock has started, no decision yet
LIST_LIMIT = 50  # rows per warning list; the totals still count every case


@dataclass(slots=True)
class _Tally:
    """Figures of one row while they are being added up."""

    by_status: Counter[str] = field(default_factory=Counter)
    yellow: int = 0
    red: int = 0
    finished: int = 0
    on_time: int = 0
    ratings: int = 0
    rating_total: int = 0
    good: int = 0
    bad: int = 0

    def add(self, other: _Tally) -> None:
        self.by_status.update(other.by_status)
        self.yellow += other.yellow
        self.red += other.red
        self.finished += other.finished
        self.on_time += other.on_time
        self.ratings += other.ratings
        self.rating_total += other.rating_total
        self.good += other.good
        self.bad += other.bad

    def figures(self, unit: UnitRef, *, own: bool = False, drillable: bool = False) -> UnitFigures:
        return UnitFigures(
            code=unit.code, name=unit.name, level=unit.level, own=own, drillable=drillable,
            total=sum(self.by_status.values()),
            by_status={status.value: self.by_status[status.value] for status in Status if self.by_status[status.value]},
            open=sum(self.by_status[status.value] for status in OPEN), yellow=self.yellow, red=self.red,
            finished=self.finished, on_time=self.on_time, on_time_rate=_share(self.on_time, self.finished),
            ratings=self.ratings,
            rating_average=round(self.rating_total / self.ratings, 2) if self.ratings else None,
            good_ratings=self.good, bad_ratings=self.bad, good_share=_share(self.good, self.ratings),
        )  # fmt: skip


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


class _Buckets:
    """Which row a case's unit falls in: the child whose subtree holds it, or the chosen unit itself."""

    def __init__(self, code: str, children: Iterable[str]) -> None:
        self.code = code
        self.children = set(children)
        self.lengths = sorted({len(child) for child in self.children})

    def of(self, unit: str | None) -> str:
        for length in self.lengths:
            if unit is not None and unit[:length] in self.children:
                return unit[:length]
        return self.code  # the unit's own cases (or a case at a unit missing from the tree)


async def dashboard(session: AsyncSession, actor: Actor, unit_code: str | None, now: datetime) -> DashboardRead:
    """The dashboard of ``unit_code`` (default: the actor's own unit); outside the actor's scope → NotFound."""
    scope = actor.scope
    units = UnitRepository(session)
    code = unit_code or actor.unit_code
    unit = await units.get(scope, code)  # NotFound: absent, another tenant's, or outside the caller's subtree
    here = UnitRef(code=unit.code, name=unit.name, level=unit.level)
    below = await units.subtree(scope, code, max_level=unit.level + 2)  # children, and theirs to know who drills
    children = [u for u in below if u.parent_code == code]
    parents = {u.parent_code for u in below if u.level == unit.level + 2}
    breadcrumb = [UnitRef(code=u.code, name=u.name, level=u.level)
                  for u in await units.ancestors(scope, code) if scope.covers(u.code)]  # fmt: skip
    buckets = _Buckets(code, (child.code for child in children))
    tallies: defaultdict[str, _Tally] = defaultdict(_Tally)

    repository = SupervisionRepository(session)
    for row in await repository.status_counts(scope, code):
        tallies[buckets.of(row.unit)].by_status[row.status] += row.count
    for sums in await repository.rating_sums(scope, code):
        _add_ratings(tallies[buckets.of(sums.unit)], sums)

    calendar = await calendar_for(session, scope)
    today = local_date(now, scope.timezone)
    # decided cases: on time when the clock, stopped at the decision, shows no working day over (not red)
    finished, finished_pauses = await repository.clocked_cases(scope, code, [s.value for s in DECIDED])
    for case in finished:
        tally = tallies[buckets.of(unit_of(case, code))]
        tally.finished += 1
        tally.on_time += timing(case, finished_pauses[case.id], calendar, today, scope.timezone).signal != "red"
    # open cases: the signal the case API shows today
    open_cases, open_pauses = await repository.clocked_cases(scope, code, [s.value for s in OPEN])
    warned: list[tuple[Case, DeadlineRead]] = []
    for case in open_cases:
        clock = timing(case, open_pauses[case.id], calendar, today, scope.timezone)
        tally = tallies[buckets.of(unit_of(case, code))]
        if clock.signal == "red":
            tally.red += 1
        elif clock.signal == "yellow":
            tally.yellow += 1
        else:
            continue
        warned.append((case, clock))

    rows: list[UnitFigures] = []
    total = _Tally()
    if code in tallies:
        rows.append(tallies[code].figures(here, own=True))
    for child in children:
        ref = UnitRef(code=child.code, name=child.name, level=child.level)
        rows.append(tallies[child.code].figures(ref, drillable=child.code in parents))
    for tally in tallies.values():
        total.add(tally)

    lists = await _warning_rows(session, scope, code, warned)
    return DashboardRead(
        unit=here, breadcrumb=breadcrumb, today=today,
        statuses=[StatusCount(status=s.value, name=STATUS_NAMES[s], count=total.by_status[s.value]) for s in Status],
        units=rows, total=total.figures(here), red=lists["red"], yellow=lists["yellow"],
        red_total=total.red, yellow_total=total.yellow, list_limit=LIST_LIMIT,
    )  # fmt: skip


def _add_ratings(tally: _Tally, sums: RatingSums) -> None:
    tally.ratings += sums.count
    tally.rating_total += sums.total
    tally.good += sums.good
    tally.bad += sums.bad


async def _warning_rows(
    session: AsyncSession, scope: TenantScope, code: str, warned: list[tuple[Case, DeadlineRead]]
) -> dict[str, list[WarningRow]]:
    """The first ``LIST_LIMIT`` red and yellow cases, most urgent first (fewest working days left, then the
    earliest deadline): only these are looked up further (applicant, unit and item names)."""
    warned.sort(key=lambda pair: (pair[1].working_days_left or 0, pair[1].deadline or date.min, pair[0].id))
    shown = {signal: [pair for pair in warned if pair[1].signal == signal][:LIST_LIMIT] for signal in ("red", "yellow")}
    cases = [case for pairs in shown.values() for case, _clock in pairs]
    applicants = await ApplicantRepository(session).many(sorted({case.applicant_id for case in cases}))
    names = await UnitRepository(session).names(scope, sorted({unit_of(case, code) for case in cases}))
    catalog = await current(session, scope)

    def row(case: Case, clock: DeadlineRead) -> WarningRow:
        unit = unit_of(case, code)
        item = catalog.items.get(case.item_code)
        return WarningRow(
            case_id=case.id, receipt_no=case.receipt_no, item=case.item_code,
            item_name=item.name if item else case.item_code, unit=unit, unit_name=names.get(unit, unit),
            status=case.status, status_name=STATUS_NAMES[Status(case.status)], signal=clock.signal, clock=clock.clock,
            deadline=clock.deadline, working_days_left=clock.working_days_left or 0,
            applicant=applicants[case.applicant_id].name_masked, link=f"/cases/{case.id}",
        )  # fmt: skip

    return {signal: [row(case, clock) for case, clock in pairs] for signal, pairs in shown.items()}
