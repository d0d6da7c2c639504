"""Working-day calendar API shapes (JSON, snake_case)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

Source = Literal["library", "tenant", "weekend-fallback"]
Note = Annotated[str, msgspec.Meta(max_length=256)]


class CalendarDayWrite(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Set one day for the tenant: ``workday`` true = 调休上班 / extra working day, false = 放假.

    ``day`` may be left out; when given it must equal the day in the path.
    """

    workday: bool
    note: Note = ""
    day: date | None = None


class CalendarDayRead(msgspec.Struct, frozen=True, kw_only=True):
    """One day and why it is (not) a working day: the tenant's table, the library, or the weekend rule."""

    day: date
    workday: bool
    source: Source
    note: str = ""
    created_by: str | None = None


class CalendarYearRead(msgspec.Struct, frozen=True, kw_only=True):
    """The days of a year that are not ordinary (holidays on weekdays, workdays on weekends) plus the
    tenant's own entries; ``covered`` is false when the library lacks the year (weekend fallback)."""

    year: int
    covered: bool
    days: list[CalendarDayRead]
