"""Grant, revoke, list, check and matrix through the API: rules, cascades, history and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import login

pytestmark = pytest.mark.anyio

BASE = {
    "item": "HRSS-04", "action": "accept", "scope": "subtree", "valid_from": "2026-01-01", "valid_until": None,
    "redelegable": True, "basis": "devolved", "instrument": "宁人社发〔2026〕1号",
}  # fmt: skip


async def _grant(client: Any, headers: dict[str, str], **changes: Any) -> Any:
    return await client.post("/api/v1/grants", json={**BASE, **changes}, headers=headers)


async def _check(
    client: Any, headers: dict[str, str], unit: str, at: str | None = None, **extra: str
) -> dict[str, Any]:
    params = {"unit": unit, "item": "HRSS-04", "action": "accept", **extra}
    if at:
        params["at"] = at
    response = await client.get("/api/v1/authority/check", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_chain_explain_and_cascade(client: Any) -> None:
    admin = await login(client, "nx_admin")
    county = await login(client, "dwk_admin")
    top = (await _grant(client, admin, unit="640202")).json()
    street = await _grant(client, county, unit="640202001", basis="entrusted", instrument="大人社发〔2026〕2号")
    assert street.status_code == 201 and street.json()["parent_id"] == top["id"]
    decision = await _check(client, admin, "640202001001", at="2026-03-01T10:00:00+08:00")
    assert decision["allowed"] and decision["chain"] in ([top["id"]], [top["id"], street.json()["id"]])
    assert "赋权 #" in decision["reason"]

    revoked = await client.post(f"/api/v1/grants/{top['id']}/revoke", json={"reason": "试点结束"}, headers=admin)
    assert sorted(revoked.json()["revoked"]) == sorted([top["id"], street.json()["id"]])
    now = await _check(client, admin, "640202001001")
    assert not now["allowed"] and now["rule"] == "revoked" and "试点结束" in now["reason"]
    assert (await _check(client, admin, "640202001001", at="2026-03-01T10:00:00+08:00"))["allowed"]

    again = await client.post(f"/api/v1/grants/{top['id']}/revoke", json={"reason": "重复"}, headers=admin)
    assert again.status_code == 409
    listed = (await client.get("/api/v1/grants", params={"status": "revoked"}, headers=admin)).json()
    assert {g["id"] for g in listed} == {top["id"], street.json()["id"]}
    assert all(g["revoked_by"] == "nx_admin" and g["revoked_via"] == top["id"] for g in listed)


async def test_only_the_grantor_side_may_revoke(client: Any) -> None:
    top = (await _grant(client, await login(client, "nx_admin"), unit="640202")).json()
    county = await login(client, "dwk_admin")
    # the county sees the grant it received but cannot revoke what the province granted
    assert (await client.get(f"/api/v1/grants/{top['id']}", headers=county)).status_code == 200
    refused = await client.post(f"/api/v1/grants/{top['id']}/revoke", json={"reason": "不想要"}, headers=county)
    assert refused.status_code == 403 and refused.json()["rule"] == "revoker_is_grantor"


@pytest.mark.parametrize(
    ("changes", "status", "rule"),
    [
        ({"unit": "640202001001", "item": "HRSS-07"}, 422, "floor"),
        ({"unit": "640202", "valid_from": "2026-05-01", "valid_until": "2026-05-01"}, 422, "window_order"),
        ({"unit": "64"}, 422, "target_below_grantor"),
        ({"unit": "640202", "item": "HRSS-99"}, 404, None),
        ({"unit": "4601"}, 404, None),
        ({"unit": "6402x2"}, 400, None),
        ({"unit": "640202", "action": "approve"}, 400, None),
        ({"unit": "640202", "valid_from": "2026-02-30"}, 400, None),
        ({"unit": "640202", "surprise": 1}, 400, None),
        ({"unit": "640202", "instrument": ""}, 400, None),
        ({"unit": "640202", "valid_from": "0001-01-01"}, 422, "time_range"),
    ],
)
async def test_bad_grants_are_refused_with_a_reason(
    client: Any, changes: dict[str, Any], status: int, rule: str | None
) -> None:
    admin = await login(client, "nx_admin")
    response = await _grant(client, admin, **changes)
    assert response.status_code == status, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["status"] == status and problem["detail"] and problem["title"]
    if rule:
        assert problem["rule"] == rule
    assert (await client.get("/api/v1/grants", headers=admin)).json() == []


async def test_malformed_json_is_a_400(client: Any) -> None:
    admin = await login(client, "nx_admin")
    response = await client.post(
        "/api/v1/grants", content=b"{not json", headers={**admin, "content-type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["title"]
    check = "/api/v1/authority/check?unit=640202&item=HRSS-04&action=accept&at="
    assert (await client.get(check + "yesterday", headers=admin)).status_code == 400
    assert (await client.get(check + "0001-01-01T00:00:00%2B08:00", headers=admin)).status_code == 422


async def test_tenants_are_isolated(client: Any) -> None:
    hainan = await login(client, "hn_admin")
    ningxia_grant = (await _grant(client, await login(client, "nx_admin"), unit="640202")).json()
    assert (await client.get(f"/api/v1/grants/{ningxia_grant['id']}", headers=hainan)).status_code == 404
    assert (await client.get("/api/v1/grants", headers=hainan)).json() == []
    assert (await client.get("/api/v1/units/640202", headers=hainan)).status_code == 404
    assert (await _grant(client, hainan, unit="640202")).status_code == 404
    assert (await _grant(client, hainan, unit="460105")).status_code == 201


async def test_matrix_drills_down(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, unit="640202001", scope="unit", redelegable=False)
    await _grant(client, admin, unit="640202001", scope="unit", item="HRSS-07", redelegable=False)
    response = await client.get("/api/v1/authority/matrix", params={"unit": "640202", "depth": 2}, headers=admin)
    assert response.status_code == 200
    body = response.json()
    by_code = {u["code"]: u for u in body["units"]}
    assert by_code["640202001"]["allowed"] == {"HRSS-04": ["accept"], "HRSS-07": ["accept"]}
    assert by_code["640202001001"]["allowed"] == {}
    assert by_code["640202"]["allowed"] == {} and len(body["items"]) == 20
    assert max(u["level"] for u in body["units"]) == 5
    assert (
        await client.get("/api/v1/authority/matrix", params={"unit": "640202", "depth": 9}, headers=admin)
    ).status_code == 400


async def test_a_missing_or_bad_query_parameter_is_named(client: Any) -> None:
    """A clerk is told which parameter is missing or wrong, not only that the request is wrong."""
    admin = await login(client, "nx_admin")
    missing = await client.get("/api/v1/authority/matrix", headers=admin)
    assert missing.status_code == 400
    assert "unit" in missing.json()["detail"] and "缺少" in missing.json()["detail"], missing.json()
    wrong = await client.get("/api/v1/authority/matrix", params={"unit": "640202", "depth": "两"}, headers=admin)
    assert wrong.status_code == 400 and "depth" in wrong.json()["detail"], wrong.json()


async def test_grant_filters(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, unit="640202")
    await _grant(client, admin, unit="640205", action="decide", scope="unit", redelegable=False)
    await _grant(client, admin, unit="640205", valid_from="2030-01-01")
    assert len((await client.get("/api/v1/grants", params={"unit": "640205"}, headers=admin)).json()) == 2
    assert len((await client.get("/api/v1/grants", params={"action": "decide"}, headers=admin)).json()) == 1
    assert len((await client.get("/api/v1/grants", params={"status": "scheduled"}, headers=admin)).json()) == 1
    assert len((await client.get("/api/v1/grants", params={"status": "active"}, headers=admin)).json()) == 2
    assert (await client.get("/api/v1/grants", params={"status": "odd"}, headers=admin)).status_code == 400


async def test_batch_is_all_or_nothing(client: Any) -> None:
    admin = await login(client, "nx_admin")
    towns = ["640202001", "640202002", "640202003"]
    good = [{**BASE, "unit": town, "scope": "unit", "redelegable": False} for town in towns]
    bad = [*good, {**BASE, "unit": "640202001001", "item": "HRSS-07"}]
    refused = await client.post("/api/v1/grants/batch", json={"grants": bad}, headers=admin)
    assert refused.status_code == 422 and refused.json()["rule"] == "floor"
    assert refused.json()["detail"].startswith("第 4 条")
    assert (await client.get("/api/v1/grants", headers=admin)).json() == []
    created = await client.post("/api/v1/grants/batch", json={"grants": good}, headers=admin)
    assert created.status_code == 201 and [g["unit"] for g in created.json()] == towns
    for town in towns:
        assert (await _check(client, admin, town))["allowed"]
    assert not (await _check(client, admin, "640202004"))["allowed"]
