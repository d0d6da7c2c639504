"""事项维护 pages (issue 17), as a browser without JavaScript: the tenant admin edits an item and publishes a new
edition; a refused form says why in a clerk's words and keeps what was typed; the edition's page shows the diff;
a front-line clerk reads the catalogue but cannot edit it."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import login, web_login, web_post

pytestmark = pytest.mark.anyio


def _form(page: str) -> dict[str, str]:
    """The edit form's fields as a browser would send them (text inputs, checked boxes, selected options)."""
    import re
    from html import unescape

    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None or name.group(1) == "_csrf_token":
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) == "checkbox":
            if " checked" in tag:
                fields[name.group(1)] = "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.DOTALL):
        fields[name] = unescape(body)
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.DOTALL):
        chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        fields[name] = chosen.group(1) if chosen else ""
    return fields


async def test_the_tenant_admin_edits_an_item_from_its_page(client: Any) -> None:
    client.follow_redirects = False
    await web_login(client, "nx_admin")
    item = await client.get("/catalog/items/HRSS-04")
    assert item.status_code == 200 and "修改本事项" in item.text and "设定依据" in item.text
    edit = await client.get("/catalog/items/HRSS-04/edit")
    assert edit.status_code == 200
    form = _form(edit.text)
    assert form["name"] and form["m0_name"] and form["base_edition"]

    refused = await web_post(client, "/catalog/items/HRSS-04/edit", "/catalog/items/HRSS-04/edit",
                             {**form, "promised_days": "三", "note": "调整时限"})  # fmt: skip
    assert refused.status_code == 422 and "请填写整数" in refused.text and "调整时限" in refused.text
    fee = await web_post(client, "/catalog/items/HRSS-04/edit", "/catalog/items/HRSS-04/edit",
                         {**form, "fees": "工本费", "note": "调整收费"})  # fmt: skip
    assert fee.status_code == 422 and "名称｜金额｜依据" in fee.text

    changes = {"promised_days": "2", "conditions": "在本县（区）就业或登记失业\n持有居民身份证",
               "m9_name": "", "f5_name": "", "note": "压缩承诺时限，明确受理条件"}  # fmt: skip
    added_row = int(form["material_rows"]) - 1
    changes[f"m{added_row}_name"] = "近期免冠照片"
    done = await web_post(client, "/catalog/items/HRSS-04/edit", "/catalog/items/HRSS-04/edit", {**form, **changes})
    assert done.status_code == 303, done.text
    edition = await client.get(done.headers["location"])
    assert "已发布第" in edition.text and "承诺办结时限" in edition.text and "近期免冠照片" in edition.text
    assert "在本县（区）就业或登记失业" in edition.text

    api = (await client.get("/api/v1/items/HRSS-04", headers=await login(client, "cs_clerk"))).json()
    assert api["promised_days"] == 2 and api["materials"][-1]["name"] == "近期免冠照片"


async def test_a_clerk_reads_the_catalogue_but_cannot_edit_it(client: Any) -> None:
    client.follow_redirects = False
    await web_login(client, "cs_clerk")
    assert (await client.get("/catalog")).status_code == 200
    page = await client.get("/catalog/items/HRSS-04")
    assert page.status_code == 200 and "修改本事项" not in page.text
    assert (await client.get("/catalog/items/HRSS-04/edit")).status_code == 403
