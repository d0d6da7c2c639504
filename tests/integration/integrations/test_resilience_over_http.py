"""The client's resilience against a real partner simulator on loopback: the circuit breaker opens
after repeated failures, fails fast while open (the partner sees no calls), and recovers through
half-open; enterprise answers are served from the cache, identity answers never are."""

from __future__ import annotations

import time
from collections.abc import Iterator

import anyio
import pytest
from litestar.stores.memory import MemoryStore

from fuquan.integrations.gateway.cache import ResponseCache
from fuquan.integrations.gateway.client import GatewayClient
from fuquan.integrations.gateway.endpoints import CallContext, PartnerEndpoint
from fuquan.integrations.gateway.errors import CircuitOpen, PartnerFailed
from fuquan.integrations.partners.market_regulation import MarketRegulation
from fuquan.integrations.partners.public_security import PublicSecurity
from fuquan.integrations.partners.schemas import Partner
from fuquan.integrations.simulators import (
    RunningSimulators,
    app_key_for,
    build_population,
    default_credentials,
    derived_secret,
    running_simulators,
)

pytestmark = pytest.mark.anyio

SECRET = "resilience-test-secret"
CTX = CallContext(purpose="640202001-20261122-0001", user_id="cs_clerk", request_id="resilience-test")


@pytest.fixture(scope="module")
def simulators() -> Iterator[RunningSimulators]:
    with running_simulators(default_credentials(SECRET)) as running:
        yield running


@pytest.fixture(autouse=True)
def _reset(simulators: RunningSimulators) -> Iterator[None]:
    simulators.reset()
    yield
    simulators.reset()


def _client(simulators: RunningSimulators, partner: Partner, **options: float) -> GatewayClient:
    endpoint = PartnerEndpoint(
        partner=partner, base_url=simulators.url(partner), app_key=app_key_for(partner),
        secret=derived_secret(SECRET, partner), timeout_seconds=1.0, retries=0,
        failure_threshold=3, reset_after_seconds=options.get("reset_after", 0.5),
    )  # fmt: skip
    return GatewayClient(endpoint, cache=ResponseCache(MemoryStore(), b"cache-key"))


async def test_breaker_opens_fails_fast_and_recovers_through_half_open(simulators: RunningSimulators) -> None:
    person = build_population().example("ordinary")
    client = _client(simulators, "public_security")
    adapter = PublicSecurity(client)
    try:
        assert (await adapter.identity(person.id_number, person.name, CTX)).found
        simulators.control("public_security", failure_rate=1.0)
        for _ in range(3):
            with pytest.raises(PartnerFailed):
                await adapter.identity(person.id_number, person.name, CTX)
        assert client.breaker.state == "open"
        calls = simulators.stats("public_security")["total"]
        started = time.perf_counter()
        with pytest.raises(CircuitOpen):
            await adapter.identity(person.id_number, person.name, CTX)
        assert time.perf_counter() - started < 0.05  # fails fast
        assert simulators.stats("public_security")["total"] == calls  # the partner was not called

        simulators.reset("public_security")  # the partner recovers
        await anyio.sleep(0.6)
        assert client.breaker.state == "half_open"
        assert (await adapter.identity(person.id_number, person.name, CTX)).found  # the trial call succeeds
        assert client.breaker.state == "closed"
    finally:
        await client.aclose()


async def test_a_failed_trial_opens_the_breaker_again(simulators: RunningSimulators) -> None:
    person = build_population().example("ordinary")
    client = _client(simulators, "public_security", reset_after=0.3)
    adapter = PublicSecurity(client)
    try:
        simulators.control("public_security", down=True)
        for _ in range(3):
            with pytest.raises(PartnerFailed):
                await adapter.death(person.id_number, CTX)
        await anyio.sleep(0.35)
        with pytest.raises(PartnerFailed):  # the half-open trial reaches the partner, which is still down
            await adapter.death(person.id_number, CTX)
        assert client.breaker.state == "open"
        with pytest.raises(CircuitOpen):
            await adapter.death(person.id_number, CTX)
    finally:
        await client.aclose()


async def test_enterprise_answers_are_cached_identity_answers_never(simulators: RunningSimulators) -> None:
    population = build_population()
    code = population.examples()["enterprise_active"]
    person = population.example("ordinary")
    market = _client(simulators, "market_regulation")
    police = _client(simulators, "public_security")
    try:
        first = await MarketRegulation(market).enterprise(code, CTX)
        second = await MarketRegulation(market).enterprise(code, CTX)
        assert not first.reply.cached and second.reply.cached
        assert second.reply.response_hash == first.reply.response_hash
        assert simulators.stats("market_regulation")["total"] == 1
        for _ in range(2):
            assert not (await PublicSecurity(police).identity(person.id_number, person.name, CTX)).reply.cached
        assert simulators.stats("public_security")["total"] == 2
    finally:
        await market.aclose()
        await police.aclose()
