"""Instants and local dates.

Every instant the platform stores is timezone-aware UTC. A date in the API (a grant's
``valid_from``) means local midnight in the tenant's time zone (Asia/Shanghai).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from fuquan.platform.core.errors import ValidationFailed


def utcnow() -> datetime:
    """Now, floored to the second (the resolution of policy windows)."""
    return datetime.now(UTC).replace(microsecond=0)


def local_midnight(day: date, tz: str) -> datetime:
    return as_utc(datetime.combine(day, time(0)), tz)


def local_time(instant: datetime | None, tz: str) -> str:
    """``2026-11-03 14:05`` in the tenant's time zone; an empty string for no time."""
    return "" if instant is None else instant.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def local_date(instant: datetime, tz: str) -> date:
    return instant.astimezone(ZoneInfo(tz)).date()


EARLIEST_YEAR, LATEST_YEAR = 1949, 9998  # outside this, an instant is a typing error, not a date


def as_utc(value: datetime, tz: str) -> datetime:
    """An aware instant in UTC; a naive one is read as local time in ``tz``."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationFailed(
            f"时间 {value.isoformat()} 超出可受理的范围（{EARLIEST_YEAR}—{LATEST_YEAR} 年）", rule="time_range"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz))
    return value.astimezone(UTC)
