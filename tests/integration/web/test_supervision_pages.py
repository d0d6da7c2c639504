"""The supervision page (电子监察看板) through HTTP, as a browser without JavaScript sees it."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from fuquan.platform.core.personal import id_check_char
from helpers import accepted_days_ago, login, open_case, step, web_login

pytestmark = pytest.mark.anyio

TZ = "Asia/Shanghai"
COUNTY, TOWN, SIBLING = "640202", "640202001", "640202002"
ITEM = "HRSS-04"  # 5 promised working days
CHART_DATA = re.compile(r'<script type="application/json" id="supervision-chart-data">(.*?)</script>', re.S)


def _resident(n: int) -> str:
    body = f"6402021985030{n}12"[:17].ljust(17, "1")
    return body + id_check_char(body)


async def _case(client: Any, clerk: dict[str, str], approver: dict[str, str], n: int, name: str,
                *steps: str) -> dict[str, Any]:  # fmt: skip
    case = await step(client, clerk, await open_case(client, clerk, ITEM, TOWN, _resident(n), name), "submit", "accept")
    for action in steps:
        case = await step(client, approver if action in ("assign", "approve") else clerk, case, action)
    return case


async def _cases(client: Any, database_url: str) -> dict[str, dict[str, Any]]:
    """At 长胜街道: one case overdue (red), one nearly due (yellow), one issued on time and rated 4."""
    admin = await login(client, "nx_admin")
    for action in ("accept", "decide"):
        body = {"item": ITEM, "action": action, "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
                "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
        assert (await client.post("/api/v1/grants", json=body, headers=admin)).status_code == 201
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    cases = {
        "red": await _case(client, clerk, approver, 1, "赵红", "assign"),
        "yellow": await _case(client, clerk, approver, 2, "钱黄"),
        "done": await _case(client, clerk, approver, 3, "孙好", "assign", "approve", "issue"),
    }
    await accepted_days_ago(database_url, cases["red"], 8, 5)
    await accepted_days_ago(database_url, cases["yellow"], 4, 5)
    rated = await client.post(f"/api/v1/public/cases/{cases['done']['receipt_no']}/rating",
                              json={"code": cases["done"]["query_code"], "level": 4})  # fmt: skip
    assert rated.status_code == 201, rated.text
    return cases


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return page[start : page.index("</section>", start)]


async def test_supervisor_sees_red_and_yellow_lists_table_and_chart_data(client: Any, database_url: str) -> None:
    cases = await _cases(client, database_url)
    await web_login(client, "dwk_supervisor")
    response = await client.get("/supervision", follow_redirects=False)
    assert response.status_code == 200, response.text[:500]
    page = response.text
    assert page.count("<h1") == 1 and "电子监察看板：大武口区" in page

    red, yellow = _section(page, "red-list"), _section(page, "yellow-list")
    assert page.index('id="red-list"') < page.index('id="yellow-list"')  # red first
    assert cases["red"]["receipt_no"] in red and "逾期" in red and "超期" in red and "3 个工作日" in red
    assert f'href="/cases/{cases["red"]["id"]}"' in red and "赵*" in red and "就业困难人员认定" in red
    assert cases["yellow"]["receipt_no"] in yellow and "预警" in yellow and "1 个工作日" in yellow
    assert cases["yellow"]["receipt_no"] not in red and cases["red"]["receipt_no"] not in yellow
    for n in (1, 2, 3):
        assert _resident(n) not in page  # never an ID number
    assert "赵红" not in page  # names masked

    units = _section(page, "per-unit")
    assert f'href="/supervision?unit={TOWN}"' in units and "长胜街道" in units
    town_row = units[units.index(f'unit={TOWN}"') :].split("</tr>")[0]
    cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in town_row.split("<td")[1:]]
    cells = [cell.split(">", 1)[1].strip() if ">" in cell else cell for cell in cells]
    assert cells[:5] == ["3", "2", "1", "1", "100.0% （1/1）"], cells
    assert cells[5:] == ["1", "4.00", "100.0%", "0"], cells
    sibling_row = units[units.index(f'unit={SIBLING}"') :].split("</tr>")[0]
    assert "—" in sibling_row and "0.0%" not in sibling_row  # no finished cases: no rate, not 0 %

    found = CHART_DATA.search(page)
    assert found
    charts = json.loads(html.unescape(found.group(1)))
    assert dict(zip(charts["status"]["names"], charts["status"]["counts"], strict=True)) == {
        "已受理": 1, "审批中": 1, "已出件": 1,
    }  # fmt: skip
    assert charts["units"]["names"] == ["长胜街道"]  # only units with cases are drawn
    assert charts["units"]["on_time"] == [100.0] and charts["units"]["good"] == [100.0]
    assert charts["units"]["red"] == [1] and charts["units"]["yellow"] == [1]
    for chart in ("status", "rates", "signals"):
        assert re.search(rf'data-chart="{chart}" role="img" aria-label="[^"]+"', page), chart
    assert 'aria-label="办件状态分布，共 3 件：已受理 1 件，审批中 1 件，已出件 1 件"' in page
    for asset in ("/static/vendor/echarts/echarts.min.js", "/static/web/supervision.js", "/static/web/supervision.css"):
        assert asset in page
        assert (await client.get(asset)).status_code == 200, asset
    script = (await client.get("/static/web/supervision.js")).text
    assert 'renderer: "svg"' in script and "supervision-chart-data" in script


async def test_drill_down_breadcrumb_and_scope(client: Any, database_url: str) -> None:
    cases = await _cases(client, database_url)
    await web_login(client, "dwk_supervisor")
    town = await client.get(f"/supervision?unit={TOWN}", follow_redirects=False)
    assert town.status_code == 200
    start = town.text.index('aria-label="单位层级"')
    crumbs = town.text[start : town.text.index("</nav>", start)]
    assert f'href="/supervision?unit={COUNTY}"' in crumbs and "大武口区" in crumbs and 'aria-current="page"' in crumbs
    assert "电子监察看板：长胜街道" in town.text and "长胜街道（本级）" in town.text
    assert cases["red"]["receipt_no"] in town.text
    assert (await client.get("/supervision?unit=6402", follow_redirects=False)).status_code == 404  # above
    assert (await client.get("/supervision?unit=abc", follow_redirects=False)).status_code == 400

    client.cookies.clear()
    await web_login(client, "cs_admin")  # the street's unit admin: their own subtree only
    own = await client.get("/supervision", follow_redirects=False)
    assert own.status_code == 200 and cases["red"]["receipt_no"] in own.text
    assert "单位层级" in own.text and f'href="/supervision?unit={COUNTY}"' not in own.text
    for unit in (SIBLING, COUNTY, "4601"):  # sibling, above, another tenant's
        hidden = await client.get(f"/supervision?unit={unit}", follow_redirects=False)
        assert hidden.status_code == 404, unit
        assert "未找到" in hidden.text or "不存在" in hidden.text
        assert cases["red"]["receipt_no"] not in hidden.text

    client.cookies.clear()
    await web_login(client, "hn_admin")
    foreign = await client.get(f"/supervision?unit={TOWN}", follow_redirects=False)
    assert foreign.status_code == 404 and cases["red"]["receipt_no"] not in foreign.text


async def test_clerk_without_supervision_gets_403_page(client: Any) -> None:
    anonymous = await client.get("/supervision?unit=640202", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    await web_login(client, "cs_clerk")
    denied = await client.get("/supervision", follow_redirects=False)
    assert denied.status_code == 403
    assert "电子监察" in denied.text and "<h1" in denied.text and 'id="red-list"' not in denied.text
