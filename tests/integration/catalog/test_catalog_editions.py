"""事项维护 (issue 17): a tenant admin edits an item through the API; each edit is a new edition in force from its
day; two editions compare element by element; a case keeps the edition it was opened under."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import grant_unit, login, open_case, step

pytestmark = pytest.mark.anyio

TOWN = "640202001"
TZ = "Asia/Shanghai"


async def _revision(client: Any, admin: dict[str, str], code: str, **changes: Any) -> dict[str, Any]:
    item = (await client.get(f"/api/v1/items/{code}", headers=admin)).json()
    editions = (await client.get("/api/v1/catalog/editions", headers=admin)).json()
    spec = {key: value for key, value in item.items() if key != "edition"}
    return {"item": {**spec, **changes}, "effective_from": str(local_date(utcnow(), TZ)),
            "base_edition": editions[0]["number"], "note": "按省厅通知调整承诺时限和受理条件"}  # fmt: skip


async def test_an_edit_is_a_new_edition_and_the_diff_says_what_changed(client: Any) -> None:
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    before = (await client.get("/api/v1/items/HRSS-04", headers=admin)).json()
    body = await _revision(client, admin, "HRSS-04", promised_days=3, conditions=["本省户籍或在本省就业的劳动者"],
                           fees=[], result_name="《就业创业证》", power_source="devolved")  # fmt: skip
    assert (await client.put("/api/v1/items/HRSS-04", json=body, headers=clerk)).status_code == 403
    mismatch = await client.put("/api/v1/items/HRSS-05", json=body, headers=admin)
    assert mismatch.status_code == 422 and mismatch.json()["rule"] == "item_code"
    past = {**body, "effective_from": str(local_date(utcnow(), TZ) - timedelta(days=1))}
    assert (await client.put("/api/v1/items/HRSS-04", json=past, headers=admin)).json()["rule"] == "effective_from"

    made = await client.put("/api/v1/items/HRSS-04", json=body, headers=admin)
    assert made.status_code == 201, made.text
    edition = made.json()
    assert edition["number"] == before["edition"] + 1 and edition["state"] == "in_force"
    after = (await client.get("/api/v1/items/HRSS-04", headers=clerk)).json()
    assert after["edition"] == edition["number"] and after["promised_days"] == 3
    assert after["conditions"] == ["本省户籍或在本省就业的劳动者"] and after["result_name"] == "《就业创业证》"

    stale = await client.put("/api/v1/items/HRSS-04", json=body, headers=admin)  # based on the edition before
    assert stale.status_code == 409 and stale.json()["rule"] == "stale_edition"
    same = {**body, "base_edition": edition["number"]}
    assert (await client.put("/api/v1/items/HRSS-04", json=same, headers=admin)).json()["rule"] == "no_change"

    diff = (await client.get(f"/api/v1/catalog/editions/{edition['number']}/diff", headers=clerk)).json()
    assert [(c["code"], c["change"]) for c in diff["items"]] == [("HRSS-04", "changed")]
    changed = {f["element"]: (f["before"], f["after"]) for f in diff["items"][0]["fields"]}
    assert changed["承诺办结时限"] == (f"{before['promised_days']}个工作日", "3个工作日")
    assert changed["受理条件"] == ("；".join(before["conditions"]), "本省户籍或在本省就业的劳动者")
    assert changed["权力来源"] == ("法定本级行使", "上级下放") and "办理结果名称" in changed
    assert set(changed) == {"承诺办结时限", "受理条件", "办理结果名称", "权力来源"}
    old = (await client.get(f"/api/v1/catalog/editions/{before['edition']}/items/HRSS-04", headers=clerk)).json()
    assert old["promised_days"] == before["promised_days"] and old["edition"] == before["edition"]

    audit = (await client.get("/api/v1/audit/records", params={"action": "catalog.revise"},
                              headers=await login(client, "nx_auditor"))).json()  # fmt: skip
    assert [record["detail"]["edition"] for record in audit] == [edition["number"]]


async def test_an_edition_scheduled_for_a_later_day_waits_for_it(client: Any) -> None:
    admin = await login(client, "nx_admin")
    before = (await client.get("/api/v1/items/HRSS-04", headers=admin)).json()
    body = await _revision(client, admin, "HRSS-04", promised_days=2)
    body["effective_from"] = str(local_date(utcnow(), TZ) + timedelta(days=30))
    made = (await client.put("/api/v1/items/HRSS-04", json=body, headers=admin)).json()
    assert made["state"] == "scheduled"
    assert (await client.get("/api/v1/items/HRSS-04", headers=admin)).json()["promised_days"] == before["promised_days"]
    editions = (await client.get("/api/v1/catalog/editions", headers=admin)).json()
    assert [(e["number"], e["state"]) for e in editions[:2]] == [(made["number"], "scheduled"),
                                                                  (before["edition"], "in_force")]  # fmt: skip
    sooner = {**body, "base_edition": made["number"], "effective_from": str(local_date(utcnow(), TZ)),
              "item": {**body["item"], "promised_days": 4}}  # fmt: skip
    refused = await client.put("/api/v1/items/HRSS-04", json=sooner, headers=admin)
    assert refused.status_code == 422 and refused.json()["rule"] == "effective_from"  # editions take effect in order


async def test_an_open_case_keeps_the_edition_it_was_opened_under(client: Any) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    case = await open_case(client, clerk, "HRSS-04", TOWN, "11010519491231002X", "张三")
    promised = case["timing"]["promised_days"]
    added_field = {"name": "employer_contact", "label": "用人单位联系人", "type": "text", "required": True}
    fields = case_fields(await client.get("/api/v1/items/HRSS-04", headers=admin))
    body = await _revision(client, admin, "HRSS-04", promised_days=promised + 5, fields=[*fields, added_field])
    assert (await client.put("/api/v1/items/HRSS-04", json=body, headers=admin)).status_code == 201
    accepted = await step(client, clerk, case, "submit", "accept")  # the new required field does not bind it
    assert accepted["catalog_edition"] == case["catalog_edition"]
    assert accepted["timing"]["promised_days"] == promised  # its edition's time limit, not the new one
    fresh = await client.post("/api/v1/cases", headers=clerk, json={
        "item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": "11010519491231002X", "name": "张三"},
        "form": {}})  # fmt: skip
    assert fresh.status_code == 422 and "用人单位联系人" in fresh.text  # a new case is held to the new edition


def case_fields(response: Any) -> list[dict[str, Any]]:
    return list(response.json()["fields"])
