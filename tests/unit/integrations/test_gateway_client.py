"""The signed gateway client against a tiny fake gateway that verifies every signature.

The fake gateway is an ``httpx.MockTransport`` handler: it checks the signature with
``signature_matches``, rejects replayed nonces like a real gateway, records what it saw and answers
from a script.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import msgspec
import pytest
import stamina
from litestar.stores.memory import MemoryStore
from structlog.testing import capture_logs

from fuquan.integrations.gateway.cache import ResponseCache
from fuquan.integrations.gateway.client import GatewayClient
from fuquan.integrations.gateway.endpoints import CallContext, GatewayReply, PartnerEndpoint
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
from fuquan.integrations.gateway.pool import GatewayPool
from fuquan.integrations.gateway.protocol import HTTP_STATUS, ResultCode, signature_matches
from fuquan.integrations.partners.schemas import SERVICES, IdentityQuery, PersonQuery
from fuquan.platform.core.crypto import sm3_hex

SECRET = "test-secret-do-not-use"
APP_KEY = "fq-64-gaj"
BASE_URL = "http://gateway.test"
ID_NUMBER = "640104199001011234"
NAME = "张三"
NOW = 1767225600.0
IDENTITY = SERVICES["public_security"]["identity"]
BUSINESSES = SERVICES["market_regulation"]["businesses"]
CTX = CallContext(purpose="SL2026000001", user_id="clerk1", request_id="req-1")

Step = httpx.Response | Exception | Callable[[httpx.Request], Awaitable[httpx.Response]]


@pytest.fixture(autouse=True)
def no_backoff() -> Iterator[None]:
    """Retries without sleeping; the number of attempts stays the client's own."""
    with stamina.set_testing(True, attempts=100, cap=True):
        yield


def envelope(code: ResultCode | str = ResultCode.OK, data: Any = None, msg: str = "成功") -> httpx.Response:
    status = HTTP_STATUS.get(ResultCode(code), 200) if code in set(ResultCode) else 200
    return httpx.Response(status, content=msgspec.json.encode({"code": str(code), "msg": msg, "data": data}))


def ok(data: Any = None) -> httpx.Response:
    return envelope(ResultCode.OK, {"name_matches": True, "status": "valid"} if data is None else data)


@dataclass
class Seen:
    headers: httpx.Headers
    path: str
    body: bytes
    signature_ok: bool


@dataclass
class FakeGateway:
    """Answers from ``script`` in order (the last step repeats)."""

    script: list[Step] = field(default_factory=lambda: [ok()])
    secret: str = SECRET
    echo_request_id: bool = True
    seen: list[Seen] = field(default_factory=list)
    responses: list[bytes] = field(default_factory=list)
    _nonces: set[str] = field(default_factory=set)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        headers = request.headers
        body = request.content
        good = signature_matches(
            self.secret,
            request.method,
            request.url.path,
            body,
            app_key=headers.get("X-App-Key", ""),
            timestamp=headers.get("X-Timestamp", ""),
            nonce=headers.get("X-Nonce", ""),
            signature=headers.get("X-Signature", ""),
        )
        replay = headers.get("X-Nonce", "") in self._nonces
        self._nonces.add(headers.get("X-Nonce", ""))
        self.seen.append(Seen(headers, request.url.path, body, good))
        if not good or replay:
            response = envelope(ResultCode.AUTH_FAILED, msg="签名无效")
        else:
            step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
            if isinstance(step, Exception):
                raise step
            response = step if isinstance(step, httpx.Response) else await step(request)
        if self.echo_request_id and "X-Request-Id" in headers:
            response.headers["X-Request-Id"] = headers["X-Request-Id"]
        self.responses.append(response.content)
        return response

    @property
    def calls(self) -> int:
        return len(self.seen)


def endpoint(**overrides: Any) -> PartnerEndpoint:
    fields: dict[str, Any] = {
        "partner": "public_security",
        "base_url": BASE_URL,
        "app_key": APP_KEY,
        "secret": SECRET,
        "timeout_seconds": 1.0,
    }
    fields.update(overrides)
    return PartnerEndpoint(**fields)


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@asynccontextmanager
async def running(
    gateway: FakeGateway,
    *,
    cache: ResponseCache | None = None,
    monotonic: Callable[[], float] | None = None,
    **overrides: Any,
) -> AsyncIterator[GatewayClient]:
    extra: dict[str, Any] = {} if monotonic is None else {"monotonic": monotonic}
    client = GatewayClient(
        endpoint(**overrides),
        cache=cache,
        clock=lambda: NOW,
        transport=httpx.MockTransport(gateway),
        **extra,
    )
    try:
        yield client
    finally:
        await client.aclose()


