"""工作日历: working days on the Chinese calendar, tenant overrides, uncovered years and stopped clocks."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import CapturingLogger

from fuquan.platform.calendar import workdays
from fuquan.platform.calendar.workdays import CalendarDay, WorkingCalendar

NATIONAL = WorkingCalendar()


def d(text: str) -> date:
    return date.fromisoformat(text)


def days_off(calendar: WorkingCalendar, first: str, last: str) -> list[str]:
    start, end = d(first), d(last)
    span = (start + timedelta(days=i) for i in range((end - start).days + 1))
    return [day.isoformat() for day in span if not calendar.is_workday(day)]


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> CapturingLogger:
    """The module's logger, recorded; and a process that has not warned about any year yet."""
    logger = CapturingLogger()
    monkeypatch.setattr(workdays, "log", logger)
    monkeypatch.setattr(workdays, "_warned_years", set())
    return logger


# -- the national schedule of 2026 as chinesecalendar 1.11 has it ------------------------------------


def test_the_library_data_for_national_day_and_mid_autumn_2026() -> None:
    # 中秋 Fri 25 – Sun 27 Sep, 国庆 Thu 1 – Wed 7 Oct; make-up workdays Sun 20 Sep and Sat 10 Oct
    holidays = {day: name for day, name in chinese_calendar.constants.holidays.items() if day.year == 2026}
    assert [day for day, name in holidays.items() if name == "Mid-autumn Festival"] == [
        d("2026-09-25"), d("2026-09-26"), d("2026-09-27")
    ]  # fmt: skip
    assert [day for day, name in holidays.items() if name == "National Day"] == [
        d(f"2026-10-0{n}") for n in range(1, 8)
    ]
    makeup = sorted(day for day, name in chinese_calendar.constants.workdays.items() if name == "National Day")
    assert [day for day in makeup if day.year == 2026] == [d("2026-09-20"), d("2026-10-10")]
    assert d("2026-09-20").weekday() == 6 and d("2026-10-10").weekday() == 5


def test_national_day_2026_through_the_calendar() -> None:
    assert days_off(NATIONAL, "2026-09-19", "2026-10-11") == [
        "2026-09-19",  # an ordinary Saturday
        "2026-09-25", "2026-09-26", "2026-09-27",  # 中秋
        "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07",  # 国庆
        "2026-10-11",  # an ordinary Sunday; Sat 10 Oct is a make-up workday
    ]  # fmt: skip
    assert NATIONAL.is_workday(d("2026-09-20")) and NATIONAL.is_workday(d("2026-10-10"))
    assert NATIONAL.source(d("2026-10-01")) == "library" and NATIONAL.covered(2026)


def test_a_deadline_crossing_national_day() -> None:
    # accepted Mon 28 Sep, 5 working days: 29, 30 Sep, 8, 9 Oct and the make-up Saturday 10 Oct
    assert NATIONAL.add_working_days(d("2026-09-28"), 5) == d("2026-10-10")
    assert NATIONAL.add_working_days(d("2026-09-28"), 6) == d("2026-10-12")
    # accepted on the eve of the holiday, 1 working day: the first working day after it
    assert NATIONAL.add_working_days(d("2026-09-30"), 1) == d("2026-10-08")
    assert NATIONAL.working_days_between(d("2026-09-30"), d("2026-10-08")) == 1
    assert NATIONAL.working_days_between(d("2026-09-28"), d("2026-10-10")) == 5


def test_spring_festival_2026() -> None:
    # 春节: Sun 15 – Mon 23 Feb off; Sat 14 and Sat 28 Feb are make-up workdays
    assert days_off(NATIONAL, "2026-02-13", "2026-03-01") == [f"2026-02-{n}" for n in range(15, 24)] + ["2026-03-01"]
    assert NATIONAL.is_workday(d("2026-02-14")) and NATIONAL.is_workday(d("2026-02-28"))
    # accepted Thu 12 Feb, 3 working days: Fri 13, Sat 14 (调休), then Tue 24
    assert NATIONAL.add_working_days(d("2026-02-12"), 3) == d("2026-02-24")
    assert NATIONAL.working_days_between(d("2026-02-14"), d("2026-02-24")) == 1


