"""A simulator's runtime state: fault settings, statistics, used nonces and rate-limit windows.

Every simulator app owns one ``SimulatorState``; it is only touched from the app's event loop.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType

from fuquan.integrations.gateway.protocol import TIMESTAMP_WINDOW_SECONDS

__all__ = ["ControlUpdate", "FaultSettings", "SimulatorState"]

NONCE_RETENTION_SECONDS = 2 * TIMESTAMP_WINDOW_SECONDS
_PRUNE_EVERY_SECONDS = 60.0


class FaultSettings(msgspec.Struct, kw_only=True):
    """What the simulator is told to do wrong (``GET /_sim/control``)."""

    latency_ms: int = 0  # added before every answer
    failure_rate: float = 0.0  # fraction of calls answered INTERNAL_ERROR
    down: bool = False  # every call answered UNAVAILABLE
    rate_limit_per_second: int | None = None  # per app key; None: unlimited


class ControlUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A partial update of ``FaultSettings`` (``POST /_sim/control``)."""

    latency_ms: Annotated[int, Meta(ge=0, le=600_000)] | UnsetType = UNSET
    failure_rate: Annotated[float, Meta(ge=0.0, le=1.0)] | UnsetType = UNSET
    down: bool | UnsetType = UNSET
    rate_limit_per_second: Annotated[int, Meta(ge=1)] | UnsetType | None = UNSET


class SimulatorState:
    """Settings, counters and replay protection of one partner's simulator."""

    def __init__(self, partner: str, clock: Callable[[], float] = time.time) -> None:
        self.partner = partner
        self.clock = clock
        self.settings = FaultSettings()
        self._nonces: dict[str, dict[str, float]] = {}  # app key → nonce → forget after (clock seconds)
        self._next_prune = 0.0
        self.reset()

    def reset(self) -> None:
        """Default settings and zero counters; the used nonces are kept (replays stay replays)."""
        self.settings = FaultSettings()
        self.calls: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self._rng = random.Random(f"fuquan-simulator-{self.partner}")  # noqa: S311 - simulated faults, not secrets
        self._windows: dict[str, tuple[int, int]] = {}  # app key → (second, calls in it)

    def apply(self, update: ControlUpdate) -> FaultSettings:
        changes = {f: v for f in update.__struct_fields__ if (v := getattr(update, f)) is not UNSET}
        self.settings = msgspec.structs.replace(self.settings, **changes)
        return self.settings

    # ---- checks -------------------------------------------------------------------------------

    def use_nonce(self, app_key: str, nonce: str) -> bool:
        """Remember ``nonce`` for the app key; ``False`` if it was already used (a replay)."""
        now = self.clock()
        if now >= self._next_prune:
            for used in self._nonces.values():
                for expired in [n for n, until in used.items() if until <= now]:
                    del used[expired]
            self._next_prune = now + _PRUNE_EVERY_SECONDS
        used = self._nonces.setdefault(app_key, {})
        until = used.get(nonce)
        if until is not None and until > now:
            return False
        used[nonce] = now + NONCE_RETENTION_SECONDS
        return True

    def within_rate_limit(self, app_key: str) -> bool:
        """Count the call in the app key's current one-second window; ``False`` once over the limit."""
        limit = self.settings.rate_limit_per_second
        if limit is None:
            return True
        second = int(time.monotonic())
        window, count = self._windows.get(app_key, (second, 0))
        if window != second:
            count = 0
        self._windows[app_key] = (second, count + 1)
        return count < limit

    def inject_failure(self) -> bool:
        rate = self.settings.failure_rate
        return rate > 0 and self._rng.random() < rate

    # ---- reporting ----------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "total": sum(self.calls.values()),
            "calls": dict(self.calls),
            "answered": {"ok": 0, "not_found": 0, **self.answered},
            "rejected": dict(self.rejected),
            "injected": {"down": 0, "failure": 0, "latency": 0, **self.injected},
        }
