"""共享应用管理 and 谁查询过我的信息 (issue 15, deliverables 1 and 7) through HTTP, as a browser without JavaScript: the
system administrator registers a partner department's application and is shown its secret once, rotates the key,
suspends and resumes it, grants and revokes a dataset and reads its calls; the resident sees on the progress page
which department used their data."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import csrf_token, in_session, issued_unemployment_case, signed, web_login, web_post

pytestmark = pytest.mark.anyio

TOWN = "640202001"
RESIDENT = "64020219850101123" + id_check_char("64020219850101123")
UNEMPLOYMENT = "/api/share/v1/employment/unemployment_registration"
BASIS = "石嘴山市民政局—人社局数据共享协议（2026）第 3 号"
CODE = "dwk-civil-affairs"
APP_PAGE = f"/share/apps/{CODE}"
APP = {"code": CODE, "name": "低保核对系统", "department": "大武口区民政局", "contact": "李科长 0952-1234567",
       "allowed_clients": "", "key_days": ""}  # fmt: skip
KEY_ID = re.compile(r'<code class="key-id" id="key-id">([^<]+)</code>')
SECRET = re.compile(r'<p class="secret" id="secret">([^<]+)</p>')
REVOKE = re.compile(rf'action="{APP_PAGE}/grants/(\d+)/revoke"')


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


async def as_user(client: Any, username: str) -> None:
    client.cookies.clear()
    await web_login(client, username)


def _issued(page: Any) -> tuple[str, str]:
    """The key id and the secret the page shows once."""
    assert page.status_code == 200, page.text[:2000]
    key_id, secret = KEY_ID.search(page.text), SECRET.search(page.text)
    assert key_id and secret, page.text[:2000]
    assert "只显示这一次" in page.text and page.headers["cache-control"] == "no-store"
    return key_id.group(1), secret.group(1)


def _today() -> str:
    return local_date(utcnow(), "Asia/Shanghai").isoformat()


def _grant(**changes: Any) -> dict[str, Any]:
    form = {"dataset": "employment/unemployment_registration", "purposes": ["dibao_eligibility"],
            "fields": ["registered", "since"], "region": "", "valid_from": _today(), "valid_until": "",
            "basis": BASIS}  # fmt: skip
    return {**form, **changes}


async def _registered(web: Any) -> tuple[str, str]:
    """The civil-affairs application registered through the page as the province's system administrator."""
    await as_user(web, "nx_admin")
    return _issued(await web_post(web, "/share/new", "/share", APP))


async def _granted(web: Any) -> None:
    added = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants", _grant())
    assert added.status_code == 303 and added.headers["location"] == f"{APP_PAGE}?done=granted", added.text[:2000]


async def test_the_system_admin_registers_an_app_and_sees_its_secret_once(web: Any, database_url: str) -> None:
    key_id, secret = await _registered(web)
    assert key_id.startswith("fq64-") and len(secret) >= 40
    listed = await web.get("/share")
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    assert f'href="{APP_PAGE}"' in listed.text and key_id in listed.text and "大武口区民政局" in listed.text
    assert "正常" in listed.text and "不限" in listed.text
    page = await web.get(APP_PAGE)
    assert page.status_code == 200 and key_id in page.text
    for shown in (listed, page, await web.get("/share/new")):
        assert secret not in shown.text  # shown once, on the answer to the form, never again

    taken = await web_post(web, "/share/new", "/share", {**APP, "name": "另一个系统"})
    assert taken.status_code == 409 and f"应用代码 {CODE} 已被使用" in taken.text and 'value="另一个系统"' in taken.text
    bad_code = await web_post(web, "/share/new", "/share", {**APP, "code": "X"})
    assert bad_code.status_code == 422 and "应用代码为 2–32 位小写字母" in bad_code.text
    odd_address = {**APP, "code": "far", "allowed_clients": "10.0.0.1\nnowhere"}
    bad_address = await web_post(web, "/share/new", "/share", odd_address)
    assert bad_address.status_code == 422 and "不是 IP 地址或网段" in bad_address.text
    bad_days = await web_post(web, "/share/new", "/share", {**APP, "code": "far", "key_days": "forever"})
    assert bad_days.status_code == 400 and "密钥有效期应为 1–3650 天的整数" in bad_days.text

    limited = await web_post(web, "/share/new", "/share", {
        **APP, "code": "far-away", "allowed_clients": "10.20.0.0/16\n192.168.1.7", "key_days": "30"})  # fmt: skip
    _issued(limited)
    assert "有效至" in limited.text
    assert "10.20.0.0/16、192.168.1.7/32" in (await web.get("/share")).text

    async def records(session: AsyncSession) -> list[AuditRecord]:
        return list(await session.scalars(select(AuditRecord).where(AuditRecord.action == "share.app_registered")))

    found = await in_session(database_url, records)
    assert {(r.actor, r.outcome) for r in found} >= {("nx_admin", "success"), ("nx_admin", "rejected")}
    assert not any(secret in json.dumps(r.detail, ensure_ascii=False) for r in found)