def test_an_immediate_item_is_due_the_same_day() -> None:
    assert NATIONAL.add_working_days(d("2026-10-01"), 0) == d("2026-10-01")  # even on a holiday
    assert NATIONAL.add_working_days(d("2026-03-04"), 0) == d("2026-03-04")
    assert NATIONAL.working_days_between(d("2026-03-04"), d("2026-03-04")) == 0
    assert NATIONAL.working_days_between(d("2026-03-09"), d("2026-03-04")) == 0
    with pytest.raises(ValueError, match="negative"):
        NATIONAL.add_working_days(d("2026-03-04"), -1)


def test_special_days_list_only_what_breaks_the_weekday_rule() -> None:
    special = {entry.day: entry for entry in NATIONAL.special_days(2026)}
    assert special[d("2026-10-01")] == CalendarDay(d("2026-10-01"), False, "library", "国庆节")
    assert special[d("2026-09-25")].name == "中秋"
    assert special[d("2026-09-20")] == CalendarDay(d("2026-09-20"), True, "library", "国庆节（调休上班）")
    assert d("2026-10-03") not in special  # a holiday on a Saturday is an ordinary day off
    assert d("2026-10-08") not in special
    assert all(entry.day.year == 2026 for entry in special.values())


# -- a year the library does not cover ----------------------------------------------------------------


def test_an_uncovered_year_falls_back_to_weekends_and_warns_once(warnings: CapturingLogger) -> None:
    assert not NATIONAL.covered(2031)
    assert NATIONAL.is_workday(d("2031-01-01"))  # really 元旦, but the library does not know 2031
    assert NATIONAL.source(d("2031-01-01")) == "weekend-fallback"
    assert not NATIONAL.is_workday(d("2031-01-04"))  # a Saturday
    assert NATIONAL.add_working_days(d("2031-01-01"), 3) == d("2031-01-06")
    assert NATIONAL.working_days_between(d("2030-12-31"), d("2031-01-31")) == 23
    assert WorkingCalendar().special_days(2031) == []  # another calendar, the same process: no second warning
    assert NATIONAL.is_workday(d("2032-03-01")) and NATIONAL.is_workday(d("2032-03-02"))
    calls = [call for call in warnings.calls if call.args == ("calendar_year_not_covered",)]
    assert len(warnings.calls) == len(calls) == 2
    assert [call.kwargs["year"] for call in calls] == [2031, 2032]  # once per year, however often it is asked
    assert all(call.method_name == "warning" for call in calls)
    assert next(call for call in calls if call.kwargs["year"] == 2031).kwargs["tenant_entries"] == 0


def test_an_uncovered_year_uses_the_tenant_entries_and_still_warns(warnings: CapturingLogger) -> None:
    new_year = {d("2031-01-01"): False, d("2031-01-02"): False, d("2031-01-04"): True}
    calendar = WorkingCalendar(new_year)
    assert not calendar.is_workday(d("2031-01-01")) and calendar.source(d("2031-01-01")) == "tenant"
    assert calendar.is_workday(d("2031-01-04"))  # the tenant's make-up Saturday
    assert calendar.add_working_days(d("2030-12-31"), 3) == d("2031-01-06")  # Fri 3, Sat 4, Mon 6
    assert [call.kwargs for call in warnings.calls] == [{"year": 2031, "tenant_entries": 3, "fallback": "weekends"}]
    assert [entry.day for entry in calendar.special_days(2031)] == sorted(new_year)


def test_the_library_range_never_raises() -> None:
    for year in (1, 2003, 2027, 2031, 9999):
        NATIONAL.is_workday(date(year, 6, 1))
    assert NATIONAL.covered(2004) and NATIONAL.covered(2026) and not NATIONAL.covered(2003)


# -- the tenant's own table ----------------------------------------------------------------------------


