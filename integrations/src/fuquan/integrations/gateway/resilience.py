"""Circuit breaker and bulkhead, one of each per partner client (DESIGN §8 "Resilience").

Both are meant for one asyncio event loop: their state changes happen between awaits, so they need
no lock.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Literal, TypeVar

import anyio
import structlog
from prometheus_client import Gauge

from fuquan.integrations.gateway.errors import BulkheadFull, CircuitOpen, PartnerError

__all__ = ["BreakerState", "Bulkhead", "CircuitBreaker"]

log = structlog.get_logger()

# 1 while a partner's breaker is open (calls fail fast); with several workers, 1 if any worker's is
BREAKER_OPEN = Gauge("fuquan_partner_breaker_open", "Whether the circuit breaker to a partner is open",
                     ["tenant", "partner"], multiprocess_mode="max")  # fmt: skip

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Closed → open after ``failure_threshold`` consecutive failed calls; while open every call fails
    fast with ``CircuitOpen``; after ``reset_after_seconds`` it is half-open and lets exactly one trial
    call through (concurrent callers fail fast meanwhile); the trial's success closes it, its failure
    opens it for another period.

    What counts is the outcome of a whole call (after its retries), judged by
    ``PartnerError.counts_as_failure``: a partner that answered — even "not found" or "bad request" —
    is healthy. Errors raised on this side (``BulkheadFull``), other exceptions and cancellation are
    no outcome at all: a trial ending that way just frees the trial slot for the next caller.
    Outcomes of calls admitted before the breaker opened are ignored once it is open.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_after_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        *,
        partner: str = "",
        tenant: str | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_after_seconds <= 0:
            raise ValueError("reset_after_seconds must be positive")
        self.failure_threshold = failure_threshold
        self.reset_after_seconds = reset_after_seconds
        self.partner = partner
        self.tenant = tenant
        self._clock = clock
        self._state: BreakerState = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        """The effective state: an open breaker whose period has passed reports ``half_open``."""
        if self._state == "open" and self._clock() - self._opened_at >= self.reset_after_seconds:
            return "half_open"
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_in_seconds(self) -> float:
        """Seconds until an open breaker lets a trial through (0 when not open)."""
        if self._state != "open":
            return 0.0
        return max(0.0, self._opened_at + self.reset_after_seconds - self._clock())

    async def call(
        self, fn: Callable[[], Awaitable[T]], *, service: str = "", failed_so_far: Callable[[], bool] | None = None
    ) -> T:
        """Run ``fn`` if the breaker admits it, and record its outcome.

        ``failed_so_far`` tells, when the call is cancelled (the case's lookup budget ran out during a
        retry), whether an attempt had already failed: a partner that always times out must still
        trip the breaker even though every call it gets is cut short by the budget.
        """
        trial = self._admit(service)
        try:
            result = await fn()
        except PartnerError as error:
            if error.counts_as_failure:
                self._record_failure(trial)
            elif error.local:
                self._release(trial)
            else:
                self._record_success(trial)
            raise
        except BaseException:  # cancellation or a bug: no outcome, unless an attempt had failed already
            if failed_so_far is not None and failed_so_far():
                self._record_failure(trial)
            else:
                self._release(trial)
            raise
        self._record_success(trial)
        return result

    # ---- transitions ---------------------------------------------------------------------------

    def _admit(self, service: str) -> bool:
        """Let a call through or raise ``CircuitOpen``; ``True`` when the call is the half-open trial."""
        if self._state == "closed":
            return False
        if self._state == "open":
            remaining = self.retry_in_seconds()
            if remaining > 0:
                raise CircuitOpen(partner=self.partner, service=service, retry_in_seconds=remaining)
            self._state = "half_open"
            log.info("circuit_half_opened", partner=self.partner, tenant=self.tenant)
        if self._trial_in_flight:
            raise CircuitOpen(partner=self.partner, service=service, retry_in_seconds=0.0, trial_in_flight=True)
        self._trial_in_flight = True
        return True

    def _record_success(self, trial: bool) -> None:
        if trial:
            self._trial_in_flight = False
            self._state = "closed"
            self._failures = 0
            BREAKER_OPEN.labels(self.tenant or "", self.partner).set(0)
            log.info("circuit_closed", partner=self.partner, tenant=self.tenant)
        elif self._state == "closed":
            self._failures = 0

    def _record_failure(self, trial: bool) -> None:
        if trial:
            self._trial_in_flight = False
            self._open()
        elif self._state == "closed":
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open()

    def _release(self, trial: bool) -> None:
        if trial:
            self._trial_in_flight = False

    def _open(self) -> None:
        failures = self._failures
        self._state = "open"
        self._opened_at = self._clock()
        self._failures = 0
        BREAKER_OPEN.labels(self.tenant or "", self.partner).set(1)
        log.warning(
            "circuit_opened",
            partner=self.partner,
            tenant=self.tenant,
            consecutive_failures=failures,
            reset_after_seconds=self.reset_after_seconds,
        )


class Bulkhead:
    """At most ``max_concurrent`` calls in flight to one partner; a caller that waits longer than
    ``max_wait_seconds`` for a slot gets ``BulkheadFull``."""

    def __init__(
        self, max_concurrent: int, max_wait_seconds: float, *, partner: str = "", tenant: str | None = None
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if max_wait_seconds < 0:
            raise ValueError("max_wait_seconds must not be negative")
        self.max_concurrent = max_concurrent
        self.max_wait_seconds = max_wait_seconds
        self.partner = partner
        self.tenant = tenant
        self._limiter = anyio.CapacityLimiter(max_concurrent)

    @property
    def in_flight(self) -> int:
        return int(self._limiter.borrowed_tokens)

    @property
    def waiting(self) -> int:
        return self._limiter.statistics().tasks_waiting

    @asynccontextmanager
    async def slot(self, *, service: str = "") -> AsyncIterator[None]:
        """Hold one of the partner's slots for the duration of the ``async with`` block."""
        token = object()  # one borrower per call, so one task may hold slots of several calls
        try:
            self._limiter.acquire_on_behalf_of_nowait(token)
        except anyio.WouldBlock:
            acquired = False
            with anyio.move_on_after(self.max_wait_seconds):
                await self._limiter.acquire_on_behalf_of(token)  # either acquires or raises, holding nothing
                acquired = True
            if not acquired:
                log.warning(
                    "bulkhead_rejected",
                    partner=self.partner,
                    tenant=self.tenant,
                    service=service,
                    max_concurrent=self.max_concurrent,
                )
                raise BulkheadFull(partner=self.partner, service=service) from None
        try:
            yield
        finally:
            self._limiter.release_on_behalf_of(token)
