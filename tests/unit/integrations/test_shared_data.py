"""The shared-data interface: the unconfigured provider and ``lookup_all``'s guarantees."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anyio
import pytest

from fuquan.integrations.shared_data import (
    SOURCE_LABELS,
    NotConfiguredProvider,
    SharedDataAnswer,
    SharedDataProvider,
    SharedDataRequest,
    lookup_all,
)
from fuquan.platform.core.crypto import sm3_hex

ID_NUMBER = "640104199001011234"
SOURCES = ["public_security", "civil_affairs", "market_regulation", "disabled_persons", "veterans", "hrss"]


def request(source: str = "public_security", evidence: str = "identity", **overrides: object) -> SharedDataRequest:
    fields: dict[str, object] = {
        "source": source,
        "evidence": evidence,
        "id_number": ID_NUMBER,
        "name": "张三",
        "purpose": "SL2026000001",
        "tenant_code": "64",
        "acting_user": "clerk1",
        "request_id": "req-1",
    }
    fields.update(overrides)
    return SharedDataRequest(**fields)  # type: ignore[arg-type]


def satisfied(req: SharedDataRequest, **facts: str | int | bool | None) -> SharedDataAnswer:
    return SharedDataAnswer(
        status="satisfied",
        source=req.source,
        evidence=req.evidence,
        reason="核验通过",
        facts=dict(facts),
        fetched_at=datetime.now(UTC),
        request_hash=sm3_hex(req.evidence.encode()),
        response_hash=sm3_hex(b"{}"),
        source_request_id="partner-1",
    )


@pytest.mark.anyio
@pytest.mark.parametrize("source", SOURCES)
async def test_not_configured_names_the_source(source: str) -> None:
    answer = await NotConfiguredProvider().lookup(request(source, "identity"))
    assert answer.status == "not_configured" and not answer.satisfied
    assert answer.source == source and answer.evidence == "identity"
    assert answer.reason.startswith("共享数据源未配置：" + SOURCE_LABELS[source])
    assert answer.facts == {} and answer.fetched_at is None and answer.request_hash is None


@pytest.mark.anyio
async def test_not_configured_reason_reads_well() -> None:
    answer = await NotConfiguredProvider().lookup(request("public_security", "household"))
    assert answer.reason == "共享数据源未配置：公安（户籍信息）"
    answer = await NotConfiguredProvider().lookup(request("hrss", "something_new"))
    assert answer.reason == "共享数据源未配置：人社业务系统（something_new）"


def test_request_repr_masks_personal_data() -> None:
    text = repr(request())
    assert ID_NUMBER not in text and "张三" not in text
    assert "6401**********1234" in text and "张*" in text
    assert str(request()) == text
    assert dict(request().__rich_repr__())["id_number"] == "6401**********1234"


@pytest.mark.anyio
async def test_lookup_all_keeps_the_order_of_the_requests() -> None:
    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            await anyio.sleep({"identity": 0.05, "household": 0.0, "photo": 0.02}[req.evidence])
            return satisfied(req, evidence=req.evidence)

    provider: SharedDataProvider = Provider()
    requests = [request(evidence=e) for e in ["identity", "household", "photo"]]
    answers = await lookup_all(provider, requests)
    assert [a.evidence for a in answers] == ["identity", "household", "photo"]
    assert [a.facts["evidence"] for a in answers] == ["identity", "household", "photo"]
    assert all(a.status == "satisfied" for a in answers)


@pytest.mark.anyio
async def test_lookup_all_of_nothing() -> None:
    assert await lookup_all(NotConfiguredProvider(), []) == []


@pytest.mark.anyio
async def test_a_raising_provider_yields_unavailable_and_the_others_still_answer() -> None:
    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            if req.source == "civil_affairs":
                raise ConnectionError(f"boom for {req.id_number}")
            return satisfied(req)

    requests = [request("public_security"), request("civil_affairs", "subsistence_allowance"), request("hrss")]
    answers = await lookup_all(Provider(), requests)
    assert [a.status for a in answers] == ["satisfied", "unavailable", "satisfied"]
    failed = answers[1]
    assert failed.source == "civil_affairs" and failed.evidence == "subsistence_allowance"
    assert failed.reason == "民政（低保/特困供养信息）暂时无法访问"
    assert ID_NUMBER not in failed.reason


@pytest.mark.anyio
async def test_a_malformed_answer_yields_unavailable() -> None:
    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            return None  # type: ignore[return-value]

    [answer] = await lookup_all(Provider(), [request()])
    assert answer.status == "unavailable"


@pytest.mark.anyio
async def test_a_slow_provider_hits_the_budget() -> None:
    cancelled: list[str] = []

    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            if req.source == "market_regulation":
                try:
                    await anyio.sleep(30)
                except anyio.get_cancelled_exc_class():
                    cancelled.append(req.source)
                    raise
            return satisfied(req)

    requests = [request("public_security"), request("market_regulation", "business_by_person"), request("veterans")]
    started = time.monotonic()
    answers = await lookup_all(Provider(), requests, budget_seconds=0.2)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 2
    assert [a.status for a in answers] == ["satisfied", "unavailable", "satisfied"]
    assert answers[1].reason == "市场监管（名下市场主体信息）查询超时"
    assert cancelled == ["market_regulation"]  # nothing keeps running after the budget


@pytest.mark.anyio
async def test_the_budget_is_overall_not_per_request() -> None:
    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            await anyio.sleep(0.5)
            return satisfied(req)

    # one at a time, 0.5 s each, 1.25 s overall: the first two answer, the rest time out (a quarter second of
    # margin either side: on a loaded machine 0.15 s steps under a 0.4 s budget once let only one answer)
    requests = [request(evidence=f"e{i}") for i in range(5)]
    started = time.monotonic()
    answers = await lookup_all(Provider(), requests, concurrency=1, budget_seconds=1.25)
    assert time.monotonic() - started < 3.0
    assert [a.status for a in answers] == ["satisfied", "satisfied", "unavailable", "unavailable", "unavailable"]
    assert all(a.reason.endswith("查询超时") for a in answers[2:])


@pytest.mark.anyio
@pytest.mark.parametrize("concurrency", [1, 2, 4])
async def test_concurrency_bound_is_respected(concurrency: int) -> None:
    in_flight = peak = 0

    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await anyio.sleep(0.01)
            finally:
                in_flight -= 1
            return satisfied(req)

    requests = [request(evidence=f"e{i}") for i in range(10)]
    answers = await lookup_all(Provider(), requests, concurrency=concurrency, budget_seconds=5)
    assert all(a.status == "satisfied" for a in answers)
    assert peak == concurrency
    assert in_flight == 0


@pytest.mark.anyio
async def test_personal_data_is_never_logged(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    class Provider:
        async def lookup(self, req: SharedDataRequest) -> SharedDataAnswer:
            if req.evidence == "slow":
                await anyio.sleep(5)
            raise RuntimeError(f"{req.id_number} {req.name}")

    with structlog.testing.capture_logs() as logs:
        await lookup_all(Provider(), [request(), request(evidence="slow")], budget_seconds=0.2)
    assert {entry["event"] for entry in logs} == {"shared_data_lookup_failed", "shared_data_lookup_timed_out"}
    text = repr(logs) + capsys.readouterr().out
    assert ID_NUMBER not in text and "张三" not in text