def test_tenant_overrides_win_over_the_library() -> None:
    ningxia = WorkingCalendar(
        {
            d("2026-03-20"): False,  # 开斋节, a Ningxia local holiday on a Friday
            d("2026-03-21"): True,  # an extra working Saturday
            d("2026-10-07"): True,  # even a national holiday, if the tenant says so
        }
    )
    assert not ningxia.is_workday(d("2026-03-20")) and ningxia.source(d("2026-03-20")) == "tenant"
    assert ningxia.is_workday(d("2026-03-21")) and ningxia.is_workday(d("2026-10-07"))
    assert NATIONAL.is_workday(d("2026-03-20")) and not NATIONAL.is_workday(d("2026-03-21"))
    # accepted Thu 19 Mar, 2 working days: Sat 21 and Mon 23 (nationally: Fri 20 and Mon 23)
    assert ningxia.add_working_days(d("2026-03-19"), 2) == d("2026-03-23")
    assert ningxia.add_working_days(d("2026-03-19"), 1) == d("2026-03-21")
    assert NATIONAL.add_working_days(d("2026-03-19"), 1) == d("2026-03-20")
    assert ningxia.add_working_days(d("2026-09-30"), 1) == d("2026-10-07")
    special = {entry.day: entry for entry in ningxia.special_days(2026)}
    assert special[d("2026-03-20")].source == special[d("2026-03-21")].source == "tenant"
    assert special[d("2026-10-07")] == CalendarDay(d("2026-10-07"), True, "tenant", "国庆节")


def test_the_calendar_keeps_its_own_copy_of_the_overrides() -> None:
    table = {d("2026-03-20"): False}
    calendar = WorkingCalendar(table)
    table[d("2026-03-20")] = True
    assert not calendar.is_workday(d("2026-03-20"))
    assert dict(calendar.overrides) == {d("2026-03-20"): False}


# -- stopped clocks: 补齐补正 and 特别程序 ------------------------------------------------------------------

ACCEPTED = d("2026-03-02")  # a Monday; 10 working days fall due on Mon 16 Mar without pauses


def test_no_pause_no_change() -> None:
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, []) == d("2026-03-16") == NATIONAL.add_working_days(ACCEPTED, 10)
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-16"), []) == 10
    assert NATIONAL.working_days_used(ACCEPTED, ACCEPTED, []) == 0
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-02-27"), []) == 0


def test_supplement_stops_the_clock_from_its_first_day_and_restarts_on_its_last() -> None:
    supplement = [(d("2026-03-05"), d("2026-03-09"))]  # 补齐补正 notice Thu 5 Mar, materials back Mon 9 Mar
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-04"), supplement) == 2  # Tue 3, Wed 4
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-05"), supplement) == 2  # the notice day is stopped
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-06"), supplement) == 2
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-09"), supplement) == 3  # the day they return counts
    # Thu 5 and Fri 6 were stopped: the deadline moves two working days later
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, supplement) == d("2026-03-18")
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-18"), supplement) == 10


def test_an_open_special_procedure_stops_today_too() -> None:
    special = [(d("2026-03-10"), None)]  # 特别程序 since Tue 10 Mar, not concluded
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-09"), special) == 5
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-10"), special) == 5  # started today: today is stopped
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-20"), special) == 5
    # the deadline if the clock restarts tomorrow: stopped Tue 10 – Thu 12, so Thu 19
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, special, today=d("2026-03-12")) == d("2026-03-19")
    with pytest.raises(ValueError, match="today"):
        NATIONAL.deadline_with_pauses(ACCEPTED, 10, special)


def test_closing_a_pause_changes_nothing_already_counted() -> None:
    for today in (d("2026-03-10"), d("2026-03-13"), d("2026-03-16")):
        open_ = NATIONAL.working_days_used(ACCEPTED, today, [(d("2026-03-10"), None)])
        closed = NATIONAL.working_days_used(ACCEPTED, today, [(d("2026-03-10"), today + timedelta(days=1))])
        assert open_ == closed
        assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, [(d("2026-03-10"), None)], today=today) == (
            NATIONAL.deadline_with_pauses(ACCEPTED, 10, [(d("2026-03-10"), today + timedelta(days=1))])
        )