async def identity(client: GatewayClient, **kwargs: Any) -> GatewayReply:
    return await client.call("identity", IDENTITY, IdentityQuery(id_number=ID_NUMBER, name=NAME), CTX, **kwargs)


# ---- the signed request -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_signed_call_and_its_evidence() -> None:
    gateway = FakeGateway()
    async with running(gateway) as client:
        reply = await identity(client)
    [seen] = gateway.seen
    assert seen.signature_ok
    assert seen.path == IDENTITY
    assert seen.body == msgspec.json.encode(IdentityQuery(id_number=ID_NUMBER, name=NAME))
    assert seen.headers["X-App-Key"] == APP_KEY
    assert seen.headers["X-Timestamp"] == str(int(NOW))
    assert re.fullmatch(r"[0-9a-f]{32}", seen.headers["X-Nonce"])
    assert seen.headers["X-Request-Id"] == "req-1"
    assert seen.headers["X-Purpose"] == "SL2026000001"
    assert seen.headers["X-User-Id"] == "clerk1"
    assert re.fullmatch(r"[0-9a-f]{64}", seen.headers["X-Signature"])
    assert seen.headers["Content-Type"] == "application/json"
    assert reply.code == "00"
    assert reply.data == {"name_matches": True, "status": "valid"}
    assert reply.msg == "成功"
    assert reply.request_id == "req-1"
    assert reply.fetched_at == datetime.fromtimestamp(NOW, UTC)
    assert reply.request_hash == sm3_hex(seen.body)
    assert reply.response_hash == sm3_hex(gateway.responses[0])
    assert reply.attempts == 1
    assert not reply.cached
    assert reply.elapsed_ms >= 0


@pytest.mark.anyio
async def test_a_dict_body_and_a_generated_request_id() -> None:
    gateway = FakeGateway(echo_request_id=False)
    ctx = CallContext(purpose="SL2026000002", user_id="clerk2")
    async with running(gateway) as client:
        reply = await client.call("death", SERVICES["public_security"]["death"], {"id_number": ID_NUMBER}, ctx)
    sent = gateway.seen[0].headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", sent)
    assert sent == ctx.request_id
    assert reply.request_id == sent  # not echoed: the one sent
    assert gateway.seen[0].body == b'{"id_number":"640104199001011234"}'


@pytest.mark.anyio
async def test_the_partners_echoed_request_id_is_kept() -> None:
    async def echo_other(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=ok().content, headers={"X-Request-Id": "gw-42"})

    gateway = FakeGateway([echo_other], echo_request_id=False)
    async with running(gateway) as client:
        assert (await identity(client)).request_id == "gw-42"


@pytest.mark.anyio
async def test_a_gateway_under_a_prefix_verifies_the_path_it_receives() -> None:
    gateway = FakeGateway()
    async with running(gateway, base_url=BASE_URL + "/zwsj/") as client:
        reply = await identity(client)
    assert reply.code == "00"
    assert gateway.seen[0].path == "/zwsj" + IDENTITY
    assert gateway.seen[0].signature_ok


@pytest.mark.anyio
async def test_a_wrong_secret_is_rejected_by_the_gateway() -> None:
    gateway = FakeGateway(secret="the-partner-has-another-secret")
    async with running(gateway) as client:
        with pytest.raises(PartnerRejected) as caught:
            await identity(client)
    assert caught.value.code == "30"
    assert gateway.calls == 1  # authentication failures are never retried


# ---- code mapping -------------------------------------------------------------------------------

MAPPING: list[tuple[ResultCode, type[PartnerError], str]] = [
    (ResultCode.NOT_FOUND, PartnerNotFound, "not_found"),
    (ResultCode.BAD_REQUEST, PartnerRejected, "rejected"),
    (ResultCode.AUTH_FAILED, PartnerRejected, "rejected"),
    (ResultCode.FORBIDDEN, PartnerRejected, "rejected"),
    (ResultCode.RATE_LIMITED, PartnerRateLimited, "rate_limited"),
    (ResultCode.INTERNAL_ERROR, PartnerFailed, "failed"),
    (ResultCode.UNAVAILABLE, PartnerFailed, "failed"),
]


