"""A repeated authority check costs no database round trip: the login comes from the store, the catalogue and
the unit from the process's caches, the decision from the engine and the grants it names from facts kept for
the policy version. A change makes the next check read afresh (and right)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from helpers import Statements, login

pytestmark = pytest.mark.anyio

GRANT = {
    "item": "HRSS-04", "action": "accept", "unit": "640202", "scope": "subtree", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": True, "basis": "devolved", "instrument": "宁人社发〔2026〕1号",
}  # fmt: skip


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings)


async def _check(client: Any, headers: dict[str, str], unit: str) -> dict[str, Any]:
    params = {"unit": unit, "item": "HRSS-04", "action": "accept"}
    response = await client.get("/api/v1/authority/check", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_a_repeated_check_reads_nothing(app: Litestar) -> None:
    async with AsyncTestClient(app=app) as client:
        admin = await login(client, "nx_admin")
        grant = await client.post("/api/v1/grants", json=GRANT, headers=admin)
        assert grant.status_code == 201
        for unit in ("640202001", "640205001"):  # allowed (through the county's grant), denied (no grant)
            first = await _check(client, admin, unit)
            with Statements(app) as statements:
                again = await _check(client, admin, unit)
            assert {**again, "at": None} == {**first, "at": None}  # "at" is the instant asked: it may tick over
            assert statements.seen == [], statements.seen

        revoked = await client.post(
            f"/api/v1/grants/{grant.json()['id']}/revoke", json={"reason": "调整"}, headers=admin
        )
        assert revoked.status_code == 200
        after = await _check(client, admin, "640202001")  # the change cleared what the explanation had read
        assert not after["allowed"] and after["rule"] == "revoked"
