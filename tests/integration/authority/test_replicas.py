"""Two app processes on one database: a change made through one is seen by the other."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from helpers import login

pytestmark = pytest.mark.anyio

GRANT = {
    "item": "HRSS-06", "action": "accept", "unit": "640202100", "scope": "unit", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": False, "basis": "devolved", "instrument": "宁人社发〔2026〕5号",
}  # fmt: skip
CHECK = {"unit": "640202100", "item": "HRSS-06", "action": "accept"}


async def test_a_grant_and_a_revocation_reach_the_other_replica(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(settings)) as one, AsyncTestClient(app=create_app(settings)) as two:
        admin_one, admin_two = await login(one, "nx_admin"), await login(two, "nx_admin")

        async def allowed(client: Any, headers: dict[str, str]) -> bool:
            return bool((await client.get("/api/v1/authority/check", params=CHECK, headers=headers)).json()["allowed"])

        assert not await allowed(two, admin_two)  # replica two has loaded the policy
        grant = (await one.post("/api/v1/grants", json=GRANT, headers=admin_one)).json()
        assert await allowed(one, admin_one)
        assert await allowed(two, admin_two)
        revoked = await two.post(f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "试点调整"}, headers=admin_two)
        assert revoked.status_code == 200
        assert not await allowed(two, admin_two)
        assert not await allowed(one, admin_one)
