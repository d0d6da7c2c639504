"""机关与服务点 pages (issue 17, deliverable 1) as a browser without JavaScript: a unit's administrator names the organ
and opens and closes service points; a refused form shows why; a clerk only reads."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import web_login, web_post

pytestmark = pytest.mark.anyio

TOWN = "640202001"
PAGE = f"/units/{TOWN}"


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


async def test_an_administrator_keeps_the_organ_and_its_service_points(web: Any) -> None:
    await web_login(web, "cs_admin")
    mine = await web.get("/units")
    assert mine.status_code == 303 and mine.headers["location"] == PAGE
    page = await web.get(PAGE)
    assert page.status_code == 200 and "以“长胜街道办事处”的名义出具通知书" in page.text
    assert 'href="/units/640202001001"' in page.text  # the communities below

    named = await web_post(web, PAGE, f"{PAGE}/organ", {"organ_name": "大武口区长胜街道办事处", "organ_kind": ""})
    assert named.status_code == 303 and named.headers["location"] == f"{PAGE}?done=organ"
    assert "以“大武口区长胜街道办事处”的名义出具通知书" in (await web.get(PAGE)).text

    point = {"kind": "post", "name": "长胜邮政所（代办点）", "address": "大武口区长胜街道",
             "hours": "工作日 9:00-17:00", "phone": "", "latitude": "39.01", "longitude": ""}  # fmt: skip
    refused = await web_post(web, PAGE, f"{PAGE}/service-points", point)
    assert refused.status_code == 422 and "纬度和经度" in refused.text
    assert 'value="长胜邮政所（代办点）"' in refused.text  # what was typed is kept
    opened = await web_post(web, PAGE, f"{PAGE}/service-points", {**point, "longitude": "106.38"})
    assert opened.status_code == 303 and opened.headers["location"] == f"{PAGE}?done=opened"
    page = await web.get(f"{PAGE}?done=opened")
    assert "服务点已开设" in page.text and "邮政网点（代办）" in page.text
    close = page.text.split(f'action="{PAGE}/service-points/')[1].split('"')[0]
    closed = await web_post(web, PAGE, f"{PAGE}/service-points/{close}", {})
    assert closed.status_code == 303
    assert "已撤销：长胜邮政所（代办点）" in (await web.get(PAGE)).text


async def test_a_clerk_reads_the_unit_and_changes_nothing(web: Any) -> None:
    await web_login(web, "cs_clerk")
    page = await web.get(PAGE)
    assert page.status_code == 200 and "开设服务点" not in page.text and "修改机关名称" not in page.text
    assert (await web.get("/units/640202")).status_code == 404  # the county is outside the clerk's subtree
    refused = await web_post(web, PAGE, f"{PAGE}/organ", {"organ_name": "别的名字"})
    assert refused.status_code == 403
