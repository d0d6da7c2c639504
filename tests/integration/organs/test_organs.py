"""机关与服务点 (issue 17, deliverables 1–2): each unit's organ and service points, and notices issued in the name of
the organ the grant chain makes the issuer, with the person who took the step as 经办人."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import PASSWORD, PNG, enrol, login, sample_form, step
from pdfs import flat_text

pytestmark = pytest.mark.anyio

TOWN, COUNTY, COMMUNITY = "640202001", "640202", "640202001001"
CHAR = "〔2026〕"


async def grant(client: Any, who: dict[str, str], item: str, action: str, unit: str, **extra: Any) -> None:
    body = {"item": item, "action": action, "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
            "instrument": f"测试发{CHAR}{len(unit)}号", **extra}  # fmt: skip
    response = await client.post("/api/v1/grants", json=body, headers=who)
    assert response.status_code == 201, response.text


def letterhead(text: str) -> str:
    """What a notice prints above its title: the issuing organ, and the body that acted for it."""
    return text.split("扫码查询办理进度", maxsplit=1)[0]


async def with_materials(client: Any, clerk: dict[str, str], body: dict[str, Any]) -> dict[str, Any]:
    """收件 with a photo of every required material the partners did not supply."""
    response = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    case = dict(response.json())
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            upload = await client.post(f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                                       files={"file": ("photo.png", PNG, "image/png")}, headers=clerk)  # fmt: skip
            case = dict(upload.json())
    return case


async def test_each_unit_is_the_organ_its_level_and_name_make_it(client: Any) -> None:
    clerk = await login(client, "cs_clerk")
    expected = {
        "64": ("宁夏回族自治区人力资源和社会保障厅", "hrss_department", True),
        COUNTY: ("大武口区人力资源和社会保障局", "hrss_department", True),
        TOWN: ("长胜街道办事处", "subdistrict_office", True),
        COMMUNITY: ("骏马社区居民委员会", "residents_committee", False),
    }
    admin = await login(client, "nx_admin")
    for code, (name, kind, administrative) in expected.items():
        organ = (await client.get(f"/api/v1/units/{code}/organ", headers=admin)).json()
        assert (organ["organ_name"], organ["organ_kind"], organ["administrative"]) == (name, kind, administrative)
        assert organ["customised"] is False
    # a clerk reads their own subtree's organs; the county above is outside it: not found
    assert (await client.get(f"/api/v1/units/{TOWN}/organ", headers=clerk)).status_code == 200
    assert (await client.get(f"/api/v1/units/{COUNTY}/organ", headers=clerk)).status_code == 404


async def test_an_admin_names_an_organ_and_every_change_is_audited(client: Any) -> None:
    admin, unit_admin = await login(client, "nx_admin"), await login(client, "cs_admin")
    url = f"/api/v1/units/{TOWN}/organ"
    named = await client.put(url, json={"organ_name": "石嘴山市大武口区长胜街道办事处"}, headers=unit_admin)
    assert named.status_code == 200, named.text
    assert named.json()["organ_name"] == "石嘴山市大武口区长胜街道办事处" and named.json()["customised"] is True
    wrong = await client.put(url, json={"organ_kind": "grid"}, headers=admin)
    assert wrong.status_code == 422 and wrong.json()["rule"] == "organ_kind_level"
    assert "只能是" in wrong.json()["detail"]
    # a unit admin of the town cannot reach the county; a window clerk may not edit at all
    assert (await client.put(f"/api/v1/units/{COUNTY}/organ", json={}, headers=unit_admin)).status_code == 404
    clerk = await login(client, "cs_clerk")
    assert (await client.put(url, json={}, headers=clerk)).status_code == 403
    reset = await client.put(url, json={"organ_name": None}, headers=admin)
    assert reset.json()["organ_name"] == "长胜街道办事处" and reset.json()["customised"] is False
    auditor = await login(client, "nx_auditor")
    records = (await client.get("/api/v1/audit/records", params={"action": "unit.organ_named"}, headers=auditor)).json()
    outcomes = sorted(record["outcome"] for record in records)
    assert outcomes == ["rejected", "rejected", "success", "success"]  # the wrong kind, the county out of reach


async def test_service_points_open_change_and_close(client: Any) -> None:
    admin = await login(client, "cs_admin")
    points = f"/api/v1/units/{TOWN}/service-points"
    bank = {"kind": "bank", "name": "农业银行大武口长胜支行（代办点）", "address": "大武口区长胜街道朝阳西街 12 号",
            "hours": "周一至周五 9:00-17:00", "phone": "0952-2011234",
            "latitude": 39.02, "longitude": 106.38}  # fmt: skip
    opened = await client.post(points, json=bank, headers=admin)
    assert opened.status_code == 201, opened.text
    point = opened.json()
    assert point["agent"] is True and point["kind_name"] == "银行网点（代办）" and point["unit_name"] == "长胜街道"
    centre = {"kind": "center", "name": "长胜街道便民服务中心", "address": "大武口区长胜街道贺兰山中路 1 号",
              "hours": "周一至周五 8:30-12:00 14:30-18:00"}  # fmt: skip
    assert (await client.post(points, json=centre, headers=admin)).status_code == 201
    half = await client.post(points, json={**centre, "latitude": 39.0}, headers=admin)
    assert half.status_code == 422 and half.json()["rule"] == "coordinates"
    amended = await client.put(f"/api/v1/service-points/{point['id']}", json={**bank, "hours": "每天 9:00-17:00"},
                               headers=admin)  # fmt: skip
    assert amended.status_code == 200 and amended.json()["hours"] == "每天 9:00-17:00"
    closed = await client.post(f"/api/v1/service-points/{point['id']}/close", headers=admin)
    assert closed.status_code == 200 and closed.json()["closed_at"] is not None
    again = await client.post(f"/api/v1/service-points/{point['id']}/close", headers=admin)
    assert again.status_code == 409
    listed = (await client.get(points, headers=admin)).json()
    assert [p["name"] for p in listed] == ["长胜街道便民服务中心"]
    everything = (await client.get(points, params={"include_closed": "true"}, headers=admin)).json()
    assert len(everything) == 2
    # another tenant's admin: the point does not exist for them
    hainan = await login(client, "hn_admin")
    assert (await client.post(f"/api/v1/service-points/{point['id']}/close", headers=hainan)).status_code == 404
    assert (await client.get(points, headers=hainan)).status_code == 404


async def test_notices_name_the_organ_the_grants_make_the_issuer_and_who_took_the_step(client: Any) -> None:
    """长胜街道 accepts HRSS-04 by devolution (in its own name) and decides it entrusted by 大武口区人社局 (in the
    bureau's name, the street named as handling it). Whoever prints, 经办人 is who took the step."""
    province, county = await login(client, "nx_admin"), await login(client, "dwk_admin")
    await grant(client, province, "HRSS-04", "accept", TOWN)
    await grant(client, province, "HRSS-04", "decide", COUNTY, redelegable=True, scope="subtree")
    await grant(client, county, "HRSS-04", "decide", TOWN, basis="entrusted")
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    body = {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": "11010519491231002X", "name": "张三"},
            "form": sample_form("HRSS-04")}  # fmt: skip
    case = await with_materials(client, clerk, body)
    case = await step(client, clerk, case, "submit", "accept")
    assert case["routed_to"] == TOWN
    documents = f"/api/v1/cases/{case['id']}/documents"
    receipt = flat_text((await client.get(f"{documents}/receipt.pdf", headers=approver)).content)
    assert letterhead(receipt) == "长胜街道办事处" and "委托" not in receipt
    assert "经办人长胜街道综合窗口" in receipt and "长胜街道审批员" not in receipt  # printed by the approver
    case = await step(client, approver, case, "assign")
    body = {"action": "suspend", "version": case["version"], "reason": "专家评审：认定材料需人社局专家组评审"}
    case = (await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=approver)).json()
    special = flat_text((await client.get(f"{documents}/special_procedure_notice.pdf", headers=clerk)).content)
    assert "特别程序告知书" in special and "第四十五条" in special and "专家评审：认定材料需人社局专家组评审" in special
    assert letterhead(special) == "大武口区人力资源和社会保障局受大武口区人力资源和社会保障局委托，由长胜街道办事处办理"
    assert "特别程序期限" in special and "经办人长胜街道审批员" in special
    case = await step(client, approver, case, "resume", "approve")
    assert (await client.get(f"{documents}/special_procedure_notice.pdf", headers=clerk)).status_code == 409
    result = flat_text((await client.get(f"{documents}/result_notice.pdf", headers=clerk)).content)
    note = "受大武口区人力资源和社会保障局委托，由长胜街道办事处办理"
    assert letterhead(result) == "大武口区人力资源和社会保障局" + note
    assert result.count(note) == 2  # under the letterhead and over the seal
    assert "经办人长胜街道审批员" in result and "长胜街道综合窗口" not in result.split("告知事项")[0]


