"""Circuit breaker, bulkhead and the error taxonomy they act on (DESIGN §8 "Resilience")."""

from __future__ import annotations

import math

import anyio
import pytest
from structlog.testing import capture_logs

from fuquan.integrations.gateway.errors import (
    BulkheadFull,
    CircuitOpen,
    PartnerError,
    PartnerFailed,
    PartnerNotFound,
    PartnerRateLimited,
    PartnerRejected,
    PartnerTimeout,
    PartnerUnreachable,
)
from fuquan.integrations.gateway.resilience import Bulkhead, CircuitBreaker

PARTNER = "public_security"


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def failed() -> PartnerFailed:
    return PartnerFailed(partner=PARTNER, service="identity", code="50")


async def succeed() -> str:
    return "ok"


async def fail() -> str:
    raise failed()


def breaker(clock: FakeClock, threshold: int = 3, reset: float = 30.0) -> CircuitBreaker:
    return CircuitBreaker(failure_threshold=threshold, reset_after_seconds=reset, clock=clock, partner=PARTNER)


async def trip(b: CircuitBreaker) -> None:
    for _ in range(b.failure_threshold):
        with pytest.raises(PartnerFailed):
            await b.call(fail)


# ---- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "retryable", "counts"),
    [
        (PartnerNotFound(partner=PARTNER, service="s", code="10"), "not_found", False, False),
        (PartnerRejected(partner=PARTNER, service="s", code="20"), "rejected", False, False),
        (PartnerRejected(partner=PARTNER, service="s", code="30"), "rejected", False, True),
        (PartnerRejected(partner=PARTNER, service="s", code="31"), "rejected", False, True),
        (PartnerRateLimited(partner=PARTNER, service="s", code="40"), "rate_limited", False, True),
        (PartnerFailed(partner=PARTNER, service="s", code="50"), "failed", True, True),
        (PartnerFailed(partner=PARTNER, service="s", code="51"), "failed", True, True),
        (PartnerFailed(partner=PARTNER, service="s"), "failed", True, True),
        (PartnerTimeout(partner=PARTNER, service="s"), "timeout", True, True),
        (PartnerUnreachable(partner=PARTNER, service="s"), "unreachable", True, True),
        (CircuitOpen(partner=PARTNER, service="s", retry_in_seconds=3), "circuit_open", False, False),
        (BulkheadFull(partner=PARTNER, service="s"), "bulkhead_full", False, False),
    ],
    ids=repr,
)
def test_error_taxonomy(error: PartnerError, kind: str, retryable: bool, counts: bool) -> None:
    assert error.kind == kind
    assert error.retryable is retryable
    assert error.counts_as_failure is counts
    assert error.partner == PARTNER
    assert error.service == "s"
    assert error.message
    assert str(error) == error.message
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error.message)  # Chinese, for the clerk


def test_each_rejection_code_has_its_own_message() -> None:
    messages = {PartnerRejected(partner=PARTNER, service="s", code=code).message for code in ("20", "30", "31")}
    assert len(messages) == 3


def test_an_explicit_message_wins() -> None:
    assert (
        PartnerFailed(partner=PARTNER, service="s", message="返回的数据不符合接口约定").message
        == "返回的数据不符合接口约定"
    )


def test_circuit_open_says_when_it_retries() -> None:
    assert "13 秒" in CircuitOpen(partner=PARTNER, service="s", retry_in_seconds=12.2).message
    assert "试探" in CircuitOpen(partner=PARTNER, service="s", retry_in_seconds=0, trial_in_flight=True).message


# ---- circuit breaker ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_breaker_opens_after_consecutive_failures() -> None:
    clock = FakeClock()
    b = breaker(clock)
    for expected_failures in (1, 2):
        with pytest.raises(PartnerFailed):
            await b.call(fail)
        assert b.state == "closed"
        assert b.consecutive_failures == expected_failures
    with capture_logs() as logs, pytest.raises(PartnerFailed):
        await b.call(fail)
    assert b.state == "open"
    assert logs == [
        {
            "event": "circuit_opened",
            "log_level": "warning",
            "partner": PARTNER,
            "tenant": None,
            "consecutive_failures": 3,
            "reset_after_seconds": 30.0,
        }
    ]