def test_every_result_code_is_mapped() -> None:
    assert {code for code, _, _ in MAPPING} | {ResultCode.OK} == set(ResultCode)


@pytest.mark.anyio
@pytest.mark.parametrize(("code", "error_type", "kind"), MAPPING, ids=[code.name for code, _, _ in MAPPING])
async def test_result_codes_map_to_typed_errors(code: ResultCode, error_type: type[PartnerError], kind: str) -> None:
    gateway = FakeGateway([envelope(code, msg=f"对方的说明，含 {ID_NUMBER}")])
    async with running(gateway) as client:
        with pytest.raises(error_type) as caught:
            await identity(client, read=False)
    error = caught.value
    assert type(error) is error_type
    assert error.kind == kind
    assert error.code == code
    assert error.http_status == HTTP_STATUS[code]
    assert error.partner == "public_security"
    assert error.service == "identity"
    assert error.attempts == 1
    assert ID_NUMBER not in error.message  # the partner's msg never reaches the clerk's message


@pytest.mark.anyio
async def test_not_found_is_a_reply_when_asked() -> None:
    gateway = FakeGateway([envelope(ResultCode.NOT_FOUND, msg="查无此人")])
    async with running(gateway) as client:
        reply = await identity(client, not_found_is_reply=True)
    assert reply.code == ResultCode.NOT_FOUND
    assert reply.data is None
    assert reply.response_hash == sm3_hex(gateway.responses[0])
    assert client.breaker.consecutive_failures == 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("response", "http_status", "code", "words"),
    [
        (httpx.Response(200, content=b"<html>hello</html>"), 200, None, "无法识别"),
        (httpx.Response(502, content=b"<html>502 Bad Gateway</html>"), 502, None, "HTTP 502"),
        (httpx.Response(504, content=b""), 504, None, "HTTP 504"),
        (httpx.Response(200, content=b'{"result": "ok"}'), 200, None, "无法识别"),
        (httpx.Response(200, content=b'{"code": 0, "msg": "ok"}'), 200, None, "无法识别"),
        (envelope("99"), 200, "99", "无法识别"),
        (httpx.Response(500, content=b'{"code": "00", "msg": "ok", "data": {}}'), 500, "00", "无法识别"),
    ],
    ids=["html", "502", "504-empty", "no-envelope", "numeric-code", "unknown-code", "ok-with-500"],
)
async def test_malformed_answers_are_failures(
    response: httpx.Response, http_status: int, code: str | None, words: str
) -> None:
    gateway = FakeGateway([response])
    async with running(gateway) as client:
        with pytest.raises(PartnerFailed) as caught:
            await identity(client, read=False)
    assert caught.value.http_status == http_status
    assert caught.value.code == code
    assert words in caught.value.message


@pytest.mark.anyio
async def test_a_protocol_error_is_a_failure() -> None:
    gateway = FakeGateway([httpx.RemoteProtocolError("server disconnected")])
    async with running(gateway, retries=0) as client:
        with pytest.raises(PartnerFailed):
            await identity(client)


# ---- retries ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_read_is_retried_after_a_failure_with_a_fresh_nonce() -> None:
    gateway = FakeGateway([envelope(ResultCode.INTERNAL_ERROR), ok()])
    async with running(gateway) as client:
        reply = await identity(client)
    assert reply.attempts == 2
    assert gateway.calls == 2
    first, second = gateway.seen
    assert first.signature_ok and second.signature_ok
    assert first.headers["X-Nonce"] != second.headers["X-Nonce"]  # else the gateway refuses a replay
    assert first.body == second.body  # serialised once
    assert first.headers["X-Request-Id"] == second.headers["X-Request-Id"] == "req-1"
    assert reply.request_hash == sm3_hex(first.body)
    assert reply.response_hash == sm3_hex(gateway.responses[1])
    assert client.breaker.consecutive_failures == 0


@pytest.mark.anyio
async def test_the_timestamp_is_taken_per_attempt() -> None:
    clock = FakeClock(NOW)

    async def fail_and_tick(request: httpx.Request) -> httpx.Response:
        clock.advance(7)
        return envelope(ResultCode.UNAVAILABLE)

    gateway = FakeGateway([fail_and_tick, ok()])
    client = GatewayClient(endpoint(), clock=clock, transport=httpx.MockTransport(gateway))
    try:
        reply = await identity(client)
    finally:
        await client.aclose()
    assert [seen.headers["X-Timestamp"] for seen in gateway.seen] == [str(int(NOW)), str(int(NOW) + 7)]
    assert reply.fetched_at == datetime.fromtimestamp(NOW + 7, UTC)