async def test_keys_state_grants_and_calls_are_managed_on_the_apps_page(web: Any) -> None:
    first = await _registered(web)
    rotated = await web_post(web, APP_PAGE, f"{APP_PAGE}/rotate", {"overlap_hours": "0", "key_days": ""})
    key = _issued(rotated)
    assert key != first and "已换发新密钥" in rotated.text
    page = (await web.get(APP_PAGE)).text
    assert first[0] in page and key[0] in page and "已失效" in page and key[1] not in page
    too_long = await web_post(web, APP_PAGE, f"{APP_PAGE}/rotate", {"overlap_hours": "99999"})
    assert too_long.status_code == 400 and "新旧密钥并行时间应为 0–2160 小时" in too_long.text

    no_reason = await web_post(web, APP_PAGE, f"{APP_PAGE}/suspend", {"reason": " "})
    assert no_reason.status_code == 422 and "请说明暂停的原因" in no_reason.text
    assert "本次没有作出任何修改" in no_reason.text
    suspended = await web_post(web, APP_PAGE, f"{APP_PAGE}/suspend", {"reason": "对方系统等保测评整改"})
    assert suspended.status_code == 303 and suspended.headers["location"] == f"{APP_PAGE}?done=suspended"
    page = (await web.get(suspended.headers["location"])).text
    assert "已暂停" in page and "恢复应用" in page
    answer = await web.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}))
    assert answer.status_code == 401  # a suspended application's keys do not sign
    resumed = await web_post(web, APP_PAGE, f"{APP_PAGE}/resume", {})
    assert resumed.status_code == 303 and "暂停应用" in (await web.get(APP_PAGE)).text

    wrong_purpose = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants", _grant(purposes=["supervision"]))
    assert wrong_purpose.status_code == 422 and "可授权的用途只有" in wrong_purpose.text
    assert 'value="石嘴山市民政局' in wrong_purpose.text  # the form as filled in
    no_basis = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants", _grant(basis=""))
    assert no_basis.status_code == 422 and "请填写授权依据" in no_basis.text
    nowhere = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants", _grant(region="640299"))
    assert nowhere.status_code == 404 and "单位 640299 不存在" in nowhere.text
    bad_day = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants", _grant(valid_from="tomorrow"))
    assert bad_day.status_code == 400 and "请填写生效日期" in bad_day.text
    unknown = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants", _grant(dataset="employment/wages"))
    assert unknown.status_code == 400 and "请选择列表中的数据集" in unknown.text
    cards = (await web.get(APP_PAGE, params={"dataset": "cards/social_security_card"})).text
    assert 'value="cards/social_security_card"' in cards and "卡状态" in cards and "登记失业日期" not in cards
    assert (await web.get(APP_PAGE, params={"dataset": "employment/wages"})).status_code == 400
    await _granted(web)
    page = (await web.get(f"{APP_PAGE}?done=granted")).text
    assert "已授权" in page and "失业登记核验" in page and "最低生活保障审核确认" in page and "生效中" in page
    (grant_id,) = REVOKE.findall(page)

    answer = await web.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}))
    assert answer.status_code == 200 and answer.json()["code"] == "00", answer.text
    other_purpose = signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}, purpose="court_enforcement:Z1")
    refused = await web.post(UNEMPLOYMENT, **other_purpose)
    assert refused.status_code == 403
    page = (await web.get(APP_PAGE)).text
    calls = page[page.index('id="calls-heading"') :]
    assert "MZ2026-0153" in calls and "mz_zhang" in calls and "00 成功" in calls and "31 未获授权" in calls
    assert "Z1" in calls and "失业登记核验" in calls and RESIDENT not in page

    unexplained = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants/{grant_id}/revoke", {"reason": ""})
    assert unexplained.status_code == 422 and "请说明撤销的原因" in unexplained.text
    revoked = await web_post(web, APP_PAGE, f"{APP_PAGE}/grants/{grant_id}/revoke", {"reason": "协议到期"})
    assert revoked.status_code == 303 and revoked.headers["location"] == f"{APP_PAGE}?done=revoked"
    page = (await web.get(APP_PAGE)).text
    assert "已撤销" in page and not REVOKE.findall(page)
    again = await web.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}))
    assert again.status_code == 403 and again.json()["code"] == "31"
    assert (await web_post(web, APP_PAGE, f"{APP_PAGE}/grants/999999/revoke", {"reason": "x"})).status_code == 404


