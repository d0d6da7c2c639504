"""The web login (session + CSRF) and the landing page, through HTTP like a browser without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.setup.demo import DEMO_PASSWORD
from helpers import login, web_login

pytestmark = pytest.mark.anyio

TOWN = "640202001"
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


@pytest.fixture
def web(client: Any) -> Any:
    """The test client as a browser sees each answer: redirects are looked at, not followed."""
    client.follow_redirects = False
    return client


async def _csrf(client: Any, path: str = "/login") -> str:
    page = await client.get(path)
    assert page.status_code == 200, page.text
    found = CSRF_FIELD.search(page.text)
    assert found, page.text
    return found.group(1)


async def _web_login(client: Any, username: str, password: str = DEMO_PASSWORD, next_: str = "") -> Any:
    token = await _csrf(client)
    form = {"username": username, "password": password, "next": next_, "_csrf_token": token}
    return await client.post("/login", data=form)


async def _grant(client: Any, item: str, unit: str) -> None:
    admin = await login(client, "nx_admin")
    body = {"item": item, "action": "accept", "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
            "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
    response = await client.post("/api/v1/grants", json=body, headers=admin)
    assert response.status_code == 201, response.text


async def _item_name(client: Any, code: str) -> str:
    response = await client.get(f"/api/v1/items/{code}", headers=await login(client, "nx_admin"))
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


async def test_login_page_renders_in_chinese_with_a_csrf_field(web: Any) -> None:
    page = await web.get("/login")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text and 'name="viewport"' in page.text
    assert "/static/vendor/pico/pico.min.css" in page.text and "/static/vendor/htmx/htmx.min.js" in page.text
    assert CSRF_FIELD.search(page.text) and "工作人员登录" in page.text and 'id="main"' in page.text
    for asset in ("/static/vendor/pico/pico.min.css", "/static/vendor/htmx/htmx.min.js"):
        assert (await web.get(asset)).status_code == 200


async def test_a_form_post_without_csrf_token_is_refused(web: Any) -> None:
    await web.get("/login")  # the CSRF cookie is set, but the form carries no token
    refused = await web.post("/login", data={"username": "cs_clerk", "password": DEMO_PASSWORD})
    assert refused.status_code == 403
    assert "CSRF" in refused.text and "请返回、刷新页面后重新提交" in refused.text
    assert "fuquan_session" not in web.cookies
    logout = await web.post("/logout", data={})
    assert logout.status_code == 403


async def test_wrong_password_shows_an_error_and_starts_no_session(web: Any) -> None:
    response = await _web_login(web, "cs_clerk", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.text and 'value="cs_clerk"' in response.text
    assert not web.cookies.get("fuquan_session")
    assert (await web.get("/")).status_code == 303


async def test_anonymous_pages_redirect_to_login(web: Any) -> None:
    response = await web.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = await web.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text  # an off-site target is never followed


async def test_login_landing_and_logout(web: Any) -> None:
    await _grant(web, "HRSS-02", TOWN)
    granted, other = await _item_name(web, "HRSS-02"), await _item_name(web, "HRSS-04")
    token = await _csrf(web)
    web.cookies.set("fuquan_session", "planted-by-someone-else", domain="testserver.local")  # session fixation attempt
    form = {"username": "cs_clerk", "password": DEMO_PASSWORD, "_csrf_token": token}
    response = await web.post("/login", data=form)
    assert response.status_code == 303 and response.headers["location"] == "/", response.text
    first_session = web.cookies.get("fuquan_session")
    assert first_session and first_session != "planted-by-someone-else"
    assert "samesite=lax" in response.headers["set-cookie"].lower()
    assert "httponly" in response.headers["set-cookie"].lower()
    assert (await web.get("/login")).status_code == 303  # already logged in
    home = await web.get("/")
    assert home.status_code == 200, home.text
    assert "长胜街道综合窗口" in home.text and TOWN in home.text and "综合窗口受理人员" in home.text
    assert "我可以在本单位受理的事项" in home.text
    assert granted in home.text and other not in home.text
    assert 'action="/logout"' in home.text

    token = CSRF_FIELD.search(home.text)
    assert token
    out = await web.post("/logout", data={"_csrf_token": token.group(1)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert (await web.get("/")).status_code == 303
    # the old session cookie, replayed, no longer grants access
    web.cookies.set("fuquan_session", first_session, domain="testserver.local")
    assert (await web.get("/")).status_code == 303


async def test_login_follows_a_relative_next_only(web: Any) -> None:
    response = await _web_login(web, "cs_clerk", next_="https://evil.example/")
    assert response.status_code == 303 and response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("username", "department", "other"),
    [("nx_admin", "宁夏回族自治区人力资源和社会保障厅", "海南"), ("hn_admin", "海南省人力资源和社会保障厅", "宁夏")],
)
async def test_the_footer_names_the_persons_department(web: Any, username: str, department: str, other: str) -> None:
    anonymous = await web.get("/login")
    assert "<small>赋权与办件平台</small>" in anonymous.text  # before login: no tenant is known
    await web_login(web, username)  # an admin: password, then the code
    footer = (await web.get("/")).text.split('class="container site-footer"')[1]
    assert f"{department} · 赋权与办件平台" in footer and other not in footer


async def test_admin_landing_shows_no_case_items(web: Any) -> None:
    await web_login(web, "nx_admin")
    home = await web.get("/")
    assert home.status_code == 200 and "系统管理员" in home.text
    assert "我可以在本单位受理的事项" not in home.text


async def test_bearer_api_is_unaffected(web: Any) -> None:
    headers = await login(web, "cs_clerk")
    me = await web.get("/api/v1/auth/me", headers=headers)
    assert me.status_code == 200 and me.json()["username"] == "cs_clerk"
    assert "fuquan_session" not in me.headers.get("set-cookie", "")
    assert (await web.get("/api/v1/auth/me")).status_code == 401


async def test_web_logins_are_audited_and_make_the_guessing_client_wait(web: Any, database_url: str) -> None:
    for _ in range(5):
        assert (await _web_login(web, "jm_agent", "wrong-password")).status_code == 401
    locked = await _web_login(web, "jm_agent")
    assert locked.status_code == 429 and "其他设备不受影响" in locked.text
    assert (await _web_login(web, "cs_clerk")).status_code == 303
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rows = list(await session.execute(select(AuditRecord.actor, AuditRecord.outcome, AuditRecord.action)))
    await engine.dispose()
    logins = [(actor, outcome) for actor, outcome, action in rows if action == "auth.login"]
    assert logins.count(("jm_agent", "rejected")) == 6
    assert ("cs_clerk", "rejected") not in logins and len([a for a, _ in logins if a == "cs_clerk"]) == 1


async def test_web_login_rate_limited_per_client(settings: Settings) -> None:
    from fuquan.platform.app.factory import create_app

    app = create_app(msgspec.structs.replace(settings, login_attempts_per_minute=3))
    async with AsyncTestClient(app=app) as client:
        statuses = [(await _web_login(client, f"user{n}", "whatever-123")).status_code for n in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]


async def test_errors_on_pages_are_chinese_pages_and_on_the_api_problem_documents(web: Any) -> None:
    page = await web.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "没有找到这个页面" in page.text
    api = await web.get("/api/v1/no-such-endpoint")
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/problem+json")
    wrong_method = await web.delete("/login")
    assert wrong_method.status_code == 405 and "不支持这种操作" in wrong_method.text


async def test_a_throttled_login_form_gets_a_page_saying_to_wait(client: Any, settings: Settings) -> None:
    from fuquan.platform.app.factory import create_app

    narrow = msgspec.structs.replace(settings, login_attempts_per_minute=2)
    async with AsyncTestClient(app=create_app(narrow)) as browser:
        browser.follow_redirects = False
        statuses = []
        for _ in range(4):
            form = {"username": "cs_clerk", "password": "wrong", "_csrf_token": await _csrf(browser)}
            response = await browser.post("/login", data=form)
            statuses.append(response.status_code)
        assert statuses[-1] == 429, statuses
        assert response.headers["content-type"].startswith("text/html") and "操作过于频繁" in response.text
        assert "ratelimit-reset" in {key.lower() for key in response.headers}  # when to try again


async def test_a_page_session_ends_after_idling_and_lives_while_used(settings: Settings) -> None:
    """Idle timeout (DESIGN §10): a session left alone for FUQUAN_SESSION_IDLE_SECONDS needs a new login; one in
    use stays (each request renews it). The absolute limit is the login's own (FUQUAN_TOKEN_TTL_SECONDS)."""
    import anyio

    from fuquan.platform.app.factory import create_app

    async with AsyncTestClient(app=create_app(msgspec.structs.replace(settings, session_idle_seconds=2))) as browser:
        browser.follow_redirects = False
        assert (await _web_login(browser, "cs_clerk")).status_code == 303
        for _ in range(4):  # 3.2 s in all, in use every 0.8 s
            await anyio.sleep(0.8)
            assert (await browser.get("/")).status_code == 200
        await anyio.sleep(2.5)
        idle = await browser.get("/")
        assert idle.status_code == 303 and idle.headers["location"].startswith("/login")
