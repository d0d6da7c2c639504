"""The issue's journeys in a real browser, each person in their own browser (cookies) on the demo:

- a grid specialist takes an ID-only case through the township's decision to issuance, and the public
  progress page shows it issued (and takes the resident's rating);
- a provincial admin grants a village an item, the village's agent then sees it, the admin revokes it
  (after the cascade preview) and it disappears;
- a supervisor sees an overdue case in red and opens it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.browser import DESKTOP, Snapper, log_in
from e2e.servers import DemoServer
from fuquan.integrations.simulators.population import build_population

OpenAs = Callable[[str | None], Page]
# 马莲梁村 (中宁县大战场镇): outside the demo's pilot counties, so nothing is granted to it yet
VILLAGE, VILLAGE_AGENT, VILLAGE_NAME = "640521105200", "mll_agent", "马莲梁村"
ID_ONLY_ITEM, ID_ONLY_NAME = "HRSS-06", "求职登记"  # grids accept it; the demo's townships decide it
GRANTED_ITEM, GRANTED_NAME = "HRSS-02", "失业登记"


@pytest.fixture
def open_as(browser: Browser, server: DemoServer, snap: Snapper) -> Iterator[OpenAs]:
    """A fresh browser per person (``None``: a resident, not logged in)."""
    contexts = []

    def opened(username: str | None) -> Page:
        context = browser.new_context(base_url=server.url, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      viewport=DESKTOP)  # fmt: skip
        context.set_default_timeout(20_000)
        contexts.append(context)
        page = context.new_page()
        snap.watch(page)
        if username:
            log_in(page, username)
        return page

    yield opened
    for context in contexts:
        context.close()


def _act(page: Page, case_url: str, button: str) -> None:
    """Press one of the case page's action buttons and land back on the case page with the confirmation."""
    page.goto(case_url)
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()
    expect(page.get_by_role("status")).to_be_visible()


def test_grid_specialist_id_only_case_to_issuance_and_public_progress(open_as: OpenAs, snap: Snapper) -> None:
    resident = build_population().example("ordinary")
    grid = open_as("jm_grid")
    grid.goto("/intake")
    expect(grid.get_by_text(ID_ONLY_NAME).first).to_be_visible()  # what I can accept here, with why
    grid.goto(f"/intake/new/{ID_ONLY_ITEM}")
    grid.get_by_label("身份证号码（18 位）").fill(resident.id_number)
    grid.get_by_label("姓名").fill(resident.name)
    snap(grid, "journey-intake-form")
    with grid.expect_navigation():
        grid.get_by_role("button", name="核验并建立办件").click()
    case_url = re.sub(r"^https?://[^/]+", "", grid.url).replace("/intake/", "/cases/")
    assert re.fullmatch(r"/cases/\d+", case_url), grid.url
    expect(grid.get_by_text("共享数据核验通过").first).to_be_visible()  # materials satisfied by shared data
    expect(grid.get_by_text("数据来源：公安（居民身份信息）")).to_be_visible()
    assert resident.id_number not in grid.content()  # masked
    snap(grid, "journey-intake-materials")
    with grid.expect_navigation():
        grid.get_by_role("button", name="提交办件").click()
    expect(grid.get_by_role("heading", name="收件回执")).to_be_visible()
    receipt_no = grid.locator(".receipt-code").first.inner_text().strip()
    query_code = grid.locator(".receipt-code").nth(1).inner_text().strip()
    expect(grid.locator("svg").first).to_be_visible()  # the QR code
    snap(grid, "journey-receipt")

    _act(grid, case_url, "受理")  # the grid's own front desk accepts; the decision goes to the township
    approver = open_as("cs_approver")
    approver.goto("/desk/back")
    expect(approver.get_by_role("link", name=receipt_no)).to_be_visible()
    _act(approver, case_url, "领办")
    _act(approver, case_url, "准予")
    expect(approver.get_by_text("受审分离").first).to_be_visible()  # who accepted, who decided
    snap(approver, "journey-case-approved")
    _act(grid, case_url, "出件")
    expect(grid.locator(".badge.status")).to_have_text("已出件")
    expect(grid.get_by_role("heading", name="全程留痕")).to_be_visible()
    snap(grid, "journey-case-issued")

    citizen = open_as(None)
    citizen.goto(f"/progress?receipt={receipt_no}")
    expect(citizen.get_by_label("受理编号")).to_have_value(receipt_no)
    citizen.get_by_label("查询码").fill(query_code)
    with citizen.expect_navigation():
        citizen.get_by_role("button", name="查询进度").click()
    expect(citizen.locator(".public-status")).to_contain_text("已出件")
    expect(citizen.get_by_role("heading", name=ID_ONLY_NAME)).to_be_visible()
    snap(citizen, "journey-progress-issued")
    citizen.get_by_label("满意", exact=True).check()
    with citizen.expect_navigation():
        citizen.get_by_role("button", name="提交评价").click()
    expect(citizen.get_by_role("heading", name="感谢您的评价")).to_be_visible()