@pytest.mark.anyio
async def test_retries_are_bounded() -> None:
    gateway = FakeGateway([envelope(ResultCode.UNAVAILABLE)])
    async with running(gateway, retries=2) as client:
        with pytest.raises(PartnerFailed) as caught:
            await identity(client)
    assert gateway.calls == 3
    assert caught.value.attempts == 3
    assert client.breaker.consecutive_failures == 1  # one failed call, however many attempts


@pytest.mark.anyio
async def test_a_write_is_never_retried() -> None:
    gateway = FakeGateway([envelope(ResultCode.INTERNAL_ERROR), ok()])
    async with running(gateway) as client:
        with pytest.raises(PartnerFailed) as caught:
            await identity(client, read=False)
    assert gateway.calls == 1
    assert caught.value.attempts == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    "code", [ResultCode.BAD_REQUEST, ResultCode.AUTH_FAILED, ResultCode.FORBIDDEN, ResultCode.RATE_LIMITED]
)
async def test_rejections_and_rate_limits_are_not_retried(code: ResultCode) -> None:
    gateway = FakeGateway([envelope(code), ok()])
    async with running(gateway) as client:
        with pytest.raises(PartnerError):
            await identity(client)
    assert gateway.calls == 1


@pytest.mark.anyio
async def test_not_found_is_not_retried() -> None:
    gateway = FakeGateway([envelope(ResultCode.NOT_FOUND), ok()])
    async with running(gateway) as client:
        with pytest.raises(PartnerNotFound):
            await identity(client)
    assert gateway.calls == 1


@pytest.mark.anyio
async def test_a_slow_partner_times_out() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return ok()

    gateway = FakeGateway([slow])
    async with running(gateway, timeout_seconds=0.05, retries=0) as client:
        with anyio.fail_after(2):
            with pytest.raises(PartnerTimeout) as caught:
                await identity(client)
    assert caught.value.kind == "timeout"
    assert gateway.calls == 1


@pytest.mark.anyio
async def test_timeouts_are_retried_and_then_answered() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return ok()

    gateway = FakeGateway([slow, httpx.ReadTimeout("read timed out"), ok()])
    async with running(gateway, timeout_seconds=0.05, retries=2) as client:
        reply = await identity(client)
    assert reply.attempts == 3


@pytest.mark.anyio
async def test_an_unreachable_partner() -> None:
    gateway = FakeGateway([httpx.ConnectError("connection refused")])
    async with running(gateway, retries=1) as client:
        with pytest.raises(PartnerUnreachable) as caught:
            await identity(client)
    assert gateway.calls == 2
    assert caught.value.attempts == 2


@pytest.mark.anyio
async def test_unreachable_for_real() -> None:
    """No transport override: a port nobody listens on."""
    client = GatewayClient(endpoint(base_url="http://127.0.0.1:9", retries=0))
    try:
        with pytest.raises(PartnerUnreachable):
            await identity(client)
    finally:
        await client.aclose()


# ---- circuit breaker ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_breaker_opens_and_then_fails_fast_without_calling() -> None:
    clock = FakeClock(500.0)
    gateway = FakeGateway([envelope(ResultCode.INTERNAL_ERROR)])
    async with running(gateway, monotonic=clock, retries=1, failure_threshold=3, reset_after_seconds=20) as client:
        for _ in range(3):
            with pytest.raises(PartnerFailed):
                await identity(client)
        assert gateway.calls == 6  # 3 calls of 2 attempts
        assert client.breaker.state == "open"
        clock.advance(5)
        with capture_logs() as logs, pytest.raises(CircuitOpen) as caught:
            await identity(client)
        assert gateway.calls == 6
        assert caught.value.attempts == 0
        assert "15 秒" in caught.value.message
        assert logs[0]["event"] == "partner_call_failed"
        assert logs[0]["kind"] == "circuit_open"

        # half-open after the period: one trial, whose success closes the breaker
        clock.advance(15)
        assert client.breaker.state == "half_open"
        gateway.script[:] = [ok()]
        reply = await identity(client)
        assert reply.attempts == 1
        assert client.breaker.state == "closed"
        assert gateway.calls == 7


