"""延长办理期限 (行政许可法 Art. 42, issue 17): the head of the deciding unit extends a case once, by up to ten working
days; the deadline and warning days move with it, the trace records it, and the 延长办理期限告知书 prints in the
deciding organ's name with the head as 经办人."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import grant_unit, login, open_case, step, web_login, web_post
from pdfs import flat_text

pytestmark = pytest.mark.anyio

TOWN = "640202001"


async def test_the_deciding_units_head_extends_a_case_once(client: Any) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk, approver, head = (
        await login(client, "cs_clerk"),
        await login(client, "cs_approver"),
        await login(client, "cs_head"),
    )
    case = await open_case(client, clerk, "HRSS-04", TOWN, "11010519491231002X", "张三")
    url = f"/api/v1/cases/{case['id']}/extension"
    body = {"days": 10, "reason": "需向外省社保机构核实参保记录，原期限内不能作出决定", "version": case["version"]}
    early = await client.post(url, json={**body, "version": case["version"]}, headers=head)
    assert early.status_code == 409 and early.json()["rule"] == "not_extendable"  # not accepted yet

    case = await step(client, clerk, case, "submit", "accept")
    promised, deadline = case["timing"]["promised_days"], case["timing"]["deadline"]
    assert (await client.post(url, json={**body, "version": case["version"]}, headers=approver)).status_code == 403
    too_long = await client.post(url, json={**body, "days": 11, "version": case["version"]}, headers=head)
    assert too_long.status_code == 400
    stale = await client.post(url, json={**body, "version": case["version"] - 1}, headers=head)
    assert stale.status_code == 409 and stale.json()["rule"] == "stale_version"

    extended = await client.post(url, json={**body, "version": case["version"]}, headers=head)
    assert extended.status_code == 200, extended.text
    case = extended.json()
    assert case["timing"]["promised_days"] == promised + 10 and case["timing"]["deadline"] > deadline
    again = await client.post(url, json={**body, "days": 1, "version": case["version"]}, headers=head)
    assert again.status_code == 409 and again.json()["rule"] == "already_extended"

    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)).json()
    assert trace[-1]["action"] == "extend" and trace[-1]["detail"]["days"] == 10
    notice = flat_text((await client.get(f"/api/v1/cases/{case['id']}/documents/extension_notice.pdf",
                                         headers=clerk)).content)  # fmt: skip
    assert "延长办理期限告知书" in notice and "第四十二条" in notice and body["reason"] in notice
    assert f"延长后的承诺时限为{promised + 10}个工作日" in notice and "经本机关负责人批准" in notice
    assert notice.split("扫码查询办理进度")[0] == "长胜街道办事处"
    case = await step(client, approver, case, "assign", "approve")
    assert case["status"] == "approved"


async def test_a_case_never_extended_has_no_extension_notice(client: Any) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    case = await step(client, clerk, await open_case(client, clerk, "HRSS-04", TOWN, "11010519491231002X", "张三"),
                      "submit", "accept")  # fmt: skip
    notice = await client.get(f"/api/v1/cases/{case['id']}/documents/extension_notice.pdf", headers=clerk)
    assert notice.status_code == 409 and notice.json()["rule"] == "document_not_available"


async def test_the_head_extends_from_the_case_page(client: Any) -> None:
    """As a browser without JavaScript: the form is on the deciding unit's head's case page only, a refused one
    says why and keeps what was typed, an accepted one leaves the 告知书 to print."""
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    case = await step(client, clerk, await open_case(client, clerk, "HRSS-04", TOWN, "11010519491231002X", "张三"),
                      "submit", "accept")  # fmt: skip
    page = f"/cases/{case['id']}"
    client.follow_redirects = False
    await web_login(client, "cs_head")
    assert "批准延长" in (await client.get(page)).text
    form = {"version": str(case["version"]), "days": "11", "reason": "需向外省核实参保记录"}
    refused = await web_post(client, page, f"{page}/extension", form)
    assert refused.status_code == 422 and "1 到 10" in refused.text and "需向外省核实参保记录" in refused.text
    done = await web_post(client, page, f"{page}/extension", {**form, "days": "5"})
    assert done.status_code == 303 and done.headers["location"] == f"{page}?done=extend"
    shown = (await client.get(done.headers["location"])).text
    assert "已延长办理期限" in shown and "延长办理期限告知书" in shown and "批准延长" not in shown