async def test_only_the_system_admin_of_the_tenant_reaches_the_pages(web: Any) -> None:
    await _registered(web)
    assert 'href="/share"' in (await web.get("/")).text
    for username in ("cs_clerk", "nx_security", "nx_auditor"):
        await as_user(web, username)
        assert 'href="/share"' not in (await web.get("/")).text, username
        for path in ("/share", "/share/new", APP_PAGE):
            assert (await web.get(path)).status_code == 403, (username, path)
        posted = await web_post(web, "/", "/share", APP)
        assert posted.status_code == 403 and "没有权限" in posted.text, username
        assert (await web_post(web, "/", f"{APP_PAGE}/suspend", {"reason": "x"})).status_code == 403, username
    await as_user(web, "hn_admin")  # another tenant's system admin: the application is not theirs to see
    assert CODE not in (await web.get("/share")).text
    assert (await web.get(APP_PAGE)).status_code == 404
    assert (await web_post(web, "/share", f"{APP_PAGE}/suspend", {"reason": "x"})).status_code == 404
    assert (await web.get("/share/apps/" + "x" * 300)).status_code == 404


async def _progress(web: Any, case: dict[str, Any]) -> str:
    web.cookies.clear()
    token = await csrf_token(web, "/progress")
    form = {"receipt": case["receipt_no"], "code": case["query_code"], "_csrf_token": token}
    page = await web.post("/progress", data=form)
    assert page.status_code == 200, page.text[:2000]
    return str(page.text)


async def test_the_resident_sees_on_the_progress_page_who_used_their_data(web: Any, database_url: str) -> None:
    case = await issued_unemployment_case(web, database_url, RESIDENT)
    page = await _progress(web, case)
    assert "谁查询过我的信息" in page and "近 12 个月没有部门查询过您的信息" in page
    key = await _registered(web)
    await _granted(web)
    answer = await web.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}))
    assert answer.json()["code"] == "00", answer.text
    refused = signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}, purpose="court_enforcement:X")
    assert (await web.post(UNEMPLOYMENT, **refused)).status_code == 403  # refused: it used nothing
    page = await _progress(web, case)
    uses = page[page.index('id="uses-title"') : page.index('id="rate-title"')]
    assert uses.count("<li>") == 1 and "没有部门查询过" not in uses
    assert "大武口区民政局" in uses and "低保核对系统" in uses and "最低生活保障审核确认" in uses
    assert "失业登记核验" in uses and "mz***" in uses and "mz_zhang" not in uses


ODD = ["", " ", "-1", "0", "1e309", "99999999999999999999999", "0001-01-01", "9999-12-31", "2026-02-30", "x" * 5000,
       "🙂" * 300, "../../etc/passwd", "<script>alert(1)</script>"]  # fmt: skip
FORMS = {
    "/share": APP,
    f"{APP_PAGE}/rotate": {"overlap_hours": "168", "key_days": ""},
    f"{APP_PAGE}/suspend": {"reason": "整改"},
    f"{APP_PAGE}/grants": _grant(),
    f"{APP_PAGE}/grants/1/revoke": {"reason": "到期"},
}


async def test_odd_values_in_every_field_get_an_answer_not_a_crash(web: Any) -> None:
    """Each field of each form, with an application that exists: a page with the reason, never a 5xx."""
    await _registered(web)
    token = await csrf_token(web, APP_PAGE)
    for action, form in FORMS.items():
        for name in form:
            for value in ODD:
                answer = await web.post(action, data={**form, "code": "odd", name: value, "_csrf_token": token})
                assert answer.status_code < 500, (action, name, value[:40], answer.text[:1000])
        await web_post(web, APP_PAGE, f"{APP_PAGE}/resume", {})
