"""The partner simulators over real HTTP on loopback: signed requests, every rejection, fault controls."""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from fuquan.integrations.gateway.protocol import ResultCode, new_nonce, sign
from fuquan.integrations.partners import schemas
from fuquan.integrations.simulators import (
    RunningSimulators,
    SimulatorConfig,
    app_key_for,
    default_credentials,
    derived_secret,
    running_simulators,
    serve_simulators,
)

SECRET = "simulator-test-secret"
PURPOSE = "NX-2026-000123"


@pytest.fixture(scope="module")
def sims() -> Iterator[RunningSimulators]:
    with running_simulators(default_credentials(SECRET)) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=10.0) as client:
        yield client


@pytest.fixture(autouse=True)
def _reset(sims: RunningSimulators) -> Iterator[None]:
    sims.reset()
    yield
    sims.reset()


def call(
    sims: RunningSimulators,
    http: httpx.Client,
    partner: str,
    service: str,
    payload: Any,
    *,
    secret: str | None = None,
    app_key: str | None = None,
    timestamp: int | None = None,
    nonce: str | None = None,
    purpose: str = PURPOSE,
    drop: tuple[str, ...] = (),
    body: bytes | None = None,
    signed_body: bytes | None = None,
) -> httpx.Response:
    """A signed POST; ``signed_body`` is what the signature covers when it should differ from ``body``."""
    path = schemas.SERVICES[partner][service]  # type: ignore[index]
    content = body if body is not None else msgspec.json.encode(payload)
    headers = sign(
        secret or derived_secret(SECRET, partner),
        "POST",
        path,
        signed_body if signed_body is not None else content,
        app_key=app_key or app_key_for(partner),
        timestamp=timestamp if timestamp is not None else int(time.time()),
        nonce=nonce or new_nonce(),
        request_id=f"req-{new_nonce()[:8]}",
        purpose=purpose,
        user_id="clerk-640202001",
    ).as_dict()
    for name in drop:
        headers.pop(name)
    return http.post(sims.url(partner) + path, content=content, headers={**headers, "Content-Type": "application/json"})


def envelope(response: httpx.Response) -> dict[str, Any]:
    result: dict[str, Any] = response.json()
    assert set(result) == {"code", "msg", "data"}
    return result


def test_a_signed_request_is_answered(sims: RunningSimulators, http: httpx.Client) -> None:
    person = sims.population.example("ordinary")
    response = call(sims, http, "public_security", "identity", {"id_number": person.id_number, "name": person.name})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"].startswith("req-")
    assert envelope(response) == {"code": "00", "msg": "查询成功", "data": {"name_matches": True, "status": "valid"}}


def test_every_partner_answers_its_services(sims: RunningSimulators, http: httpx.Client) -> None:
    examples = sims.population.examples()
    holders = {"certificate": "disabled_valid", "status": "veteran", "cremation": "deceased"}
    for partner, services in schemas.SERVICES.items():
        for service in services:
            if service == "enterprise":
                payload: dict[str, str] = {"credit_code": examples["enterprise_active"]}
            else:
                payload = {"id_number": examples[holders.get(service, "employment_difficulty")]}
                if service == "identity":
                    payload["name"] = "某某"
            response = call(sims, http, partner, service, payload)
            assert response.status_code == 200, (partner, service, response.text)
            data = envelope(response)["data"]
            assert data == sims.population.answer(partner, service, payload).data


def test_household_over_http(sims: RunningSimulators, http: httpx.Client) -> None:
    relative = sims.population.example("relative_of_deceased")
    deceased = sims.population.example("deceased")
    response = call(sims, http, "public_security", "household", {"id_number": relative.id_number})
    result = msgspec.convert(envelope(response)["data"], schemas.HouseholdResult)
    statuses = {m.id_number: m.status for m in result.members}
    assert statuses[deceased.id_number] == "deceased" and statuses[relative.id_number] == "valid"


def test_not_found(sims: RunningSimulators, http: httpx.Client) -> None:
    response = call(sims, http, "public_security", "identity", {"id_number": "640104199001011230", "name": "张三"})
    assert response.status_code == 404
    assert envelope(response) == {"code": "10", "msg": "查无此人户籍信息", "data": None}
    no_card = sims.population.examples()["no_card"]
    response = call(sims, http, "hrss", "card", {"id_number": no_card})
    assert (response.status_code, envelope(response)["code"]) == (404, "10")


