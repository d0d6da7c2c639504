"""每日配额: how many calls each key has had answered today, counted on every replica.

A count kept in one row per key and day would be updated by every call and hold that row locked until the call
commits: the calls of a key would commit one after another, each waiting for the previous one's disk flush. So
each process counts its own calls and adds them to the row at most once per ``FLUSH_SECONDS`` per key, in the call
that happens to be due; a call is refused when the day's total last read plus this process's calls since is over
the quota. Across N replicas a key can therefore pass its quota by what the other replicas answered in the last
second — a quota of tens of thousands a day, overrun by at most a second's calls."""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.share.repositories import ShareQuotaRepository

FLUSH_SECONDS: Final = 1.0


class DailyQuota:
    def __init__(self, flush_seconds: float = FLUSH_SECONDS) -> None:
        self._flush_seconds = flush_seconds
        self._unflushed: Counter[tuple[str, date]] = Counter()
        self._total: dict[tuple[str, date], int] = {}  # as last read from the row, this process's part included
        self._flushed_at: dict[tuple[str, date], float] = {}

    async def count(self, session: AsyncSession, key_id: str, day: date) -> int:
        """One more call of the key on the day; the day's total as this process knows it."""
        slot = (key_id, day)
        self._unflushed[slot] += 1
        now = time.monotonic()
        if now - self._flushed_at.get(slot, float("-inf")) >= self._flush_seconds:
            calls, self._flushed_at[slot] = self._unflushed.pop(slot), now
            try:
                self._total[slot] = await ShareQuotaRepository(session).add(key_id, day, calls)
            except BaseException:
                self._unflushed[slot] += calls  # counted with the next flush instead
                raise
            self._forget_other_days(day)
        return self._total.get(slot, 0) + self._unflushed[slot]

    def _forget_other_days(self, today: date) -> None:
        for slot in [slot for slot in self._flushed_at if slot[1] < today]:
            self._flushed_at.pop(slot, None)
            self._total.pop(slot, None)
            self._unflushed.pop(slot, None)
