"""Planning each demo case on a timeline in the last ~30 days: the state and signal it ends in, and when
each of its steps happened."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases.schemas import Signal
from fuquan.platform.cases.state_machine import Action, Status
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.setup.demo_cases.people import (
    CLOCKED,
    CORRECTION_REASONS,
    DENY_REASONS,
    DESKS,
    GENERIC_REFUSALS,
    ITEM_WEIGHTS,
    MUST_HAVE,
    REFUSE_REASONS,
    REVOKE_REASONS,
    SIGNAL_WEIGHTS,
    STATUS_WEIGHTS,
    SUPPLEMENT_MISSING,
    SUPPLEMENT_UNUSABLE,
    SUSPEND_REASONS,
    WITHDRAW_DRAFT,
    WITHDRAW_SUBMITTED,
    WITHDRAW_WAITING,
    Desk,
    Resident,
    Residents,
)

# -- planning a case on a timeline in the past ---------------------------------------------------------


class Days:
    """Working days counted back from today: ``day(n)`` is the latest working day with n working days
    in (day, today] — so an open case accepted on ``day(n)`` has used exactly n working days."""

    def __init__(self, calendar: WorkingCalendar, today: date, earliest: date, now_local: datetime) -> None:
        self.days: list[date] = []
        day = today
        while day >= earliest or not self.days:
            if calendar.is_workday(day):
                self.days.append(day)
            day -= timedelta(days=1)
        self.today = today
        # before noon nothing can have happened today yet (a visit takes a few hours of steps)
        self.lag_min = 1 if self.days[0] == today and now_local.time() < time(12, 20) else 0
        self.lag_min = min(self.lag_min, len(self.days) - 1)
        self.n_max = len(self.days) - 1

    def day(self, n: int) -> date:
        return self.days[max(self.lag_min, min(n, self.n_max))]

    def clamp(self, n: int) -> int:
        return max(self.lag_min, min(n, self.n_max))


@dataclass(slots=True)
class Step:
    kind: str  # "create", "upload", "pledge", "defer", or an Action value
    side: str  # "front" (the accepting desk), "back" (the deciding unit) or "head" (the deciding unit's head)
    n: int  # working days before today (see Days)
    reason: str | None = None
    index: int | None = None  # the material, for material steps
    at: datetime | None = None  # planned instant (UTC), filled in by schedule


@dataclass(slots=True)
class CasePlan:
    desk: Desk
    item: CatalogItem
    resident: Resident
    target: Status
    signal: Signal | None
    approver_pick: int
    steps: list[Step] = field(default_factory=list)

    @property
    def created_at(self) -> datetime:
        assert self.steps[0].at is not None
        return self.steps[0].at


def _signal_range(promised: int, signal: Signal | None) -> tuple[int, int]:
    """Working days used that give ``signal`` (red overdue; yellow a third or less left)."""
    normal_max = (2 * promised - 1) // 3
    if signal == "red":
        return promised + 1, promised + 5
    if signal == "yellow":
        return normal_max + 1, promised
    return 0, normal_max


class _Planner:
    def __init__(self, rng: random.Random, days: Days) -> None:
        self.rng = rng
        self.days = days

    def _between(self, low: int, high: int) -> int:
        low, high = self.days.clamp(low), self.days.clamp(high)
        return self.rng.randint(min(low, high), max(low, high))

    def _intake(self, plan: CasePlan, n_created: int, *, submit: bool = True, withhold: bool = False,
                partial: bool = False) -> tuple[list[Step], int | None]:  # fmt: skip
        """Create, the materials, and (usually) submit. A withheld material is the one a supplement asks for:
        either it was not brought at all, or its photo (taken here) cannot be used as it is."""
        rng = self.rng
        steps = [Step("create", "front", n_created)]
        required = [(i, m) for i, m in enumerate(plan.item.materials, start=1) if m["required"]]
        uploadable = [i for i, m in required if not m.get("pledge") and not m.get("deferrable")]
        withheld = rng.choice(uploadable) if withhold and uploadable else None
        chosen = required if not partial else required[: rng.randint(0, max(0, len(required) - 1))]
        for index, material in chosen:
            if index == withheld:
                if rng.random() < 0.4:  # photographed, but unusable: the supplement will say why
                    steps.append(Step("upload", "front", n_created, index=index))
                continue
            if material.get("pledge") and rng.random() < 0.55:
                steps.append(Step("pledge", "front", n_created, index=index))
            elif material.get("deferrable") and rng.random() < 0.5:
                steps.append(Step("defer", "front", n_created, index=index))
            else:
                steps.append(Step("upload", "front", n_created, index=index))
        optional = [i for i, m in enumerate(plan.item.materials, start=1) if not m["required"]]
        if optional and not partial and rng.random() < 0.15:
            steps.append(Step("upload", "front", n_created, index=rng.choice(optional)))
        if submit:
            steps.append(Step(Action.SUBMIT, "front", n_created))
        return steps, withheld

    def _supplement(
        self, plan: CasePlan, intake: list[Step], withheld: int | None, n_asked: int, n_back: int | None
    ) -> list[Step]:
        """补齐补正 naming the withheld material; with ``n_back``, the applicant brings it and resubmits."""
        withheld = withheld or 1
        name = plan.item.materials[withheld - 1]["name"]
        photographed = any(step.kind == "upload" and step.index == withheld for step in intake)
        reason = self.rng.choice(SUPPLEMENT_UNUSABLE if photographed else SUPPLEMENT_MISSING).format(m=name)
        steps = [Step(Action.REQUEST_SUPPLEMENT, "front", n_asked, reason=reason)]
        if n_back is not None:
            steps += [Step("upload", "front", n_back, index=withheld), Step(Action.RESUBMIT, "front", n_back)]
        return steps

    def _accepted(self, plan: CasePlan, n_accept: int) -> list[Step]:
        """Intake (sometimes through a supplement first) up to acceptance on day ``n_accept``."""
        rng = self.rng
        if rng.random() < 0.18 and n_accept + 1 <= self.days.n_max:
            n_created = self._between(n_accept + 1, n_accept + 3)
            steps, withheld = self._intake(plan, n_created, withhold=True)
            if withheld is not None:
                steps += self._supplement(plan, steps, withheld, n_created, n_accept)
                return [*steps, Step(Action.ACCEPT, "front", n_accept)]
            n_accept = n_created
        steps, _ = self._intake(plan, n_accept)
        return [*steps, Step(Action.ACCEPT, "front", n_accept)]

    def plan(self, plan: CasePlan) -> None:
        rng, days = self.rng, self.days
        lag, top = days.lag_min, days.n_max
        item, target = plan.item, plan.target
        promised = item.promised_days
        steps: list[Step]
        if target == Status.DRAFT:
            steps, _ = self._intake(plan, self._between(lag, lag + 4), submit=False, partial=True)
        elif target == Status.SUBMITTED:
            steps, _ = self._intake(plan, self._between(lag, lag + 2))
        elif target == Status.AWAITING_SUPPLEMENT:
            n = self._between(lag, lag + 8)
            steps, withheld = self._intake(plan, n, withhold=True)
            steps += self._supplement(plan, steps, withheld, n, None)
        elif target == Status.REFUSED:
            n = self._between(lag, top)
            steps, _ = self._intake(plan, n, partial=rng.random() < 0.5)
            reason = rng.choice(REFUSE_REASONS.get(item.code, GENERIC_REFUSALS))
            steps.append(Step(Action.REFUSE, "front", self._between(n - 1, n), reason=reason))
        elif target == Status.WITHDRAWN:
            steps = self._withdrawn(plan)
        elif target in (Status.ACCEPTED, Status.IN_REVIEW):
            low, high = _signal_range(promised, plan.signal)
            n_accept = self._between(max(low, lag), high)
            steps = self._accepted(plan, n_accept)
            if target == Status.IN_REVIEW:
                steps.append(Step(Action.ASSIGN, "back", self._between(n_accept - rng.randint(0, 2), n_accept)))
        elif target == Status.SUSPENDED:
            steps = self._suspended(plan)
        elif target == Status.CORRECTING:
            steps = self._correcting(plan)
        else:  # decided: approved, denied, issued, closed, revoked
            steps = self._decided(plan)
        plan.steps = steps

    def _withdrawn(self, plan: CasePlan) -> list[Step]:
        rng, lag = self.rng, self.days.lag_min
        n = self._between(lag, self.days.n_max)
        roll = rng.random()
        if roll < 0.5:  # asked for a supplement, then gave up
            steps, withheld = self._intake(plan, n, withhold=True)
            steps += self._supplement(plan, steps, withheld, n, None)
            when = self.days.clamp(n - rng.randint(1, 4))
            return [*steps, Step(Action.WITHDRAW, "front", when, reason=rng.choice(WITHDRAW_WAITING))]
        if roll < 0.8:
            steps, _ = self._intake(plan, n)
            return [*steps, Step(Action.WITHDRAW, "front", n, reason=rng.choice(WITHDRAW_SUBMITTED))]
        steps, _ = self._intake(plan, n, submit=False, partial=True)
        return [*steps, Step(Action.WITHDRAW, "front", n, reason=rng.choice(WITHDRAW_DRAFT))]

    def _suspended(self, plan: CasePlan) -> list[Step]:
        """Accepted on A, suspended on S: the open pause stops the clock from S on, so the working days
        used are those strictly between A and S."""
        rng, days = self.rng, self.days
        low, high = _signal_range(plan.item.promised_days, plan.signal)
        used = rng.randint(low, high)
        n_suspend = days.lag_min + rng.randint(0, 4)
        n_accept = n_suspend + used + 1
        if n_accept > days.n_max:  # a short window: suspend more recently
            n_suspend = max(days.lag_min, n_suspend - (n_accept - days.n_max))
            n_accept = min(days.n_max, n_suspend + used + 1)
        steps = self._accepted(plan, n_accept)
        if rng.random() < 0.6:
            steps.append(Step(Action.ASSIGN, "back", self._between(n_suspend, n_accept - rng.randint(0, 1))))
        reason = rng.choice(SUSPEND_REASONS[plan.item.code])
        return [*steps, Step(Action.SUSPEND, "back", n_suspend, reason=reason)]

    def _correcting(self, plan: CasePlan) -> list[Step]:
        """Accepted, taken for review, then sent back for corrected materials (审查中补正) on C: the clock stops."""
        rng, days = self.rng, self.days
        n_correct = days.lag_min + rng.randint(0, 3)
        n_accept = min(days.n_max, n_correct + rng.randint(1, 3))
        steps = self._accepted(plan, n_accept)
        steps.append(Step(Action.ASSIGN, "back", self._between(n_correct, n_accept)))
        return [*steps, Step(Action.REQUEST_CORRECTION, "back", n_correct, reason=rng.choice(CORRECTION_REASONS))]

    def _decided(self, plan: CasePlan) -> list[Step]:
        rng, days = self.rng, self.days
        item, target = plan.item, plan.target
        promised = item.promised_days
        deny = target == Status.DENIED or (
            target in (Status.ISSUED, Status.CLOSED) and item.code in DENY_REASONS and rng.random() < 0.12
        )
        if promised == 0:  # 即办件: accepted, decided and issued in one visit
            used = pause = 0
            late = False
        else:
            late = target == Status.CLOSED and rng.random() < 0.1
            used = promised + rng.randint(1, 3) if late else rng.randint(1, promised)
            pause = rng.randint(2, 5) if item.code in SUSPEND_REASONS and rng.random() < 0.15 else 0
        issue_gap = 0 if promised == 0 else rng.randint(0, 1)
        close_gap = 0 if promised == 0 or rng.random() < 0.6 else rng.randint(1, 2)
        if target in (Status.APPROVED, Status.DENIED):
            n_decide = days.lag_min + rng.randint(0, 1)
        elif target == Status.ISSUED:
            n_decide = days.lag_min + rng.randint(0, 4) + issue_gap
        else:
            n_decide = self._between(days.lag_min + issue_gap + close_gap, days.n_max - used - pause)
        n_accept = n_decide + used + pause
        if n_accept > days.n_max:  # keep everything inside the window; the gaps shrink first
            shift = n_accept - days.n_max
            n_accept, n_decide = n_accept - shift, max(days.lag_min, n_decide - shift)
        steps = self._accepted(plan, n_accept)
        n_assign = n_accept if promised == 0 else self._between(n_accept - rng.randint(0, 1), n_accept)
        n_assign = max(n_assign, n_decide)
        steps.append(Step(Action.ASSIGN, "back", n_assign))
        if pause:
            n_suspend = self._between(min(n_decide + pause, n_assign), n_assign)
            steps.append(Step(Action.SUSPEND, "back", n_suspend, reason=rng.choice(SUSPEND_REASONS[item.code])))
            steps.append(Step(Action.RESUME, "back", max(n_decide, n_suspend - pause)))
        if deny:
            steps.append(Step(Action.DENY, "back", n_decide, reason=rng.choice(DENY_REASONS[item.code])))
        else:
            steps.append(Step(Action.APPROVE, "back", n_decide))
        if target in (Status.ISSUED, Status.CLOSED, Status.REVOKED):
            n_issue = days.clamp(n_decide - issue_gap)
            steps.append(Step(Action.ISSUE, "front", n_issue))
            if target in (Status.CLOSED, Status.REVOKED):
                n_close = days.clamp(n_issue - close_gap)
                steps.append(Step(Action.CLOSE, "front", n_close))
            if target == Status.REVOKED:  # found out later: the head revokes the approval (and its certificate)
                reason = rng.choice(REVOKE_REASONS)
                steps.append(Step(Action.REVOKE, "head", days.clamp(n_close - rng.randint(1, 3)), reason=reason))
        return steps


def schedule(plan: CasePlan, days: Days, rng: random.Random, tz: str, now: datetime) -> None:
    """Office-hours instants for the plan's steps: a visit starts between 08:35 and 15:30, the desk's
    steps follow each other by minutes, the back office's by a quarter to half an hour."""
    zone = ZoneInfo(tz)
    now_local = now.astimezone(zone)
    previous: datetime | None = None
    for step in plan.steps:
        day = days.day(step.n)
        if previous is not None and previous.date() >= day:
            gap = rng.randint(8, 30) if step.side == "back" else rng.randint(1, 5)
            moment = previous + timedelta(minutes=gap, seconds=rng.randint(0, 59))
        else:
            latest = 15 * 60 + 30
            if day == now_local.date():
                latest = min(latest, now_local.hour * 60 + now_local.minute - 240)
            start = rng.randint(8 * 60 + 35, max(8 * 60 + 35, latest))
            moment = datetime.combine(day, time(0), tzinfo=zone) + timedelta(minutes=start, seconds=rng.randint(0, 59))
        previous = moment
        step.at = min(moment.astimezone(UTC), now - timedelta(minutes=1))


