"""Password guessing against the product as it is served (uvicorn, behind or without a proxy): nobody can lock
another person out, and a client cannot escape the per-client limit by inventing X-Forwarded-For (issue 14,
findings 3 and 4). Only a proxy named in FUQUAN_TRUSTED_PROXIES may say who the client is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from processes import replicas

pytestmark = pytest.mark.anyio

LIMIT = "10"  # FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE, the documented default


async def _login(client: httpx.AsyncClient, username: str, password: str, forwarded_for: str) -> int:
    body = {"username": username, "password": password}
    answer = await client.post("/api/v1/auth/token", json=body, headers={"X-Forwarded-For": forwarded_for})
    return answer.status_code


async def test_spraying_with_invented_forwarded_for_is_throttled_after_the_limit(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    """100 usernames from one client, each with a new X-Forwarded-For: nothing trusts the header, so the client's
    own address meets the limit of 10 logins a minute."""
    with replicas(database_url, None, tmp_path, count=1, FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE=LIMIT) as [server]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            statuses = [
                await _login(client, f"user{n:03d}", "Spring2026!", f"198.51.100.{n % 250 + 1}") for n in range(100)
            ]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}, statuses


async def test_a_third_party_cannot_lock_an_account(backend: str, database_url: str, tmp_path: Path) -> None:
    """Behind a trusted proxy: a client guessing cs_clerk's password waits longer and longer; cs_clerk at her own
    desk logs in all the while."""
    trusted = {"FUQUAN_TRUSTED_PROXIES": "127.0.0.1", "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "1000"}
    with replicas(database_url, None, tmp_path, count=1, **trusted) as [server]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            attacker, desk = "203.0.113.7", "10.20.30.40"
            guesses = [await _login(client, "cs_clerk", f"guess-{n}", attacker) for n in range(8)]
            assert guesses[:5] == [401] * 5 and set(guesses[5:]) == {429}, guesses
            assert await _login(client, "cs_clerk", "fuquan-demo-2026", attacker) == 429  # the guesser waits
            for _ in range(3):
                assert await _login(client, "cs_clerk", "fuquan-demo-2026", desk) == 200  # she does not
            waited = await client.post("/api/v1/auth/token", json={"username": "cs_clerk", "password": "x"},
                                       headers={"X-Forwarded-For": attacker})  # fmt: skip
            problem = waited.json()
            assert problem["rule"] == "login_throttled" and "其他设备不受影响" in problem["detail"], problem
            assert 0 < int(waited.headers["retry-after"]) <= 30