@pytest.mark.anyio
async def test_a_success_resets_the_count() -> None:
    b = breaker(FakeClock())
    for _ in range(2):
        with pytest.raises(PartnerFailed):
            await b.call(fail)
    assert await b.call(succeed) == "ok"
    assert b.consecutive_failures == 0
    for _ in range(2):
        with pytest.raises(PartnerFailed):
            await b.call(fail)
    assert b.state == "closed"


@pytest.mark.anyio
async def test_an_open_breaker_fails_fast_and_says_when() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(10.5)
    called = False

    async def probe() -> str:
        nonlocal called
        called = True
        return "ok"

    with pytest.raises(CircuitOpen) as caught:
        await b.call(probe, service="identity")
    assert not called
    assert caught.value.retry_in_seconds == pytest.approx(19.5)
    assert f"{math.ceil(19.5)} 秒" in caught.value.message
    assert caught.value.service == "identity"
    assert b.state == "open"


@pytest.mark.anyio
async def test_half_open_after_the_period_and_a_successful_trial_closes() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(30)
    assert b.state == "half_open"
    with capture_logs() as logs:
        assert await b.call(succeed) == "ok"
    assert b.state == "closed"
    assert b.consecutive_failures == 0
    assert [entry["event"] for entry in logs] == ["circuit_half_opened", "circuit_closed"]
    assert all(entry["partner"] == PARTNER for entry in logs)


@pytest.mark.anyio
async def test_a_failed_trial_opens_for_another_period() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(31)
    with pytest.raises(PartnerFailed):
        await b.call(fail)
    assert b.state == "open"
    clock.advance(29)
    with pytest.raises(CircuitOpen):
        await b.call(succeed)
    clock.advance(1)
    assert await b.call(succeed) == "ok"
    assert b.state == "closed"


@pytest.mark.anyio
async def test_exactly_one_trial_while_half_open() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(30)
    release = anyio.Event()
    trials = 0
    outcomes: list[str] = []

    async def slow_success() -> str:
        nonlocal trials
        trials += 1
        await release.wait()
        return "ok"

    async def caller() -> None:
        try:
            outcomes.append(await b.call(slow_success))
        except CircuitOpen as error:
            outcomes.append(error.kind)

    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(caller)
        await anyio.wait_all_tasks_blocked()
        assert trials == 1
        assert sorted(outcomes) == ["circuit_open"] * 4
        release.set()
    assert trials == 1
    assert sorted(outcomes) == ["circuit_open"] * 4 + ["ok"]
    assert b.state == "closed"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "answer",
    [
        PartnerNotFound(partner=PARTNER, service="s", code="10"),
        PartnerRejected(partner=PARTNER, service="s", code="20"),
    ],
    ids=["not_found", "bad_request"],
)
async def test_answers_are_not_failures(answer: PartnerError) -> None:
    clock = FakeClock()
    b = breaker(clock, threshold=2)

    async def answering() -> str:
        raise answer

    for _ in range(5):
        with pytest.raises(type(answer)):
            await b.call(answering)
    assert b.state == "closed"
    # … and a partner that answers is healthy: an answer to the trial closes the breaker
    await trip(b)
    clock.advance(30)
    with pytest.raises(type(answer)):
        await b.call(answering)
    assert b.state == "closed"


@pytest.mark.anyio
async def test_authentication_failures_count() -> None:
    b = breaker(FakeClock(), threshold=2)

    async def rejected() -> str:
        raise PartnerRejected(partner=PARTNER, service="s", code="30")

    for _ in range(2):
        with pytest.raises(PartnerRejected):
            await b.call(rejected)
    assert b.state == "open"


@pytest.mark.anyio
async def test_a_trial_that_never_reached_the_partner_frees_the_trial_slot() -> None:
    clock = FakeClock()
    b = breaker(clock)
    await trip(b)
    clock.advance(30)

    async def bulkhead_full() -> str:
        raise BulkheadFull(partner=PARTNER, service="s")

    with pytest.raises(BulkheadFull):
        await b.call(bulkhead_full)
    assert b.state == "half_open"

    async def broken() -> str:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        await b.call(broken)
    assert b.state == "half_open"

    with anyio.move_on_after(0.01):  # the caller's budget cancels the trial
        await b.call(anyio.sleep_forever)
    assert b.state == "half_open"

    assert await b.call(succeed) == "ok"  # the slot was freed every time
    assert b.state == "closed"