@pytest.mark.anyio
async def test_a_failed_trial_reopens_the_breaker() -> None:
    clock = FakeClock(500.0)
    gateway = FakeGateway([httpx.ConnectError("refused")])
    async with running(gateway, monotonic=clock, retries=0, failure_threshold=2, reset_after_seconds=10) as client:
        for _ in range(2):
            with pytest.raises(PartnerUnreachable):
                await identity(client)
        clock.advance(10)
        with pytest.raises(PartnerUnreachable):
            await identity(client)  # the trial
        assert client.breaker.state == "open"
        with pytest.raises(CircuitOpen):
            await identity(client)
        assert gateway.calls == 3


@pytest.mark.anyio
async def test_one_trial_at_a_time_through_the_client() -> None:
    clock = FakeClock(500.0)
    release = anyio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return ok()

    gateway = FakeGateway([envelope(ResultCode.UNAVAILABLE)])
    async with running(gateway, monotonic=clock, retries=0, failure_threshold=1) as client:
        with pytest.raises(PartnerFailed):
            await identity(client)
        clock.advance(30)
        gateway.script[:] = [held]
        results: list[str] = []

        async def ask() -> None:
            try:
                results.append((await identity(client)).code)
            except CircuitOpen as error:
                results.append(error.kind)

        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(ask)
            await anyio.wait_all_tasks_blocked()
            assert results == ["circuit_open", "circuit_open"]
            release.set()
        assert sorted(results) == ["00", "circuit_open", "circuit_open"]
        assert gateway.calls == 2
        assert client.breaker.state == "closed"


@pytest.mark.anyio
async def test_answers_keep_the_breaker_closed() -> None:
    gateway = FakeGateway([envelope(ResultCode.NOT_FOUND)])
    async with running(gateway, failure_threshold=2) as client:
        for _ in range(4):
            with pytest.raises(PartnerNotFound):
                await identity(client)
        gateway.script[:] = [envelope(ResultCode.BAD_REQUEST)]
        for _ in range(4):
            with pytest.raises(PartnerRejected):
                await identity(client)
        assert client.breaker.state == "closed"
        gateway.script[:] = [envelope(ResultCode.RATE_LIMITED)]
        for _ in range(2):
            with pytest.raises(PartnerRateLimited):
                await identity(client)
        assert client.breaker.state == "open"


# ---- bulkhead -----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_full_bulkhead_rejects_and_does_not_trip_the_breaker() -> None:
    release = anyio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return ok()

    gateway = FakeGateway([held])
    async with running(gateway, max_concurrent=1, max_wait_seconds=0.05, failure_threshold=1) as client:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(identity, client)
            await anyio.wait_all_tasks_blocked()
            assert client.bulkhead.in_flight == 1
            with pytest.raises(BulkheadFull) as caught:
                await identity(client)
            assert caught.value.attempts == 0
            release.set()
        assert gateway.calls == 1
        assert client.breaker.state == "closed"
        assert client.bulkhead.in_flight == 0


# ---- cache --------------------------------------------------------------------------------------

BUSINESSES_DATA = {
    "businesses": [
        {
            "credit_code": "91640100MA75XXXX1A",
            "name": "银川市某某商贸有限公司",
            "kind": "company",
            "legal_representative": NAME,
            "status": "active",
            "established_on": "2019-03-01",
            "address": "宁夏银川市兴庆区",
        }
    ]
}


async def businesses(client: GatewayClient, id_number: str = ID_NUMBER, **kwargs: Any) -> GatewayReply:
    kwargs.setdefault("freshness", "cacheable")
    return await client.call("businesses", BUSINESSES, PersonQuery(id_number=id_number), CTX, **kwargs)


@asynccontextmanager
async def market(gateway: FakeGateway, store: MemoryStore, *, app_key: str = APP_KEY) -> AsyncIterator[GatewayClient]:
    async with running(
        gateway, cache=ResponseCache(store, b"cache-key-secret"), partner="market_regulation", app_key=app_key
    ) as client:
        yield client


@pytest.mark.anyio
async def test_a_cacheable_answer_is_served_from_the_cache() -> None:
    store = MemoryStore()
    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, store) as client:
        first = await businesses(client)
        with capture_logs() as logs:
            second = await businesses(client)
    assert gateway.calls == 1
    assert not first.cached
    assert second.cached
    assert second.attempts == 0
    assert second.data == first.data == BUSINESSES_DATA
    assert (second.fetched_at, second.request_id) == (first.fetched_at, first.request_id)
    assert (second.request_hash, second.response_hash) == (first.request_hash, first.response_hash)
    assert logs[0]["event"] == "partner_call_succeeded"
    assert logs[0]["cached"] is True


