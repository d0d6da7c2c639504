"""短信通知: the admin reads each template with an example, saves a new version, and a text that breaks the
platforms' rules comes back with the reason; staff without the permission get a 403 page."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import web_login, web_post

pytestmark = pytest.mark.anyio


async def test_an_admin_edits_a_template_on_the_page(client: Any) -> None:
    await web_login(client, "nx_admin")
    page = await client.get("/notifications/sms")
    assert page.status_code == 200 and "受理回执" in page.text and "【宁夏人社】您申请的" in page.text
    form = {
        "text": "您的${item}已受理，编号${no}。",
        "vendor_template": "SMS_300000001",
        "sign_name": "宁夏人社",
        "enabled": "on",
    }
    saved = await web_post(client, "/notifications/sms", "/notifications/sms/templates/case_accepted", form)
    assert saved.status_code == 303, saved.text
    after = await client.get("/notifications/sms?done=true")
    assert "第 1 版" in after.text and "【宁夏人社】您的就业困难人员认定已受理" in after.text
    broken = await web_post(client, "/notifications/sms", "/notifications/sms/templates/case_accepted",
                            {**form, "text": "您的证件号${id_number}"})  # fmt: skip
    assert broken.status_code == 422 and "不能使用 id_number" in broken.text
    assert "您的证件号${id_number}" in broken.text  # the clerk's text is kept to correct it
    bad_code = await web_post(client, "/notifications/sms", "/notifications/sms/templates/case_accepted",
                              {**form, "vendor_template": "随便写"})  # fmt: skip
    assert bad_code.status_code == 422 and "模板编号" in bad_code.text


async def test_a_clerk_cannot_open_the_sms_page(client: Any) -> None:
    await web_login(client, "cs_clerk")
    assert (await client.get("/notifications/sms")).status_code == 403
