"""办不成事 pages: the admin sets the roster, the desk registers (a refused form keeps what was typed), the duty leader
classifies and hands it off, 销号; a clerk carries a case to the desk from the case page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import grant_unit, login, open_case, web_login, web_post

pytestmark = pytest.mark.anyio

BODY = "64020219700101123"
RESIDENT = BODY + id_check_char(BODY)


async def test_desk_roster_registration_and_steps_on_the_pages(client: Any) -> None:
    await web_login(client, "dwk_admin")
    today = local_date(utcnow(), "Asia/Shanghai").isoformat()
    wrong = await web_post(client, "/escalations/roster", "/escalations/roster", {"day": today, "staff": "cs_clerk"})
    assert wrong.status_code == 404 and "单位负责人" in wrong.text
    assert (await web_post(client, "/escalations/roster", "/escalations/roster",
                           {"day": today, "staff": "dwk_head"})).status_code == 303  # fmt: skip
    assert "大武口区人社局负责人（dwk_head）" in (await client.get("/escalations/roster")).text

    client.cookies.clear()
    await web_login(client, "dwk_desk")
    form = {"channel": "hotline", "name": "马建国", "phone": "13995112233", "id_number": "",
            "summary": "社保卡补办无结果", "recording_ref": ""}  # fmt: skip
    refused = await web_post(client, "/escalations/new", "/escalations", form)
    assert refused.status_code == 422 and "录音编号" in refused.text and "社保卡补办无结果" in refused.text
    made = await web_post(client, "/escalations/new", "/escalations", {**form, "recording_ref": "12345-0001"})
    assert made.status_code == 303, made.text
    detail_path = made.headers["location"].split("?")[0]
    page = await client.get(made.headers["location"])
    assert (
        "请打印转办单" in page.text and "马**" in page.text and "办理动作" not in page.text
    )  # the desk does not handle

    client.cookies.clear()
    await web_login(client, "dwk_head")
    page = await client.get(detail_path)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version, page.text[:500]
    classify = {"action": "classify", "version": version.group(1), "mode": "guidance"}
    assert (await web_post(client, detail_path, f"{detail_path}/steps", classify)).status_code == 303
    page = await client.get(detail_path)
    version = re.search(r'name="version" value="(\d+)"', page.text)
    assert version
    no_window = {"action": "hand_off", "version": version.group(1), "note": "已一次性告知所需材料"}
    refused = await web_post(client, detail_path, f"{detail_path}/steps", no_window)
    assert refused.status_code == 422 and "容缺" in refused.text
    handed = await web_post(client, detail_path, f"{detail_path}/steps", {**no_window, "window_unit": "640202001"})
    assert handed.status_code == 303
    assert "已解决，待销号" in (await client.get(detail_path)).text
    assert "办不成事" in (await client.get("/escalations")).text


async def test_a_clerk_refers_a_case_from_its_page(client: Any) -> None:
    head = await login(client, "dwk_admin")
    today = local_date(utcnow(), "Asia/Shanghai").isoformat()
    set_duty = await client.put(f"/api/v1/escalations/roster/640202/{today}", json={"staff": "dwk_head"}, headers=head)
    assert set_duty.status_code == 200
    await grant_unit(client, "HRSS-04", "640202001", "accept", "decide")
    case = await open_case(client, await login(client, "cs_clerk"), "HRSS-04", "640202001", RESIDENT, "马建国")
    await web_login(client, "cs_clerk")
    page = await client.get(f"/cases/{case['id']}")
    assert "这件事办不成" in page.text
    referred = await web_post(client, f"/cases/{case['id']}", "/escalations/referrals",
                              {"case_id": str(case["id"]), "summary": "政策适用有争议"})  # fmt: skip
    assert referred.status_code == 303 and referred.headers["location"].startswith(f"/cases/{case['id']}?referred=BBC")
    assert "已转办不成事反映窗口" in (await client.get(referred.headers["location"])).text
