"""The days a case's warnings fall due (预警日期), kept on the case so the warning job finds them with an index
instead of computing every open case's clock: they agree with the clock the case API shows (``reads.timing``).

- yellow: the first day a third or less of the promised working days is left — when the working days used reach
  ``promised - promised // 3`` (a 即办件 is yellow the day it is accepted);
- red: the first day the working days used exceed the promised ones;
- the last day of the legal acceptance period (行政许可法 Art. 32: five working days; a 即办件 the same day).
Pauses (补正, 特别程序) push the first two later; they are computed again when the clock resumes.

At the decision the case keeps the working days it took (办结用时, ``days_taken``), for the performance figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final

from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases.models import Case, CasePause
from fuquan.platform.cases.state_machine import Action

ACCEPTANCE_WORKING_DAYS: Final = 5  # 行政许可法第三十二条
SPECIAL_PROCEDURE_WORKING_DAYS: Final = (
    20  # the default limit of a special procedure (特别程序) until the catalogue sets one
)


def clock_alarms(
    calendar: WorkingCalendar, accepted_on: date, promised_days: int, pauses: Sequence[tuple[date, date | None]] = ()
) -> tuple[date, date]:
    """(yellow day, red day) of a running clock with these closed pauses."""
    yellow = calendar.deadline_with_pauses(accepted_on, promised_days - promised_days // 3, pauses)
    red = calendar.deadline_with_pauses(accepted_on, promised_days + 1, pauses)
    return yellow, red


def acceptance_last_day(calendar: WorkingCalendar, submitted_on: date, promised_days: int) -> date:
    return submitted_on if promised_days == 0 else calendar.add_working_days(submitted_on, ACCEPTANCE_WORKING_DAYS)


DEEMED_ACCEPTED: Final = (
    "受理期限已过：依照《中华人民共和国行政许可法》第三十二条，逾期未告知补正、也未决定不予受理的，自收到申请材料之日起"
    "即为受理。请予受理，此后审查中需要的补正或不予许可，依法在审查中作出。"
)


# what the law no longer allows once the period has passed unanswered
BARRED_AFTER_ACCEPTANCE_PERIOD: Final = (Action.REFUSE, Action.REQUEST_SUPPLEMENT)


def acceptance_period_passed(case: Case, today: date) -> bool:
    """视为受理: a submitted case whose acceptance period ended before today without an answer."""
    return case.status == "submitted" and case.accept_by is not None and today > case.accept_by


def days_taken(calendar: WorkingCalendar, accepted_on: date, decided_on: date, pauses: Sequence[CasePause]) -> int:
    """办结用时: working days from acceptance to the decision outside the pauses, as the case's clock counts them."""
    return calendar.working_days_used(accepted_on, decided_on, [(pause.started_on, pause.ended_on) for pause in pauses])


def alarms_of(
    case: Case, pauses: Sequence[CasePause], calendar: WorkingCalendar, submitted_on: date | None,
    decided_on: date | None,
) -> dict[str, Any]:  # fmt: skip
    """A case's warning dates from its state, as the steps would have set them, and the working days a decided one
    took: for a case from before they existed (the warning job's first runs) and for the demo's back-dated history.
    Values for a Core UPDATE: the case's version stays what its readers hold."""
    values: dict[str, Any] = {"yellow_on": None, "red_on": None, "accept_by": None, "alarms_set": True}
    if decided_on is not None and case.accepted_on is not None:
        values["working_days_used"] = days_taken(calendar, case.accepted_on, decided_on, pauses)
    if case.status in ("accepted", "in_review", "suspended", "correcting") and case.accepted_on is not None:
        closed = [(pause.started_on, pause.ended_on) for pause in pauses if pause.ended_on is not None]
        values["yellow_on"], values["red_on"] = clock_alarms(calendar, case.accepted_on, case.promised_days, closed)
    elif case.status == "submitted" and submitted_on is not None:
        values["accept_by"] = acceptance_last_day(calendar, submitted_on, case.promised_days)
    return values


def special_procedure_limit(calendar: WorkingCalendar, started_on: date) -> date:
    return calendar.add_working_days(started_on, SPECIAL_PROCEDURE_WORKING_DAYS)