async def test_a_community_deciding_by_devolution_decides_for_the_province(client: Any, database_url: str) -> None:
    """HRSS-06 may be decided down to a community, which is no organ: the decision it takes is issued in the name of
    the organ that devolved it, the committee named as acting for it (代办)."""
    province = await login(client, "nx_admin")
    for action in ("accept", "decide"):
        await grant(client, province, "HRSS-06", action, COMMUNITY)
    await enrol(database_url, "jm_approver", "64", COMMUNITY, ["approver"])
    agent, approver = await login(client, "jm_agent"), await login(client, "jm_approver", PASSWORD)
    body = {"item": "HRSS-06", "unit": COMMUNITY, "applicant": {"id_number": "11010519491231002X", "name": "张三"},
            "form": sample_form("HRSS-06")}  # fmt: skip
    case = await with_materials(client, agent, body)
    case = await step(client, agent, case, "submit", "accept")
    case = await step(client, approver, case, "assign", "approve")
    documents = f"/api/v1/cases/{case['id']}/documents"
    receipt = flat_text((await client.get(f"{documents}/receipt.pdf", headers=agent)).content)
    behalf = "骏马社区居民委员会代宁夏回族自治区人力资源和社会保障厅收件（代收代办）"
    assert letterhead(receipt) == "宁夏回族自治区人力资源和社会保障厅" + behalf
    result = flat_text((await client.get(f"{documents}/result_notice.pdf", headers=agent)).content)
    assert letterhead(result) == "宁夏回族自治区人力资源和社会保障厅" + behalf
