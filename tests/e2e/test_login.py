"""Login, landing pages by role, logout and CSRF refusals, in a real browser against the served demo."""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Locator, Page, expect

from e2e.browser import Snapper, log_in, prove_code
from fuquan.platform.setup.demo import DEMO_PASSWORD


def _path(page: Page) -> str:
    return urlparse(page.url).path


def _shortcut(page: Page, text: str) -> Locator:
    """A landing-page shortcut: a link styled as a button (``<a role="button">``)."""
    return page.locator("main a[href]").get_by_text(text, exact=True)


def test_clerk_logs_in_sees_the_landing_page_and_logs_out(page: Page, snap: Snapper) -> None:
    page.goto("/")
    assert _path(page) == "/login"  # anonymous: sent to the login page
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")
    snap(page, "login")

    log_in(page, "cs_clerk")
    assert _path(page) == "/"
    expect(page.get_by_role("heading", level=1)).to_have_text("您好，长胜街道综合窗口")
    main = page.locator("main")
    expect(main).to_contain_text("640202001")  # the unit's code next to its name
    expect(main).to_contain_text("综合窗口受理人员")
    expect(page.get_by_role("navigation", name="站点")).to_contain_text("长胜街道综合窗口")
    expect(_shortcut(page, "前台受理队列")).to_be_visible()
    expect(_shortcut(page, "赋权矩阵")).to_have_count(0)  # not an admin
    snap(page, "home-cs_clerk")

    with page.expect_navigation():
        page.get_by_role("button", name="退出").click()
    assert _path(page) == "/login"
    page.goto("/")
    assert _path(page) == "/login"  # the session is gone


def test_a_wrong_password_shows_the_error_in_chinese(page: Page, snap: Snapper) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill("cs_clerk")
    page.get_by_label("密码").fill("not-the-password")
    with page.expect_response(lambda r: r.request.method == "POST" and _path_of(r.url) == "/login") as answer:
        page.get_by_role("button", name="登录").click()
    assert answer.value.status == 401
    page.wait_for_load_state()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(page.get_by_label("用户名")).to_have_value("cs_clerk")  # kept, the password is not
    expect(page.get_by_label("密码")).to_have_value("")
    snap(page, "login-error")
    page.goto("/")
    assert _path(page) == "/login"


def _path_of(url: str) -> str:
    return urlparse(url).path


def test_a_form_without_its_csrf_token_is_refused(page: Page, snap: Snapper) -> None:
    page.goto("/login")
    page.locator('input[name="_csrf_token"]').evaluate("field => field.remove()")
    page.get_by_label("用户名").fill("cs_clerk")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST" and _path_of(r.url) == "/login") as answer:
        page.get_by_role("button", name="登录").click()
    assert answer.value.status == 403
    page.wait_for_load_state()
    expect(page.get_by_role("heading", level=1)).to_have_text("无法提交表单")
    expect(page.get_by_role("alert")).to_contain_text("请返回、刷新页面后重新提交")
    snap(page, "csrf-refused")
    page.goto("/")
    assert _path(page) == "/login"  # the refused login started no session


def test_posts_without_a_valid_token_do_not_log_a_user_out(page: Page) -> None:
    log_in(page, "cs_clerk")
    request = page.context.request  # shares the browser's cookies: a forged cross-site form would carry them too
    assert request.post("/logout", form={}).status == 403
    forged = request.post("/logout", form={"_csrf_token": "forged"}, headers={"X-CSRFToken": "forged"})
    assert forged.status == 403
    page.goto("/")
    assert _path(page) == "/"  # still logged in
    expect(page.get_by_role("heading", level=1)).to_have_text("您好，长胜街道综合窗口")


@pytest.mark.parametrize(
    ("username", "greeting", "shortcut", "absent"),
    [
        ("nx_admin", "宁夏人社厅系统管理员", "赋权矩阵", "前台受理队列"),
        ("jm_grid", "骏马社区第1网格人社专员", "新建办件（收件）", "赋权矩阵"),
        ("nx_supervisor", "宁夏人社厅电子监察", "电子监察看板", "新建办件（收件）"),
    ],
    ids=["nx_admin", "jm_grid", "nx_supervisor"],
)
def test_the_landing_page_depends_on_the_role(
    page: Page, snap: Snapper, username: str, greeting: str, shortcut: str, absent: str
) -> None:
    log_in(page, username)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{greeting}")
    expect(_shortcut(page, shortcut)).to_be_visible()
    expect(_shortcut(page, absent)).to_have_count(0)
    if username == "jm_grid":  # a pilot grid: the demo grants let it accept items here
        acceptable = page.get_by_role("region", name="我可以在本单位受理的事项").get_by_role("listitem")
        assert acceptable.count() > 0
    snap(page, f"home-{username}")


def test_an_admin_binds_an_authenticator_on_first_login(page: Page, snap: Snapper) -> None:
    """The demo's admins are not bound: the first login shows the QR code (inline SVG, under the strict CSP) and
    the secret; a wrong code is refused in Chinese; the right one binds and shows the recovery codes once."""
    page.goto("/login")
    page.get_by_label("用户名").fill("dw_admin")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("绑定动态验证码")
    expect(page.locator("figure.qr svg")).to_be_visible()
    expect(page.locator("#factor-secret")).to_have_attribute("data-secret", re.compile(r"^[A-Z2-7]{32}$"))
    snap(page, "login-enrol")
    page.locator("#code").fill("000000")
    with page.expect_navigation():
        page.get_by_role("button", name="绑定并登录").click()
    expect(page.get_by_role("alert")).to_contain_text("验证码不正确")
    expect(page.locator("figure.qr svg")).to_be_visible()  # still there to scan
    shown: list[int] = []

    def recovery_codes(codes_page: Page) -> None:
        shown.append(codes_page.get_by_role("list", name="恢复码").get_by_role("listitem").count())
        snap(codes_page, "login-recovery-codes")

    assert prove_code(page, "dw_admin", recovery_codes)  # binds from the secret on this page
    assert shown == [10]
    assert _path(page) == "/"
    expect(page.get_by_role("heading", level=1)).to_have_text("您好，泾源县大湾乡管理员")


def test_an_unknown_page_is_a_chinese_404_page(page: Page, snap: Snapper) -> None:
    log_in(page, "cs_clerk")
    response = page.goto("/no-such-page")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    snap(page, "not-found")
