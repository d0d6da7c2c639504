"""Two app instances on one database: a change made through one reaches the other through the policy change
log — announced on the policy channel (Redis when configured, as on PostgreSQL here) or found by the periodic
catch-up (SQLite) — and is applied incrementally, without rebuilding the engine."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import anyio
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from fuquan.authority.models import PolicyChange
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import PolicyRepository
from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import utcnow
from helpers import login

pytestmark = pytest.mark.anyio

GRANT = {
    "item": "HRSS-06", "action": "accept", "unit": "640202100", "scope": "unit", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": False, "basis": "devolved", "instrument": "宁人社发〔2026〕5号",
}  # fmt: skip
CHECK = {"unit": "640202100", "item": "HRSS-06", "action": "accept"}


def _registry(app: Litestar) -> AuthorityRegistry:
    registry = app.state["authority_registry"]
    assert isinstance(registry, AuthorityRegistry)
    return registry


async def _allowed(client: Any, headers: dict[str, str]) -> bool:
    response = await client.get("/api/v1/authority/check", params=CHECK, headers=headers)
    assert response.status_code == 200, response.text
    return bool(response.json()["allowed"])


async def _eventually(client: Any, headers: dict[str, str], expected: bool, within: float = 10.0) -> float:
    """Seconds until the replica answers ``expected`` (fails after ``within``)."""
    began = time.monotonic()
    while await _allowed(client, headers) is not expected:
        assert time.monotonic() - began < within, f"the replica still answers {not expected} after {within} s"
        await anyio.sleep(0.02)
    return time.monotonic() - began


async def test_a_grant_and_a_revocation_reach_the_other_replica(settings: Settings) -> None:
    app_one, app_two = create_app(settings), create_app(settings)
    async with AsyncTestClient(app=app_one) as one, AsyncTestClient(app=app_two) as two:
        admin_one, admin_two = await login(one, "nx_admin"), await login(two, "nx_admin")
        assert not await _allowed(two, admin_two)  # replica two has loaded the policy
        rebuilds = _registry(app_two).rebuilds

        grant = (await one.post("/api/v1/grants", json=GRANT, headers=admin_one)).json()
        assert await _allowed(one, admin_one)  # the writing process sees its change at once
        await _eventually(two, admin_two, True)
        revoked = await two.post(f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "试点调整"}, headers=admin_two)
        assert revoked.status_code == 200
        assert not await _allowed(two, admin_two)
        await _eventually(one, admin_one, False)

        # both applied the log: same version, no engine rebuilt for either change
        assert _registry(app_two).rebuilds == rebuilds
        tenant_id = next(iter(_registry(app_two).loaded_tenants()))
        assert _registry(app_one).version_of(tenant_id) == _registry(app_two).version_of(tenant_id)


async def test_every_change_is_logged_in_its_transaction(client: Any, database_url: str) -> None:
    admin = await login(client, "nx_admin")
    grant = (await client.post("/api/v1/grants", json=GRANT, headers=admin)).json()
    await client.post(f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "试点调整"}, headers=admin)
    refused = await client.post(
        "/api/v1/grants", json={**GRANT, "item": "HRSS-04", "unit": "640202100208001"}, headers=admin
    )
    assert refused.status_code == 422  # below the floor: nothing written, nothing logged
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        changes = list(await session.scalars(select(PolicyChange).order_by(PolicyChange.version)))
    await engine.dispose()
    assert len(changes) == 2
    granted, revoked = changes
    assert revoked.version == granted.version + 1
    assert granted.removed == [] and len(granted.added) == 1 and granted.added[0][0] == "640202100"
    assert revoked.removed == granted.added  # the revocation truncates the line's window
    assert revoked.added and revoked.added[0][3] != granted.added[0][3]


async def test_a_replica_behind_a_compacted_log_rebuilds(settings: Settings, database_url: str) -> None:
    app_one, app_two = create_app(settings), create_app(settings)
    async with AsyncTestClient(app=app_one) as one, AsyncTestClient(app=app_two) as two:
        admin_one, admin_two = await login(one, "nx_admin"), await login(two, "nx_admin")
        assert not await _allowed(two, admin_two)
        registry = _registry(app_two)
        registry.on_committed = None
        registry_one = _registry(app_one)
        registry_one.on_committed = None  # no announcements: replica two must find out by itself
        polling = registry.poll

        async def not_yet(_session: object) -> list[int]:
            return []  # replica two's periodic catch-up waits until the log is compacted

        registry.poll = not_yet  # type: ignore[method-assign,assignment]
        await one.post("/api/v1/grants", json=GRANT, headers=admin_one)
        engine = create_engine(database_url)
        async with session_scope(session_factory(engine)) as session:
            removed = await PolicyRepository(session).compact_log(
                keep_versions=0, before=utcnow() + timedelta(seconds=1)
            )
        await engine.dispose()
        assert removed >= 1
        rebuilds = registry.rebuilds
        registry.poll = polling  # type: ignore[method-assign]
        await _eventually(two, admin_two, True)  # the periodic catch-up finds the gap and rebuilds
        assert registry.rebuilds == rebuilds + 1


async def test_the_log_is_counted_per_tenant(client: Any, database_url: str) -> None:
    """Changes of another tenant never enter this tenant's log (each tenant has its own versions)."""
    await client.post("/api/v1/grants", json=GRANT, headers=await login(client, "nx_admin"))
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        tenants = await session.scalar(select(func.count(func.distinct(PolicyChange.tenant_id))))
    await engine.dispose()
    assert tenants == 1
