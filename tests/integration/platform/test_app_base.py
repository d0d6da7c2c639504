"""Health, readiness, request ids and problem details."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from litestar import concurrency

from helpers import login

pytestmark = pytest.mark.anyio


async def test_health_and_ready(client: Any) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    for _attempt in range(200):  # ready once every tenant's policy is loaded (a moment after start-up)
        ready = await client.get("/ready")
        if ready.status_code == 200:
            break
        assert ready.json() == {"status": "starting", "database": "ok", "policy": "loading"}
        await anyio.sleep(0.05)
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok", "policy": "loaded"}


async def test_request_id_is_echoed_or_made(client: Any) -> None:
    given = await client.get("/health", headers={"X-Request-Id": "case-4711-abcdef"})
    assert given.headers["x-request-id"] == "case-4711-abcdef"
    made = await client.get("/health", headers={"X-Request-Id": "bad id with spaces"})
    assert len(made.headers["x-request-id"]) == 32


async def test_unknown_route_is_a_problem(client: Any) -> None:
    response = await client.get("/api/v1/nothing-here", headers={"Authorization": "Bearer x"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "未找到"


async def test_openapi_ui_uses_only_vendored_assets(client: Any) -> None:
    page = (await client.get("/schema/swagger")).text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "unpkg" not in page.lower()
    assert (await client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")).status_code == 200
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/grants" in spec["paths"] and "/api/v1/authority/check" in spec["paths"]


async def test_a_request_is_served_without_a_worker_thread(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync callable Litestar is handed (a dependency, a guard, the rate limit's filter) runs in a worker
    thread on every request: the hand-off cost about a tenth of the server's CPU on the case flow."""
    submitted: list[object] = []

    class Counting(ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            submitted.append(fn)
            return super().submit(fn, *args, **kwargs)

    executor = Counting(max_workers=1)
    monkeypatch.setattr(concurrency._State, "EXECUTOR", executor)
    clerk = await login(client, "cs_clerk")
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/api/v1/cases", params={"limit": 1}, headers=clerk)).status_code == 200
    executor.shutdown()
    assert submitted == []


async def test_libraries_log_at_info_only_what_an_operator_acts_on(client: Any) -> None:
    """Every partner call's HTTP line and Casbin's model dump are not news to an operator: WARNING and up."""
    import logging

    for name in ("httpx", "httpcore", "casbin", "casbin.enforcer"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING, name
    assert logging.getLogger("fuquan").getEffectiveLevel() <= logging.INFO


async def test_ready_needs_redis_when_redis_is_configured(
    client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Redis configured (the scaled-out shape), a process that cannot reach it is not ready: its logins,
    sessions and limits live there. Without Redis (the embedded shape) there is nothing to reach."""
    from litestar.stores.redis import RedisStore

    for _attempt in range(200):
        if (await client.get("/ready")).status_code == 200:
            break
        await anyio.sleep(0.05)

    async def unreachable(self: Any, key: str) -> bool:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(RedisStore, "exists", unreachable)
    ready = await client.get("/ready")
    if settings.redis_url:
        assert ready.status_code == 503 and ready.json()["redis"] == "unreachable", ready.text
    else:
        assert ready.status_code == 200, ready.text