REJECTIONS = [
    ("bad_signature", 401, "30", "签名无效"),
    ("other_partners_secret", 401, "30", "签名无效"),
    ("body_changed", 401, "30", "签名无效"),
    ("unknown_app_key", 401, "30", "应用密钥（X-App-Key）无效"),
    ("stale", 401, "30", "时间戳超出允许范围"),
    ("future", 401, "30", "时间戳超出允许范围"),
    ("missing_signature", 401, "30", "缺少签名请求头：X-Signature"),
    ("missing_purpose", 400, "20", "缺少用途 X-Purpose"),
    ("empty_purpose", 400, "20", "缺少用途 X-Purpose"),
    ("invalid_json", 400, "20", None),
    ("unknown_field", 400, "20", None),
    ("missing_field", 400, "20", None),
]


@pytest.mark.parametrize(("case", "status", "code", "msg"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_rejections(
    sims: RunningSimulators, http: httpx.Client, case: str, status: int, code: str, msg: str | None
) -> None:
    id_number = sims.population.examples()["ordinary"]
    payload = {"id_number": id_number}
    all_options: dict[str, dict[str, Any]] = {
        "bad_signature": {"secret": "wrong-secret"},
        "other_partners_secret": {"secret": derived_secret(SECRET, "civil_affairs")},
        "body_changed": {"signed_body": b'{"id_number": "640104199001011230"}'},
        "unknown_app_key": {"app_key": "someone-else"},
        "stale": {"timestamp": int(time.time()) - 301},
        "future": {"timestamp": int(time.time()) + 301},
        "missing_signature": {"drop": ("X-Signature",)},
        "missing_purpose": {"drop": ("X-Purpose",)},
        "empty_purpose": {"purpose": ""},
        "invalid_json": {"body": b'{"id_number": '},
        "unknown_field": {"body": msgspec.json.encode({"id_number": id_number, "extra": 1})},
        "missing_field": {"body": b"{}"},
    }
    options = all_options[case]
    response = call(sims, http, "hrss", "card", payload, **options)
    assert response.status_code == status, response.text
    result = envelope(response)
    assert result["code"] == code and result["data"] is None
    if msg:
        assert result["msg"] == msg
    else:
        assert result["msg"].startswith("请求参数不正确")
    stats = sims.stats("hrss")
    assert stats["total"] == 1 and sum(stats["rejected"].values()) == 1


def test_a_timestamp_inside_the_window_is_accepted(sims: RunningSimulators, http: httpx.Client) -> None:
    id_number = sims.population.examples()["ordinary"]
    for skew in (-290, 290):
        response = call(sims, http, "hrss", "card", {"id_number": id_number}, timestamp=int(time.time()) + skew)
        assert response.status_code == 200


def test_a_replayed_nonce_is_refused(sims: RunningSimulators, http: httpx.Client) -> None:
    payload = {"id_number": sims.population.examples()["ordinary"]}
    nonce = new_nonce()
    assert call(sims, http, "hrss", "card", payload, nonce=nonce).status_code == 200
    replay = call(sims, http, "hrss", "card", payload, nonce=nonce)
    assert replay.status_code == 401
    assert envelope(replay) == {"code": "30", "msg": "重复的请求（nonce 已使用）", "data": None}
    assert sims.stats("hrss")["rejected"] == {"replayed_nonce": 1}


def test_down(sims: RunningSimulators, http: httpx.Client) -> None:
    payload = {"id_number": sims.population.examples()["ordinary"]}
    assert sims.control("hrss", down=True)["down"] is True
    response = call(sims, http, "hrss", "card", payload)
    assert response.status_code == 503
    assert envelope(response) == {"code": ResultCode.UNAVAILABLE.value, "msg": "服务维护中", "data": None}
    assert call(sims, http, "veterans", "status", payload).status_code in (200, 404)  # only hrss is down
    sims.reset("hrss")
    assert call(sims, http, "hrss", "card", payload).status_code == 200


def test_failure_rate(sims: RunningSimulators, http: httpx.Client) -> None:
    payload = {"id_number": sims.population.examples()["ordinary"]}
    sims.control("hrss", failure_rate=1.0)
    responses = [call(sims, http, "hrss", "card", payload) for _ in range(3)]
    assert [r.status_code for r in responses] == [500, 500, 500]
    assert {envelope(r)["code"] for r in responses} == {"50"}
    assert sims.stats("hrss")["injected"]["failure"] == 3


def test_latency(sims: RunningSimulators, http: httpx.Client) -> None:
    payload = {"id_number": sims.population.examples()["ordinary"]}
    sims.control("civil_affairs", latency_ms=300)
    started = time.perf_counter()
    response = call(sims, http, "civil_affairs", "marriage", payload)
    assert time.perf_counter() - started >= 0.3
    assert response.status_code == 200


def test_rate_limit(sims: RunningSimulators, http: httpx.Client) -> None:
    payload = {"id_number": sims.population.examples()["ordinary"]}
    sims.control("hrss", rate_limit_per_second=1)
    codes = [call(sims, http, "hrss", "card", payload).status_code for _ in range(3)]
    assert 429 in codes and 200 in codes
    assert sims.stats("hrss")["rejected"]["rate_limited"] == codes.count(429)


def test_control_api(sims: RunningSimulators, http: httpx.Client) -> None:
    base = sims.url("hrss") + "/_sim"
    assert http.get(f"{base}/health").json() == {"status": "ok", "partner": "hrss"}
    defaults = {"latency_ms": 0, "failure_rate": 0.0, "down": False, "rate_limit_per_second": None}
    assert http.get(f"{base}/control").json() == defaults
    assert http.post(f"{base}/control", json={"latency_ms": 5}).json() == {**defaults, "latency_ms": 5}
    assert http.post(f"{base}/control", json={"failure_rate": 2}).status_code == 400
    assert http.post(f"{base}/control", json={"bogus": True}).status_code == 400
    assert http.get(f"{base}/control").json()["latency_ms"] == 5
    assert http.post(f"{base}/reset").json() == defaults
    assert http.get(f"{base}/control").json() == defaults


def test_stats_count_calls_and_outcomes(sims: RunningSimulators, http: httpx.Client) -> None:
    examples = sims.population.examples()
    call(sims, http, "hrss", "card", {"id_number": examples["ordinary"]})
    call(sims, http, "hrss", "card", {"id_number": examples["no_card"]})
    call(sims, http, "hrss", "registrations", {"id_number": examples["ordinary"]}, secret="wrong")
    stats = sims.stats("hrss")
    assert stats["partner"] == "hrss" and stats["total"] == 3
    assert stats["calls"] == {"card": 2, "registrations": 1}
    assert stats["answered"] == {"ok": 1, "not_found": 1}
    assert stats["rejected"] == {"bad_signature": 1}
    sims.reset("hrss")
    assert sims.stats("hrss")["total"] == 0


def test_ports_and_urls(sims: RunningSimulators) -> None:
    assert list(sims.ports) == list(schemas.PARTNERS)
    assert len(set(sims.ports.values())) == len(schemas.PARTNERS)
    assert sims.url("hrss") == f"http://127.0.0.1:{sims.ports['hrss']}"


def _free_base_port(count: int) -> int:
    """Consecutive free ports below the kernel's ephemeral range (32768+), which outgoing connections of the
    other test workers could take between this probe and the simulators' bind."""
    for _ in range(50):
        base = random.randrange(20000, 32768 - count)
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + count):
                    sock = stack.enter_context(socket.socket())
                    sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return base
    raise RuntimeError("no free ports")


def test_serve_simulators_in_the_foreground() -> None:
    base = _free_base_port(len(schemas.PARTNERS))
    config = SimulatorConfig(credentials=default_credentials(SECRET), base_port=base, households=300)

    async def main() -> list[str]:
        task = asyncio.create_task(serve_simulators(config))
        partners: list[str] = []
        async with httpx.AsyncClient(trust_env=False, timeout=2.0) as client:
            for i in range(len(schemas.PARTNERS)):
                for _ in range(200):
                    with contextlib.suppress(httpx.TransportError):
                        response = await client.get(f"http://127.0.0.1:{base + i}/_sim/health")
                        partners.append(response.json()["partner"])
                        break
                    await asyncio.sleep(0.02)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return partners

    assert asyncio.run(main()) == list(schemas.PARTNERS)
