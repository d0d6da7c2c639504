"""Cases end to end through the API: the front desk accepts, the deciding unit decides, the front desk issues."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from fuquan.platform.accounts.services import add_staff
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.personal import id_check_char
from helpers import login, sample_form

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
BODY = "64020219900101123"
RESIDENT = BODY + id_check_char(BODY)
TOWN, COUNTY = "640202001", "640202"


async def _grant(client: Any, admin: dict[str, str], item: str, action: str, unit: str) -> int:
    body = {"item": item, "action": action, "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
            "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
    response = await client.post("/api/v1/grants", json=body, headers=admin)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _desk_staff(database_url: str) -> None:
    """A front-desk clerk who is also an approver, for 即办件 decided in one visit."""
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        await add_staff(session, username="cs_onestop", tenant_code="64", unit_code=TOWN,
                        roles=["window_clerk", "approver"], password="one-stop-password")  # fmt: skip
    await engine.dispose()


async def _new_case(client: Any, clerk: dict[str, str], item: str, key: str | None = None) -> dict[str, Any]:
    applicant = {"id_number": RESIDENT, "name": "张三", "phone": "13812341234"}
    body = {"item": item, "unit": TOWN, "applicant": applicant, "form": sample_form(item)}
    headers = {**clerk, **({"Idempotency-Key": key} if key else {})}
    response = await client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _provide_required(client: Any, clerk: dict[str, str], case: dict[str, Any]) -> dict[str, Any]:
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            response = await client.post(
                f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                files={"file": ("photo.png", PNG, "image/png")}, headers=clerk,
            )  # fmt: skip
            assert response.status_code == 200, response.text
            case = response.json()
    return case


async def _step(client: Any, who: dict[str, str], case: dict[str, Any], action: str, reason: str | None = None,
                expect: int = 200) -> dict[str, Any]:  # fmt: skip
    body = {"action": action, "version": case["version"], **({"reason": reason} if reason else {})}
    response = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)
    assert response.status_code == expect, response.text
    return dict(response.json()) if expect == 200 else case


async def test_immediate_item_decided_in_one_visit(client: Any, database_url: str) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-02", "accept", TOWN)
    await _grant(client, admin, "HRSS-02", "decide", TOWN)
    await _desk_staff(database_url)
    desk = await login(client, "cs_onestop", "one-stop-password")
    case = await _new_case(client, desk, "HRSS-02")
    assert case["status"] == "draft" and case["receipt_no"].startswith(f"{TOWN}-")
    assert case["applicant"] == {"name": "张*", "id_number": "6402**********" + RESIDENT[-4:], "phone": "138****1234"}
    refused = await _step(client, desk, await _step(client, desk, case, "submit"), "accept", expect=422)
    case = await _provide_required(client, desk, refused)
    case = await _step(client, desk, case, "accept")
    assert case["routed_to"] == TOWN and case["timing"]["promised_days"] == 0
    for action in ("assign", "approve", "issue", "close"):
        case = await _step(client, desk, case, action)
    assert case["status"] == "closed" and case["allowed_actions"] == ["revoke"]  # only the head's 撤销 is left
    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=desk)).json()
    steps = [e for e in trace if e["action"] != "material"]
    assert [e["action"] for e in steps] == ["create", "submit", "accept", "assign", "approve", "issue", "close"]
    assert len(trace) - len(steps) == sum(m["required"] for m in case["materials"])  # one event per upload
    assert steps[2]["detail"]["routed_to"] == TOWN and all(e["unit"] == TOWN for e in trace)
    assert [e["seq"] for e in trace] == list(range(1, len(trace) + 1))


async def test_separation_of_duties_and_county_decision(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    case = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-04"))
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    assert case["routed_to"] == TOWN and case["deadline"] and case["timing"]["clock"] == "running"
    await _step(client, clerk, case, "assign", expect=403)  # a clerk's role does not decide
    case = await _step(client, approver, case, "assign")
    await _step(client, approver, case, "issue", expect=409)  # not decided yet: 409 lists what is allowed
    case = await _step(client, approver, case, "deny", reason="不符合就业困难人员认定条件")
    case = await _step(client, clerk, case, "issue")
    assert case["status"] == "issued"

    # HRSS-07 is accepted at the township and decided at the county (decide_floor 3)
    await _grant(client, admin, "HRSS-07", "accept", TOWN)
    await _grant(client, admin, "HRSS-07", "decide", COUNTY)
    loan = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-07"))
    loan = await _step(client, clerk, await _step(client, clerk, loan, "submit"), "accept")
    assert loan["routed_to"] == COUNTY
    await _step(client, approver, loan, "assign", expect=403)  # the township does not decide HRSS-07
    county = await login(client, "dwk_approver")
    loan = await _step(client, county, loan, "assign")
    loan = await _step(client, county, loan, "approve")
    loan = await _step(client, clerk, loan, "issue")
    assert loan["status"] == "issued"


async def test_idempotent_creation_and_stale_versions(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    first = await _new_case(client, clerk, "HRSS-04", key="retry-key-0001")
    again = await _new_case(client, clerk, "HRSS-04", key="retry-key-0001")
    assert again["id"] == first["id"] and again["receipt_no"] == first["receipt_no"]
    other = {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": RESIDENT, "name": "李四"}}
    clash = await client.post("/api/v1/cases", json=other, headers={**clerk, "Idempotency-Key": "retry-key-0001"})
    assert clash.status_code == 422
    submitted = await _step(client, clerk, first, "submit")
    stale = await client.post(f"/api/v1/cases/{first['id']}/transitions",
                              json={"action": "withdraw", "version": first["version"], "reason": "申请人撤回"},
                              headers=clerk)  # fmt: skip
    assert stale.status_code == 409 and stale.json()["rule"] == "stale_version"
    assert submitted["version"] == first["version"] + 1


async def test_bad_ids_and_units_are_refused(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    wrong = RESIDENT[:-1] + ("0" if RESIDENT[-1] != "0" else "1")
    body = {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": wrong, "name": "张三"}}
    response = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert response.status_code == 422 and response.json()["rule"] == "id_checksum"
    assert wrong not in response.text
    no_grant = await client.post("/api/v1/cases", json={**body, "item": "HRSS-05",
                                 "applicant": {"id_number": RESIDENT, "name": "张三"}}, headers=clerk)  # fmt: skip
    assert no_grant.status_code == 403 and no_grant.json()["rule"] == "unit_authority"
    elsewhere = await client.post("/api/v1/cases", json={**body, "unit": "640205001"}, headers=clerk)
    assert elsewhere.status_code == 404


async def test_queue_filters(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk = await login(client, "cs_clerk")
    draft = await _new_case(client, clerk, "HRSS-04")
    accepted = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-04"))
    accepted = await _step(client, clerk, await _step(client, clerk, accepted, "submit"), "accept")
    page = (await client.get("/api/v1/cases", headers=clerk)).json()
    assert page["total"] == 2 and {c["id"] for c in page["items"]} == {draft["id"], accepted["id"]}
    drafts = (await client.get("/api/v1/cases", params={"status": "draft"}, headers=clerk)).json()
    assert [c["id"] for c in drafts["items"]] == [draft["id"]]
    # accepted today with 5 promised working days: plenty of time left
    normal = (await client.get("/api/v1/cases", params={"signal": "normal"}, headers=clerk)).json()
    assert [c["id"] for c in normal["items"]] == [accepted["id"]]
    assert (await client.get("/api/v1/cases", params={"signal": "red"}, headers=clerk)).json()["total"] == 0
    assert (await client.get("/api/v1/cases", params={"signal": "purple"}, headers=clerk)).status_code == 400
    village = await login(client, "jm_agent")  # 骏马社区 sees nothing of the street's cases
    assert (await client.get("/api/v1/cases", headers=village)).json()["total"] == 0


async def test_full_identity_needs_a_permission_and_a_purpose(client: Any, database_url: str) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _new_case(client, clerk, "HRSS-04")
    reveal = f"/api/v1/cases/{case['id']}/applicant/reveal"
    assert (await client.post(reveal, json={}, headers=clerk)).status_code == 400  # no purpose, no reveal
    shown = await client.post(reveal, json={"purpose": "核对户籍信息"}, headers=clerk)
    assert shown.status_code == 200
    assert shown.json() == {"id_number": RESIDENT, "name": "张三", "phone": "13812341234", "form": {}}
    supervisor = await login(client, "nx_supervisor")
    assert (await client.post(reveal, json={"purpose": "抽查"}, headers=supervisor)).status_code == 403
    from sqlalchemy import select

    from fuquan.platform.core.audit.models import AuditRecord

    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        purposes = list(
            await session.scalars(select(AuditRecord.purpose).where(AuditRecord.action == "applicant.reveal"))
        )
    await engine.dispose()
    assert purposes == ["核对户籍信息"]


async def test_accept_is_offered_only_once_every_required_material_is_in(client: Any) -> None:
    """``allowed_actions`` lists what would succeed now; a step the status allows but a rule blocks is in
    ``blocked_actions`` with the reason the clerk would be given."""
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _new_case(client, clerk, "HRSS-04")
    response = await client.post(f"/api/v1/cases/{case['id']}/transitions",
                                 json={"action": "submit", "version": case["version"]}, headers=clerk)  # fmt: skip
    assert response.status_code == 200, response.text
    submitted = response.json()
    assert "accept" not in submitted["allowed_actions"]
    assert {"refuse", "request_supplement"} <= set(submitted["allowed_actions"])
    [blocked] = submitted["blocked_actions"]
    assert blocked["action"] == "accept" and blocked["rule"] == "materials_missing"
    assert "居民身份证或社会保障卡" in blocked["reason"]
    refused = await client.post(f"/api/v1/cases/{case['id']}/transitions",
                                json={"action": "accept", "version": submitted["version"]}, headers=clerk)  # fmt: skip
    assert refused.status_code == 422 and refused.json()["detail"] == blocked["reason"]

    provided = await _provide_required(client, clerk, submitted)
    assert "accept" in provided["allowed_actions"] and provided["blocked_actions"] == []