def _targets(rng: random.Random, count: int) -> list[tuple[Status, Signal | None]]:
    statuses = list(STATUS_WEIGHTS)
    chosen: list[tuple[Status, Signal | None]] = list(MUST_HAVE[:count])
    for status in rng.choices(statuses, weights=[STATUS_WEIGHTS[s] for s in statuses], k=count - len(chosen)):
        signal: Signal | None = None
        if status in CLOCKED:
            options = SIGNAL_WEIGHTS[status]
            signal = rng.choices(list(options), weights=list(options.values()))[0]
        chosen.append((status, signal))
    return chosen


def _fits(item: CatalogItem, status: Status, signal: Signal | None, days: Days) -> bool:
    if status == Status.CORRECTING:
        return item.promised_days > 0 and days.lag_min + 4 <= days.n_max
    if status == Status.SUSPENDED:
        return item.code in SUSPEND_REASONS and _signal_range(item.promised_days, signal)[0] + 1 <= days.n_max
    if status in CLOCKED:
        return item.promised_days > 0 and _signal_range(item.promised_days, signal)[0] <= days.n_max
    if status == Status.DENIED:
        return item.code in DENY_REASONS
    return True


def plan_cases(
    rng: random.Random, count: int, desk_items: dict[str, list[CatalogItem]], days: Days,
    head_items: dict[str, list[CatalogItem]],
) -> list[CasePlan]:  # fmt: skip
    """``head_items``: what each desk accepts that a unit with a head decides (only a head revokes)."""
    residents = Residents(rng)
    planner = _Planner(rng, days)
    plans = []
    for status, signal in _targets(rng, count):
        for _attempt in range(50):
            desk = rng.choices(DESKS, weights=[d.weight for d in DESKS])[0]
            offered = head_items if status == Status.REVOKED else desk_items
            candidates = [i for i in offered[desk.username] if _fits(i, status, signal, days)]
            if candidates:
                break
        else:  # pragma: no cover - every state fits at a township window, whose grants cover all 20 items
            raise RuntimeError(f"no demo desk may accept an item fit for {status.value}")
        item = rng.choices(candidates, weights=[ITEM_WEIGHTS.get(i.code, 1) for i in candidates])[0]
        resident = residents.pick(desk.county, item.code)
        plan = CasePlan(desk, item, resident, status, signal, rng.randrange(1000))
        planner.plan(plan)
        plans.append(plan)
    return plans
