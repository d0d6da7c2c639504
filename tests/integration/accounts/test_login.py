"""Login: bearer tokens that expire and can be revoked, throttling per username and per client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from fuquan.platform.accounts.models import ApiToken
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from helpers import login

pytestmark = pytest.mark.anyio


async def test_token_login_me_logout(client: Any) -> None:
    response = await client.post("/api/v1/auth/token", json={"username": "cs_clerk", "password": "fuquan-demo-2026"})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] > 0 and len(body["access_token"]) > 30
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["unit"] == "640202001" and me["roles"] == ["window_clerk"] and me["tenant"] == "64"
    assert (await client.delete("/api/v1/auth/token", headers=headers)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_wrong_password_and_unknown_user_look_alike(client: Any) -> None:
    wrong = await client.post("/api/v1/auth/token", json={"username": "cs_clerk", "password": "not-the-password"})
    unknown = await client.post("/api/v1/auth/token", json={"username": "nobody", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"] == "用户名或密码不正确"


async def test_expired_token_is_refused(client: Any, database_url: str) -> None:
    headers = await login(client, "cs_clerk")
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        await session.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await engine.dispose()
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401 and "重新登录" in response.json()["detail"]


async def test_failed_logins_make_that_client_wait(client: Any, database_url: str) -> None:
    """Five failures for one username from one client: that client waits, even with the right password (other
    clients do not: tests/integration/replicas/test_login_guessing.py)."""
    bad = {"username": "cs_clerk", "password": "wrong-password"}
    for _ in range(5):
        assert (await client.post("/api/v1/auth/token", json=bad)).status_code == 401
    locked = await client.post("/api/v1/auth/token", json={"username": "cs_clerk", "password": "fuquan-demo-2026"})
    assert locked.status_code == 429 and locked.json()["rule"] == "login_throttled"
    assert "其他设备不受影响" in locked.json()["detail"] and locked.headers["retry-after"]
    # another account from the same client is unaffected
    assert (
        await client.post("/api/v1/auth/token", json={"username": "jm_agent", "password": "fuquan-demo-2026"})
    ).status_code == 200
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rejected = list(
            await session.execute(
                select(AuditRecord.tenant_id, AuditRecord.detail["rule"].as_string()).where(
                    AuditRecord.action == "auth.login",
                    AuditRecord.actor == "cs_clerk",
                    AuditRecord.outcome == "rejected",
                )
            )
        )
    await engine.dispose()
    # five bad passwords and the locked attempt, each audited where the tenant's auditor reads it (the locked one
    # was filed under no tenant, found by an assessor's probe)
    assert sorted(rule for _, rule in rejected) == ["credentials"] * 5 + ["login_throttled"]
    assert {tenant for tenant, _ in rejected} == {1}, rejected


async def test_progress_lookups_and_logins_are_limited_apart(settings: Settings) -> None:
    """A resident checking progress a few times does not use up the window's logins (they shared one limit
    of 10 a minute per client), and lookups have a limit of their own."""
    from fuquan.platform.app.factory import create_app

    narrow = msgspec.structs.replace(settings, login_attempts_per_minute=3, public_lookups_per_minute=4)
    async with AsyncTestClient(app=create_app(narrow)) as client:
        lookups = [
            (await client.get("/api/v1/public/cases/64020200120260101-0001", params={"code": "ABCD2345"})).status_code
            for _ in range(6)
        ]
        logins = [
            (
                await client.post("/api/v1/auth/token", json={"username": f"user{n}", "password": "whatever-123"})
            ).status_code
            for n in range(4)
        ]
    assert lookups[:4] == [404] * 4 and lookups[4:] == [429, 429], lookups
    assert logins == [401, 401, 401, 429], logins


async def test_login_rate_limited_per_client(settings: Settings) -> None:
    from fuquan.platform.app.factory import create_app

    app = create_app(msgspec.structs.replace(settings, login_attempts_per_minute=3))
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (
                await client.post("/api/v1/auth/token", json={"username": f"user{n}", "password": "whatever-123"})
            ).status_code
            for n in range(5)
        ]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]
