"""人员管理 and 审计查阅 pages through HTTP, as a browser without JavaScript: the security admin's staff pages, the
auditor's search and CSV download, and the navigation each role sees."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from helpers import co_signer, login, web_login, web_post

pytestmark = pytest.mark.anyio

STRONG = "quiet-harbor-maple-1987"
PERSON_PAGE = re.compile(r"^/staff/(\d+)\?done=created$")


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


async def as_user(client: Any, username: str) -> None:
    client.cookies.clear()
    await web_login(client, username)


async def test_each_role_sees_only_its_own_admin_pages(web: Any) -> None:
    for username, staff, audit in (
        ("dwk_security", True, False),
        ("cs_admin", True, False),
        ("nx_auditor", False, True),
        ("nx_admin", False, False),
        ("cs_clerk", False, False),
    ):
        await as_user(web, username)
        home = await web.get("/")
        assert home.status_code == 200
        assert ('href="/staff"' in home.text) is staff, username
        assert ('href="/audit"' in home.text) is audit, username
        assert (await web.get("/staff")).status_code == (200 if staff else 403), username
        assert (await web.get("/audit")).status_code == (200 if audit else 403), username
        assert (await web.get("/audit/records.csv")).status_code == (200 if audit else 403), username


async def test_the_county_security_admin_enrols_and_manages_a_clerk(web: Any) -> None:
    await as_user(web, "dwk_security")
    listed = await web.get("/staff", params={"unit": "640202001", "role": "window_clerk"})
    assert listed.status_code == 200 and "cs_clerk" in listed.text and "nx_admin" not in listed.text
    form = {"username": "cs_clerk_web", "display_name": "长胜窗口", "unit": "640202001", "role": "window_clerk"}
    weak = await web_post(web, "/staff/new", "/staff", {**form, "password": "1234567890"})
    assert weak.status_code == 422 and "太容易被猜到" in weak.text and 'value="cs_clerk_web"' in weak.text
    missing = await web_post(web, "/staff/new", "/staff", {**form, "username": "x", "password": STRONG})
    assert missing.status_code == 400 and "用户名为 2–64 位" in missing.text
    elsewhere = await web_post(web, "/staff/new", "/staff", {**form, "unit": "640205001", "password": STRONG})
    assert elsewhere.status_code == 404
    admin_role = await web_post(web, "/staff/new", "/staff", {**form, "role": "auditor", "password": STRONG})
    assert admin_role.status_code == 403 and "现场复核" in admin_role.text  # 双人复核: not alone
    signer = await co_signer("nx_security")
    signed = {"co_signer_username": signer["username"], "co_signer_code": signer["code"]}
    admin_role = await web_post(web, "/staff/new", "/staff", {**form, "role": "auditor", "password": STRONG, **signed})
    assert admin_role.status_code == 303  # the security admin gives admin roles too, with a second one present
    made = await web_post(web, "/staff/new", "/staff", {**form, "username": "cs_clerk_web2", "password": STRONG})
    assert made.status_code == 303, made.text[:2000]
    found = PERSON_PAGE.match(made.headers["location"])
    assert found, made.headers["location"]
    page = f"/staff/{found.group(1)}"
    shown = await web.get(made.headers["location"])
    assert shown.status_code == 200 and "已新增人员账号" in shown.text and "长胜窗口" in shown.text

    clerk = await login(web, "cs_clerk_web2", STRONG)
    disabled = await web_post(web, page, f"{page}/disable", {})
    assert disabled.status_code == 303 and disabled.headers["location"] == f"{page}?done=disabled"
    assert (await web.get("/api/v1/auth/me", headers=clerk)).status_code == 401
    assert "已停用" in (await web.get(page)).text
    assert (await web_post(web, page, f"{page}/enable", {})).status_code == 303
    given = await web_post(web, page, f"{page}/roles", {"role": "approver"})
    assert given.status_code == 303
    assert "审批人员" in (await web.get(page)).text
    assert (await web_post(web, page, f"{page}/roles/remove", {"role": "approver"})).status_code == 303
    weak = await web_post(web, page, f"{page}/password", {"password": "aaaaaaaaaa"})
    assert weak.status_code == 422 and "太容易被猜到" in weak.text
    assert (await web_post(web, page, f"{page}/password", {"password": "plum-river-lantern-42"})).status_code == 303
    assert (await web_post(web, page, f"{page}/unlock", {})).status_code == 303
    assert (await web_post(web, page, f"{page}/roles", {"role": "king"})).status_code == 400


async def test_refusals_show_on_the_persons_page(web: Any) -> None:
    await as_user(web, "nx_security")
    signer = await co_signer()
    form = {"username": "nx_auditor_web", "display_name": "审计二", "unit": "64", "role": "auditor",
            "password": STRONG, "co_signer_username": signer["username"], "co_signer_code": signer["code"]}  # fmt: skip
    made = await web_post(web, "/staff/new", "/staff", form)
    page = made.headers["location"].split("?")[0]
    conflict = await web_post(web, page, f"{page}/roles", {"role": "window_clerk"})
    assert conflict.status_code == 422 and "三员分立" in conflict.text and "本次没有作出任何修改" in conflict.text
    person = (await web.get(page)).text
    assert "重置动态验证码" in person and "双人复核" in person  # an auditor signs in with a second factor

    await as_user(web, "dwk_security")
    assert (await web.get(page)).status_code == 404  # the province's auditor is outside the county
    assert (await web_post(web, "/staff", f"{page}/disable", {})).status_code == 404
    own = next(iter(re.findall(r'href="(/staff/\d+)">大武口区人社局安全保密管理员', (await web.get("/staff")).text)))
    own_page = await web.get(own)
    assert "这是您自己的账号" in own_page.text and "/disable" not in own_page.text
    refused = await web_post(web, own, f"{own}/disable", {})
    assert refused.status_code == 403 and "不能管理自己的账号" in refused.text


async def test_the_auditor_searches_and_downloads_the_records(web: Any) -> None:
    await as_user(web, "nx_auditor")
    found = await web.get("/audit", params={"action": "auth.login", "outcome": "success"})
    assert found.status_code == 200 and "<code>auth.login</code>" in found.text and "nx_auditor" in found.text
    assert "/audit/records.csv?action=auth.login&amp;outcome=success" in found.text
    bad = await web.get("/audit", params={"since": "yesterday", "unit": "64x", "outcome": "maybe"})
    assert bad.status_code == 400 and "时间格式不对" in bad.text and "区划代码应为" in bad.text
    assert (await web.get("/audit", params={"unit": "4601"})).status_code == 404
    download = await web.get("/audit/records.csv", params={"action": "audit"})
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text.removeprefix("\ufeff"))))
    assert rows[0][0] == "记录编号" and {row[6] for row in rows[1:]} == {"audit.search", "audit.export"}  # its own too
    assert {row[3] for row in rows[1:]} == {"nx_auditor"}
    assert (await web.get("/audit/records.csv", params={"since": "later"})).status_code == 400
    # the page's search and download were audited like the API's
    headers = await login(web, "nx_auditor")
    exports = (await web.get("/api/v1/audit/records", params={"action": "audit.export"}, headers=headers)).json()
    assert [r["detail"] for r in exports] == [{"action": "audit"}]