@pytest.mark.anyio
async def test_the_cache_key_never_contains_the_id_number() -> None:
    store = MemoryStore()
    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, store) as client:
        await businesses(client)
        await businesses(client, id_number="640104198505051237")
    keys = list(store._store)
    assert len(keys) == 2
    for key in keys:
        assert re.fullmatch(r"partner-answer:[0-9a-f]{64}", key)
        assert ID_NUMBER not in key and "640104198505051237" not in key
        assert sm3_hex(gateway.seen[0].body) not in key  # a keyed hash, not a plain one


@pytest.mark.anyio
async def test_the_cache_is_per_person_and_per_authorisation() -> None:
    store = MemoryStore()
    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, store) as client:
        await businesses(client)
        await businesses(client, id_number="640104198505051237")
    assert gateway.calls == 2
    async with market(gateway, store, app_key="fq-65-scjg") as other_tenant:
        assert not (await businesses(other_tenant)).cached
    assert gateway.calls == 3


@pytest.mark.anyio
async def test_live_answers_are_never_cached() -> None:
    store = MemoryStore()
    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, store) as client:
        await businesses(client, freshness="live")
        await businesses(client, freshness="live")
    assert gateway.calls == 2
    # a live service stays live even when a caller asks for the cache
    gateway = FakeGateway()
    async with running(gateway, cache=ResponseCache(store, b"cache-key-secret")) as client:
        await identity(client, freshness="cacheable")
        reply = await identity(client, freshness="cacheable")
    assert gateway.calls == 2
    assert not reply.cached
    assert list(store._store) == []


@pytest.mark.anyio
async def test_not_found_and_failures_are_not_cached() -> None:
    store = MemoryStore()
    gateway = FakeGateway([envelope(ResultCode.NOT_FOUND), envelope(ResultCode.UNAVAILABLE)])
    async with market(gateway, store) as client:
        assert (await businesses(client, not_found_is_reply=True)).code == "10"
        with pytest.raises(PartnerFailed):
            await businesses(client, read=False)
    assert list(store._store) == []


@pytest.mark.anyio
async def test_the_cache_honours_the_ttl() -> None:
    store = MemoryStore()
    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, store) as client:
        await businesses(client, ttl_seconds=60)
        [key] = list(store._store)
        assert 0 < (await store.expires_in(key) or 0) <= 60


@pytest.mark.anyio
async def test_a_broken_store_degrades_to_no_cache() -> None:
    class BrokenStore(MemoryStore):
        async def get(self, key: str, renew_for: Any = None) -> bytes | None:
            raise ConnectionError("redis is down")

        async def set(self, key: str, value: str | bytes, expires_in: Any = None) -> None:
            raise ConnectionError("redis is down")

    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, BrokenStore()) as client:
        assert (await businesses(client)).data == BUSINESSES_DATA
        assert (await businesses(client)).data == BUSINESSES_DATA
    assert gateway.calls == 2


@pytest.mark.anyio
async def test_a_corrupt_cache_entry_is_discarded() -> None:
    store = MemoryStore()
    gateway = FakeGateway([ok(BUSINESSES_DATA)])
    async with market(gateway, store) as client:
        await businesses(client)
        [key] = list(store._store)
        await store.set(key, b"not a reply")
        assert not (await businesses(client)).cached
    assert gateway.calls == 2


# ---- logs and secrets ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_logs_carry_the_call_but_never_personal_data() -> None:
    gateway = FakeGateway([envelope(ResultCode.UNAVAILABLE), ok(), envelope(ResultCode.FORBIDDEN)])
    async with running(gateway) as client:
        with capture_logs() as logs:
            await identity(client)
            with pytest.raises(PartnerRejected):
                await identity(client)
    calls = [entry for entry in logs if entry["event"].startswith("partner_call_")]
    assert calls[0] == {
        "event": "partner_call_succeeded",
        "log_level": "info",
        "partner": "public_security",
        "tenant": None,
        "service": "identity",
        "code": "00",
        "attempts": 2,
        "elapsed_ms": calls[0]["elapsed_ms"],
        "purpose": "SL2026000001",
        "request_id": "req-1",
        "cached": False,
    }
    assert calls[1]["event"] == "partner_call_failed"
    assert calls[1]["kind"] == "rejected"
    assert calls[1]["code"] == "31"
    assert calls[1]["attempts"] == 1
    assert "stamina.retry_scheduled" in [entry["event"] for entry in logs]  # stamina's own log, too, …
    text = repr(logs)
    for secret in (ID_NUMBER, NAME, SECRET):  # … never shows the body or the secret
        assert secret not in text