def test_pause_edges() -> None:
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, [(d("2026-03-05"), d("2026-03-05"))]) == d("2026-03-16")
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, [(d("2026-02-20"), d("2026-03-03"))]) == d("2026-03-16")
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, [(d("2026-03-07"), d("2026-03-09"))]) == d("2026-03-16")
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, [(d("2026-03-17"), None)], today=d("2026-03-20")) == d(
        "2026-03-16"
    )  # a pause after the deadline does not rescue an overdue case
    assert NATIONAL.working_days_used(ACCEPTED, d("2026-03-20"), [(d("2026-03-17"), None)]) == 10
    overlapping = [(d("2026-03-05"), d("2026-03-09")), (d("2026-03-06"), d("2026-03-10"))]  # stops 5, 6, 9 Mar
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 10, overlapping) == d("2026-03-19")
    assert NATIONAL.deadline_with_pauses(ACCEPTED, 0, overlapping) == ACCEPTED
    # a pause over the National Day holiday stops nothing that was not already off
    assert NATIONAL.deadline_with_pauses(d("2026-09-28"), 5, [(d("2026-10-01"), d("2026-10-08"))]) == d("2026-10-10")
    with pytest.raises(ValueError, match="before it starts"):
        NATIONAL.working_days_used(ACCEPTED, d("2026-03-20"), [(d("2026-03-09"), d("2026-03-05"))])
    with pytest.raises(ValueError, match="negative"):
        NATIONAL.deadline_with_pauses(ACCEPTED, -1, [])


# -- properties --------------------------------------------------------------------------------------

days = st.dates(min_value=date(2003, 1, 1), max_value=date(2032, 12, 31))
overrides = st.dictionaries(days, st.booleans(), max_size=30).map(WorkingCalendar)
counts = st.integers(min_value=0, max_value=300)
pauses = st.lists(
    st.tuples(days, st.integers(min_value=0, max_value=40)).map(lambda p: (p[0], p[0] + timedelta(days=p[1]))),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(calendar=overrides, start=days, n=counts)
def test_add_working_days_lands_on_a_working_day_n_working_days_later(
    calendar: WorkingCalendar, start: date, n: int
) -> None:
    due = calendar.add_working_days(start, n)
    if n > 0:
        assert calendar.is_workday(due)
    assert calendar.working_days_between(start, due) == n
    assert due < calendar.add_working_days(start, n + 1)


@settings(max_examples=100, deadline=None)
@given(calendar=overrides, start=days, n=counts, m=counts)
def test_add_working_days_is_monotone(calendar: WorkingCalendar, start: date, n: int, m: int) -> None:
    low, high = sorted((n, m))
    assert calendar.add_working_days(start, low) <= calendar.add_working_days(start, high)


@settings(max_examples=100, deadline=None)
@given(calendar=overrides, accepted=days, n=counts, paused=pauses)
def test_pauses_only_push_the_deadline_later(
    calendar: WorkingCalendar, accepted: date, n: int, paused: list[tuple[date, date]]
) -> None:
    due = calendar.deadline_with_pauses(accepted, n, paused)
    assert due >= calendar.add_working_days(accepted, n)
    assert calendar.working_days_used(accepted, due, paused) == n
    if n > 0:
        assert calendar.working_days_used(accepted, due - timedelta(days=1), paused) == n - 1
    assert calendar.working_days_used(accepted, due, paused) <= calendar.working_days_between(accepted, due)


@settings(max_examples=150, deadline=None)
@given(calendar=overrides, today=days, n=counts, closed=pauses, open_since=st.none() | days)
def test_on_the_day_a_clock_starts_no_pause_can_matter(
    calendar: WorkingCalendar, today: date, n: int, closed: list[tuple[date, date]], open_since: date | None
) -> None:
    """Why a case accepted today is answered without reading its pauses: a pause then either ended by today
    (a supplement before acceptance) or is open since today at the latest, and the clock counts only the days
    after acceptance."""
    paused: list[tuple[date, date | None]] = [(start, min(end, today)) for start, end in closed if start <= today]
    if open_since is not None and open_since <= today:
        paused.append((open_since, None))
    assert calendar.working_days_used(today, today, paused) == 0
    assert calendar.deadline_with_pauses(today, n, paused, today=today) == calendar.add_working_days(today, n)
