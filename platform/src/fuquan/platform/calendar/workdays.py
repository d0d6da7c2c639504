"""工作日历: working days (工作日) on the Chinese calendar — pure, no I/O.

Where a day's status comes from, first match wins:

1. ``tenant`` — the tenant's own table (本地节假日 / 调休上班); it always wins over the library.
2. ``library`` — ``chinesecalendar`` (the State Council's 放假调休 schedule), for the years it covers.
3. ``weekend-fallback`` — Monday to Friday working, Saturday and Sunday off, for a year the library
   does not cover. Such a year never raises; it logs ``calendar_year_not_covered`` once per year per
   process (with how many entries the tenant's table has for it — the tenant may have filled it in).

Counting (DESIGN §7 期限):

* A promised item (承诺件) with N promised working days accepted (受理) on day D is due at the end
  of the N-th working day counted from the day after D: ``add_working_days(D, N)``. An immediate
  item (即办件, N = 0) is due on D itself.
* The clock stops during pauses — awaiting supplement (补齐补正) and special procedures (特别程序).
  A pause ``(start, end)`` is the half-open interval ``[start, end)`` of dates:

  - the day a pause starts does **not** count (the notice went out, the clock stopped that day);
  - the day a pause ends counts again (the materials came back or the procedure concluded, the
    clock runs that day);
  - an open pause ``(start, None)`` has not ended, so on ``today`` it stops every day from ``start``
    up to and including ``today``. Closing it on day R makes it ``[start, R)``, which agrees with
    the open form as seen on R - 1: nothing already counted changes when a pause is closed.

  Only working days matter: a pause over a weekend or a holiday stops nothing extra. Pauses may
  overlap; a day inside several pauses is stopped once. Days on or before acceptance never count,
  so a pause before acceptance changes nothing.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import MappingProxyType
from typing import Final, Literal

import chinese_calendar  # type: ignore[import-untyped]
import structlog

log = structlog.get_logger()

Source = Literal["library", "tenant", "weekend-fallback"]
Pause = tuple[date, date | None]  # [start, end): end None = still paused

ONE_DAY: Final = timedelta(days=1)
NO_OVERRIDES: Final[Mapping[date, bool]] = MappingProxyType({})

_warned_years: set[int] = set()
_warned_lock = threading.Lock()


@functools.cache
def library_covers(year: int) -> bool:
    """Does the installed ``chinesecalendar`` know the 放假调休 schedule of ``year``?"""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=16_384)
def _library_workday(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


def _holiday_name(english: str) -> str:
    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:
        return english


def library_name(day: date) -> str:
    """The library's name for a holiday-related day (``国庆节``, ``国庆节（调休上班）``), or ``""``."""
    if not library_covers(day.year):
        return ""
    on_holiday, english = chinese_calendar.get_holiday_detail(day)
    if not english:
        return ""
    name = _holiday_name(str(english))
    return name if on_holiday else f"{name}（调休上班）"


def _ordinary(day: date) -> bool:
    """The weekday rule: Monday to Friday work, weekends off."""
    return day.weekday() < 5


@dataclass(frozen=True, slots=True)
class CalendarDay:
    """One day that differs from the weekday rule, or that the tenant has set."""

    day: date
    workday: bool
    source: Source
    name: str = ""


