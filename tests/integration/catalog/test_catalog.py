"""The per-tenant catalogue: the 20 items, and editions that never rewrite the past."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from fuquan.platform.catalog import services as catalog
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant
from helpers import login

pytestmark = pytest.mark.anyio


async def test_items_api(client: Any) -> None:
    headers = await login(client, "jm_agent")
    items = (await client.get("/api/v1/items", headers=headers)).json()
    assert len(items) == 20 and sum(item["id_only"] for item in items) == 16
    item = (await client.get("/api/v1/items/HRSS-04", headers=headers)).json()
    assert (item["accept_floor"], item["decide_floor"], item["separation"]) == (5, 4, True)
    assert item["edition"] == 1
    household = next(m for m in item["materials"] if m["name"] == "户口簿")
    assert household["shared"] == {"source": "public_security", "evidence": "household"}
    assert (await client.get("/api/v1/items/HRSS-21", headers=headers)).status_code == 404


async def test_an_edit_makes_a_new_edition_and_keeps_the_old(client: Any, database_url: str) -> None:
    admin = await login(client, "nx_admin")
    grant = {
        "item": "HRSS-07", "action": "decide", "unit": "640202", "scope": "unit", "valid_from": "2026-01-01",
        "instrument": "宁人社发〔2026〕2号",
    }  # fmt: skip
    before = await client.post("/api/v1/grants", json=grant, headers=admin)
    assert before.json()["catalog_edition"] == 1

    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with session_scope(maker) as session:
        tenant = await TenantRepository(session).by_code("64")
        assert tenant is not None
        current = await catalog.current(session, whole_tenant(tenant))
        spec = msgspec.structs.replace(catalog.item_spec(current.get("HRSS-07")), decide_floor=4)
        revised = await catalog.revise(
            session, whole_tenant(tenant), spec, actor="nx_admin", note="创业担保贷款审批下放到乡镇"
        )
    async with maker() as session:
        old = await catalog.edition(session, whole_tenant(tenant), 1)
    await engine.dispose()
    assert revised.edition.number == 2 and revised.get("HRSS-07").decide_floor == 4
    assert len(revised.items) == 20
    assert old.get("HRSS-07").decide_floor == 3  # what was decided under edition 1 keeps it

    # the app caches each tenant's edition and learns of a newer one within its catch-up interval (one second),
    # as another process would
    for _ in range(50):
        item = (await client.get("/api/v1/items/HRSS-07", headers=admin)).json()
        if item["edition"] == 2:
            break
        await asyncio.sleep(0.1)
    assert item["edition"] == 2 and item["decide_floor"] == 4
    town = await client.post("/api/v1/grants", json={**grant, "unit": "640202001"}, headers=admin)
    assert town.status_code == 201 and town.json()["catalog_edition"] == 2
    assert (await client.get(f"/api/v1/grants/{before.json()['id']}", headers=admin)).json()["catalog_edition"] == 1