def test_admin_grants_a_village_an_item_then_revokes_it(open_as: OpenAs, snap: Snapper) -> None:
    agent = open_as(VILLAGE_AGENT)
    agent.goto("/")
    expect(agent.get_by_text("本单位目前没有可受理的事项")).to_be_visible()

    admin = open_as("nx_admin")
    admin.goto(f"/authority/grants/new?unit={VILLAGE}&item={GRANTED_ITEM}&action=accept")
    expect(admin.get_by_label("赋权对象（下级单位的区划代码）")).to_have_value(VILLAGE)
    admin.get_by_label("赋权文件号（文号）").fill("宁人社发〔2026〕21号")
    with admin.expect_navigation():
        admin.get_by_role("button", name="确认赋权").click()
    assert re.search(r"/authority/grants/\d+$", admin.url), admin.url
    expect(admin.get_by_role("heading", level=1)).to_contain_text(GRANTED_NAME)
    snap(admin, "journey-grant-made")

    agent.goto("/")
    expect(agent.get_by_role("link", name=GRANTED_NAME)).to_be_visible()
    agent.goto("/intake")
    expect(agent.get_by_text(GRANTED_NAME).first).to_be_visible()

    grant_url = admin.url
    admin.goto(grant_url)
    expect(admin.get_by_text(VILLAGE_NAME).first).to_be_visible()  # the preview names who loses the item
    admin.get_by_label("撤销理由（必填）").fill("试点调整，收回马莲梁村失业登记受理权")
    snap(admin, "journey-revoke-preview")
    with admin.expect_navigation():
        admin.get_by_role("button", name=re.compile("^确认撤销")).click()
    expect(admin.get_by_text("已撤销").first).to_be_visible()

    agent.goto("/")
    expect(agent.get_by_role("link", name=GRANTED_NAME)).to_have_count(0)
    expect(agent.get_by_text("本单位目前没有可受理的事项")).to_be_visible()
    admin.goto(f"/authority/explain?unit={VILLAGE}&item={GRANTED_ITEM}&action=accept")
    expect(admin.get_by_text("不可以").first).to_be_visible()
    snap(admin, "journey-explain-revoked")


def test_supervisor_sees_an_overdue_case_in_red(open_as: OpenAs, snap: Snapper) -> None:
    supervisor = open_as("nx_supervisor")
    supervisor.goto("/supervision")
    red_list = supervisor.locator("table.warnings").first
    expect(supervisor.get_by_role("heading", name=re.compile("逾期办件（红牌）"))).to_be_visible()
    first_red = red_list.locator("tbody tr").first
    expect(first_red.locator(".signal-red")).to_have_text("逾期")
    link = first_red.locator("a[href^='/cases/']").first
    receipt_no = link.inner_text().strip()
    with supervisor.expect_navigation():
        link.click()
    expect(supervisor.get_by_text(receipt_no).first).to_be_visible()
    expect(supervisor.locator(".deadline .signal-red").first).to_be_visible()  # red on the case page too
    expect(supervisor.locator(".deadline")).to_contain_text("逾期")
    snap(supervisor, "journey-overdue-case")