@pytest.mark.anyio
async def test_outcomes_of_calls_admitted_before_opening_are_ignored() -> None:
    clock = FakeClock()
    b = breaker(clock, threshold=1)
    release = anyio.Event()

    async def late_success() -> str:
        await release.wait()
        return "ok"

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(b.call, late_success)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(PartnerFailed):
            await b.call(fail)
        assert b.state == "open"
        release.set()
    assert b.state == "open"  # the in-flight success did not close it


def test_breaker_rejects_nonsense_configuration() -> None:
    with pytest.raises(ValueError, match="failure_threshold"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ValueError, match="reset_after_seconds"):
        CircuitBreaker(reset_after_seconds=0)


# ---- bulkhead -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_bulkhead_limits_concurrency_and_rejects_after_the_wait() -> None:
    bulkhead = Bulkhead(max_concurrent=2, max_wait_seconds=0.05, partner=PARTNER)
    release = anyio.Event()

    async def hold() -> None:
        async with bulkhead.slot(service="identity"):
            await release.wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(hold)
        tasks.start_soon(hold)
        await anyio.wait_all_tasks_blocked()
        assert bulkhead.in_flight == 2
        with capture_logs() as logs, pytest.raises(BulkheadFull) as caught:
            async with bulkhead.slot(service="identity"):
                pytest.fail("must not get a slot")
        assert caught.value.partner == PARTNER
        assert caught.value.service == "identity"
        assert logs[0]["event"] == "bulkhead_rejected"
        assert bulkhead.in_flight == 2
        release.set()
    assert bulkhead.in_flight == 0


@pytest.mark.anyio
async def test_a_waiting_caller_gets_the_slot_freed_within_its_wait() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait_seconds=5)
    order: list[str] = []

    async def first() -> None:
        async with bulkhead.slot():
            order.append("first in")
            await anyio.sleep(0.02)
            order.append("first out")

    async def second() -> None:
        async with bulkhead.slot():
            order.append("second in")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(first)
        await anyio.wait_all_tasks_blocked()
        tasks.start_soon(second)
        await anyio.wait_all_tasks_blocked()
        assert bulkhead.waiting == 1
    assert order == ["first in", "first out", "second in"]


@pytest.mark.anyio
async def test_slots_are_released_on_errors_and_one_task_may_hold_several() -> None:
    bulkhead = Bulkhead(max_concurrent=2, max_wait_seconds=0)
    with pytest.raises(RuntimeError):
        async with bulkhead.slot():
            raise RuntimeError("boom")
    assert bulkhead.in_flight == 0
    async with bulkhead.slot(), bulkhead.slot():
        assert bulkhead.in_flight == 2
        with pytest.raises(BulkheadFull):
            async with bulkhead.slot():
                pass
    assert bulkhead.in_flight == 0


def test_bulkhead_rejects_nonsense_configuration() -> None:
    with pytest.raises(ValueError, match="max_concurrent"):
        Bulkhead(max_concurrent=0, max_wait_seconds=1)
    with pytest.raises(ValueError, match="max_wait_seconds"):
        Bulkhead(max_concurrent=1, max_wait_seconds=-1)


@pytest.mark.anyio
async def test_a_call_cut_short_after_a_failed_attempt_counts_as_a_failure() -> None:
    """A partner that always times out, with every call then cancelled by the case's lookup budget
    during its retry, still trips the breaker; a call cancelled before any attempt failed does not."""
    b = breaker(FakeClock(), threshold=2)

    async def hang() -> str:
        await anyio.sleep(10)
        return "late"

    for _ in range(2):
        with anyio.move_on_after(0.01):
            await b.call(hang, service="identity", failed_so_far=lambda: False)
    assert b.state == "closed"
    for _ in range(2):
        with anyio.move_on_after(0.01):
            await b.call(hang, service="identity", failed_so_far=lambda: True)
    assert b.state == "open"