class WorkingCalendar:
    """A tenant's working-day calendar: the library's schedule with the tenant's overrides on top.

    ``overrides`` maps a date to True (working day, e.g. an extra 调休上班 Saturday) or False
    (day off, e.g. a local holiday); they win over the library for that day.
    """

    def __init__(self, overrides: Mapping[date, bool] = NO_OVERRIDES) -> None:
        self._overrides: dict[date, bool] = dict(overrides)
        self._entries_by_year: Counter[int] = Counter(day.year for day in self._overrides)

    @property
    def overrides(self) -> Mapping[date, bool]:
        return MappingProxyType(self._overrides)

    def covered(self, year: int) -> bool:
        """Whether the library covers ``year`` (if not, weekends plus the tenant's entries are used)."""
        return library_covers(year)

    def _not_covered(self, year: int) -> None:
        with _warned_lock:
            if year in _warned_years:
                return
            _warned_years.add(year)
        log.warning(
            "calendar_year_not_covered", year=year, tenant_entries=self._entries_by_year[year], fallback="weekends"
        )

    def status(self, day: date) -> tuple[bool, Source]:
        """Whether ``day`` is a working day, and which source says so."""
        if not library_covers(day.year):
            self._not_covered(day.year)
            if day in self._overrides:
                return self._overrides[day], "tenant"
            return _ordinary(day), "weekend-fallback"
        if day in self._overrides:
            return self._overrides[day], "tenant"
        return _library_workday(day), "library"

    def is_workday(self, day: date) -> bool:
        """工作日: True on a working day, False on a weekend, a holiday or a tenant's day off."""
        return self.status(day)[0]

    def source(self, day: date) -> Source:
        return self.status(day)[1]

    def add_working_days(self, start: date, days: int) -> date:
        """The date of the ``days``-th working day after ``start``; ``days == 0`` gives ``start`` (即办件)."""
        if days < 0:
            raise ValueError("days must not be negative")
        day, left = start, days
        while left:
            day += ONE_DAY
            if self.is_workday(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; 0 when ``end <= start``."""
        return sum(1 for day in _days_after(start, end) if self.is_workday(day))

    def special_days(self, year: int) -> list[CalendarDay]:
        """The days of ``year`` that break the weekday rule (holidays on weekdays, 调休 workdays on
        weekends) plus every day the tenant has set, in date order."""
        found = []
        for day in _days_after(date(year, 1, 1) - ONE_DAY, date(year, 12, 31)):
            workday, source = self.status(day)
            if source == "tenant" or workday != _ordinary(day):
                found.append(CalendarDay(day, workday, source, library_name(day)))
        return found

    # -- the clock of a case (办理时限), stopped during pauses -----------------------------------

    def working_days_used(self, accepted_on: date, today: date, paused: Sequence[Pause]) -> int:
        """Working days spent on a case: working days in ``(accepted_on, today]`` outside every pause.

        An open pause stops every day from its start through ``today``. The case is overdue (超期)
        once this exceeds its promised working days.
        """
        stops = _stops(paused, today)
        return sum(1 for day in _days_after(accepted_on, today) if self.is_workday(day) and not _stopped(day, stops))

    def deadline_with_pauses(
        self, accepted_on: date, promised_days: int, paused: Sequence[Pause], today: date | None = None
    ) -> date:
        """The due date once the pauses are taken out: the ``promised_days``-th working day after
        ``accepted_on`` that lies outside every pause. Each pause pushes the deadline later by the
        working days it stopped before the deadline was reached.

        An open pause needs ``today`` and is counted as stopping through ``today``: the answer is the
        deadline if the clock restarts tomorrow, the earliest it can still become.
        ``promised_days == 0`` (即办件) gives ``accepted_on``.
        """
        if promised_days < 0:
            raise ValueError("promised_days must not be negative")
        if today is None and any(end is None for _, end in paused):
            raise ValueError("an open pause needs today to compute a deadline")
        stops = _stops(paused, today)
        day, left = accepted_on, promised_days
        while left:
            day += ONE_DAY
            if self.is_workday(day) and not _stopped(day, stops):
                left -= 1
        return day


def _days_after(start: date, end: date) -> Iterator[date]:
    """The dates of ``(start, end]``."""
    day = start
    while day < end:
        day += ONE_DAY
        yield day


def _stops(paused: Sequence[Pause], today: date | None) -> list[tuple[date, date]]:
    """Pauses as ``[start, end)`` intervals; an open one ends after ``today``."""
    stops = []
    for start, end in paused:
        if end is not None and end < start:
            raise ValueError(f"a pause cannot end ({end}) before it starts ({start})")
        if end is not None:
            stops.append((start, end))
        elif today is not None:
            stops.append((start, max(start, today + ONE_DAY)))
        else:  # pragma: no cover - guarded by the callers
            raise ValueError("an open pause needs today")
    return stops


def _stopped(day: date, stops: list[tuple[date, date]]) -> bool:
    return any(start <= day < end for start, end in stops)


__all__ = ["CalendarDay", "Pause", "Source", "WorkingCalendar", "library_covers", "library_name"]