def test_the_endpoint_never_shows_its_secret() -> None:
    e = endpoint()
    assert SECRET not in repr(e)
    assert SECRET not in str(e)
    assert "secret='***'" in repr(e)
    assert "app_key='fq-64-gaj'" in repr(e)
    assert SECRET not in repr(dict(e.__rich_repr__()))
    assert e.secret == SECRET


def test_the_endpoint_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="timeout_seconds"):
        endpoint(timeout_seconds=0)
    with pytest.raises(ValueError, match="max_concurrent"):
        endpoint(max_concurrent=0)
    with pytest.raises(ValueError, match="retries"):
        endpoint(retries=-1)


# ---- pool ---------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_pool_builds_one_client_per_tenant_and_partner() -> None:
    gateway = FakeGateway()
    pool = GatewayPool(transport=httpx.MockTransport(gateway))
    a = pool.client("64", endpoint())
    assert pool.client("64", endpoint()) is a
    assert pool.client("65", endpoint()) is not a
    market_client = pool.client("64", endpoint(partner="market_regulation"))
    assert market_client is not a
    assert a.tenant == "64"
    assert pool.breaker_states() == {
        ("64", "public_security"): "closed",
        ("65", "public_security"): "closed",
        ("64", "market_regulation"): "closed",
    }
    assert pool.get("64", "public_security") is a

    b = pool.client("64", endpoint(secret="rotated"))  # configuration changed: rebuilt
    assert b is not a
    assert b.endpoint.secret == "rotated"
    await anyio.wait_all_tasks_blocked()  # the idle retired client closes itself
    assert a.closed
    await pool.aclose()
    assert b.closed and market_client.closed
    assert pool.breaker_states() == {}


@pytest.mark.anyio
async def test_a_retired_client_finishes_its_calls_first() -> None:
    release = anyio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return ok()

    gateway = FakeGateway([held, ok()])
    pool = GatewayPool(transport=httpx.MockTransport(gateway), clock=lambda: NOW)
    old = pool.client("64", endpoint())
    replies: list[GatewayReply] = []

    async def ask() -> None:
        replies.append(await identity(old))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        new = pool.client("64", endpoint(timeout_seconds=3.0))
        assert not old.closed  # a call is in flight
        release.set()
    assert replies[0].code == "00"
    assert old.closed
    with pytest.raises(PartnerUnreachable):
        await identity(old)
    assert (await identity(new)).code == "00"
    await pool.aclose()


# ---- what operators see (GET /metrics) ----------------------------------------------------------


def _sample(name: str, labels: dict[str, str]) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.anyio
async def test_calls_and_breakers_are_counted_for_operators() -> None:
    ok_calls = {"partner": "public_security", "service": "identity", "outcome": "ok"}
    failed_calls = {**ok_calls, "outcome": "failed"}
    fast_failed = {**ok_calls, "outcome": "circuit_open"}
    breaker = {"tenant": "", "partner": "public_security"}
    before = [_sample("fuquan_partner_calls_total", labels) for labels in (ok_calls, failed_calls, fast_failed)]
    clock = FakeClock(500.0)
    gateway = FakeGateway([ok(), envelope(ResultCode.INTERNAL_ERROR)])
    async with running(gateway, monotonic=clock, retries=0, failure_threshold=1, reset_after_seconds=20) as client:
        await identity(client)
        with pytest.raises(PartnerFailed) as failed:
            await identity(client)
        assert _sample("fuquan_partner_breaker_open", breaker) == 1.0
        with pytest.raises(CircuitOpen):
            await identity(client)
        clock.advance(20)
        gateway.script[:] = [ok()]
        await identity(client)  # the trial closes it
    assert _sample("fuquan_partner_breaker_open", breaker) == 0.0
    after = [_sample("fuquan_partner_calls_total", labels) for labels in (ok_calls, failed_calls, fast_failed)]
    assert failed.value.kind == "failed"
    assert [a - b for a, b in zip(after, before, strict=True)] == [2.0, 1.0, 1.0]
