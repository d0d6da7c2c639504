"""The public face (issue 17): 办事指南 with where to go from the live grants, a unit's 权力清单和责任清单 (with
XLSX and PDF), and the 政策法规库 — no login, cached, no cookie in a cached answer, and a grant or revocation showing
at once."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from helpers import grant_unit, login
from pdfs import flat_text

pytestmark = pytest.mark.anyio

TOWN, VILLAGE = "640202001", "640202001001"
POINT = {"kind": "center", "name": "长胜街道便民服务中心", "address": "大武口区长胜街道朝阳西街 8 号",
         "hours": "周一至周五 9:00-17:00", "phone": "0952-2011234"}  # fmt: skip


async def _revoke_all(client: Any, item: str, unit: str) -> None:
    admin = await login(client, "nx_admin")
    grants = (await client.get("/api/v1/grants", params={"unit": unit, "item": item}, headers=admin)).json()
    for grant in grants:
        if grant["status"] == "active":
            revoked = await client.post(f"/api/v1/grants/{grant['id']}/revoke", json={"reason": "调整赋权"},
                                        headers=admin)  # fmt: skip
            assert revoked.status_code == 200, revoked.text


async def test_the_guide_says_what_to_bring_and_where_to_go_from_the_live_grants(client: Any) -> None:
    regions = await client.get("/guide")
    assert regions.status_code == 200 and 'href="/guide/64"' in regions.text
    index = await client.get("/guide/64")
    assert index.status_code == 200 and "/guide/64/HRSS-04" in index.text and "set-cookie" not in index.headers
    guide = await client.get("/guide/64/HRSS-04")
    assert guide.status_code == 200 and "无需提交" in guide.text and "办理流程" in guide.text
    assert "set-cookie" not in guide.headers and '"x-csrftoken": ""' in guide.text.lower()  # nobody's token in it

    before = await client.get("/guide/64/HRSS-04", params={"unit": VILLAGE})
    assert "长胜街道便民服务中心" not in before.text
    await grant_unit(client, "HRSS-04", TOWN, "accept")
    admin = await login(client, "nx_admin")
    assert (await client.post(f"/api/v1/units/{TOWN}/service-points", json=POINT, headers=admin)).status_code == 201
    after = await client.get("/guide/64/HRSS-04", params={"unit": VILLAGE})  # the grant shows at once
    assert "长胜街道便民服务中心" in after.text and "朝阳西街 8 号" in after.text and "所属乡镇（街道）" in after.text

    found = (await client.get("/api/v1/public/guides/64/HRSS-04", params={"place": "骏马"})).json()
    assert [c["code"] for c in found["candidates"]] == [] and found["place"]["code"] == VILLAGE
    assert [p["unit_code"] for p in found["places"]] == [TOWN]
    assert all(m["note"].startswith("无需提交") for m in found["materials"] if m["shared"])
    none = await client.get("/guide/64/HRSS-04", params={"place": "不存在的村子"})
    assert none.status_code == 200 and "没有找到" in none.text

    await _revoke_all(client, "HRSS-04", TOWN)
    revoked = await client.get("/guide/64/HRSS-04", params={"unit": VILLAGE})
    assert "长胜街道便民服务中心" not in revoked.text  # the revocation shows at once too
    assert (await client.get("/guide/99/HRSS-04")).status_code == 404
    assert (await client.get("/guide/64/NOPE-1")).status_code == 404


async def test_a_units_power_and_responsibility_lists_follow_its_grants(client: Any) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    page = await client.get(f"/lists/{TOWN}")
    assert page.status_code == 200 and "权力清单" in page.text and "责任清单" in page.text
    assert "宁人社发〔2026〕8号" in page.text and "追责情形" in page.text and "事后监管" in page.text
    assert "set-cookie" not in page.headers and f'href="/lists/{VILLAGE}"' in page.text  # down to its villages
    api = (await client.get(f"/api/v1/public/units/{TOWN}/powers")).json()
    held = {(p["item_code"], p["right"]) for p in api["powers"]}
    assert {("HRSS-04", "受理"), ("HRSS-04", "审批")} <= held
    assert api["organ_name"] == "长胜街道办事处"

    workbook = await client.get(f"/lists/{TOWN}", params={"format": "xlsx"})
    assert workbook.status_code == 200 and workbook.content[:2] == b"PK"
    sheets = zipfile.ZipFile(io.BytesIO(workbook.content)).namelist()
    assert sum(name.startswith("xl/worksheets/") for name in sheets) == 3
    pdf = await client.get(f"/lists/{TOWN}", params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = flat_text(pdf.content)
    assert "长胜街道办事处权力清单和责任清单" in text and "宁人社发〔2026〕8号" in text

    await _revoke_all(client, "HRSS-04", TOWN)
    after = (await client.get(f"/api/v1/public/units/{TOWN}/powers")).json()
    assert ("HRSS-04", "审批") not in {(p["item_code"], p["right"]) for p in after["powers"]}
    assert any(e["change"] == "撤销" for e in after["history"])
    assert (await client.get("/lists/990000")).status_code == 404


async def test_the_policy_library_is_searched_by_chinese_words(client: Any) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept")
    library = (await client.get("/api/v1/public/policies/64")).json()
    assert any(entry["kind"] == "法律法规" for entry in library)
    found = (await client.get("/api/v1/public/policies/64", params={"q": "宁人社发 长胜"})).json()
    assert [entry["title"] for entry in found] == ["宁人社发〔2026〕8号"]
    assert found[0]["grants"][0]["unit_code"] == TOWN
    page = await client.get("/policies/64", params={"q": "就业"})
    assert page.status_code == 200 and "政策法规库" in page.text and "set-cookie" not in page.headers
    assert (await client.get("/policies/64", params={"q": "没有这样的文件名"})).text.count("没有找到") == 1


async def test_nothing_unbounded_is_cached(client: Any) -> None:
    """Typed words are answered but never stored; other spellings of a page are refused, not stored anew."""
    from fuquan.platform.app.caching import bounded_cache

    assert bounded_cache({"query_string": b"unit=640202001001"}, 200)  # type: ignore[typeddict-item]
    assert not bounded_cache({"query_string": b"place=%E9%AA%8F"}, 200)  # type: ignore[typeddict-item]
    assert not bounded_cache({"query_string": b"q=x&unit=1"}, 200)  # type: ignore[typeddict-item]
    assert bounded_cache({"query_string": b"q="}, 200)  # type: ignore[typeddict-item]
    assert not bounded_cache({"query_string": b""}, 404)  # type: ignore[typeddict-item]
    assert (await client.get("/guide/64x")).status_code == 404
    assert (await client.get("/guide/64/HRSS-04", params={"unit": "not-a-place"})).status_code == 404
    assert (await client.get(f"/lists/{TOWN}", params={"format": "zip"})).status_code == 422
    assert (await client.get("/policies/640")).status_code == 404
