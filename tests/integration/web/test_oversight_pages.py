"""The supervision pages that act: a supervisor issues a 督办单 from a case page (a refused form keeps what was
typed), the unit's head replies on the page, the supervisor accepts; a 责任追究 record is opened with its grounds,
the person states their case and sees the decision; a follow-up is worked on its page; the performance page shows
the figures with its chart data and export links; a resident complains on the public result page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import grant_unit, login, open_case, step, web_login, web_post

pytestmark = pytest.mark.anyio

BODY = "64020219800303123"
RESIDENT = BODY + id_check_char(BODY)
TOWN = "640202001"


def _version(text: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', text)
    assert found, text[:500]
    return found.group(1)


async def _case(client: Any) -> dict[str, Any]:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    return await step(client, clerk, await open_case(client, clerk, "HRSS-04", TOWN, RESIDENT, "马建国"), "submit")


async def test_an_order_is_issued_replied_and_accepted_on_the_pages(client: Any) -> None:
    case = await _case(client)
    await web_login(client, "dwk_supervisor")
    case_page = await client.get(f"/cases/{case['id']}")
    assert "下发督办单" in case_page.text
    new = f"/supervision/orders/new?case_id={case['id']}"
    due = (local_date(utcnow(), "Asia/Shanghai") + timedelta(days=2)).isoformat()
    form = {"case_id": str(case["id"]), "escalation_id": "", "unit": "", "demand": "请说明未受理原因",
            "due_on": "2020-01-01"}  # fmt: skip
    refused = await web_post(client, new, "/supervision/orders", form)
    assert refused.status_code == 422 and "请说明未受理原因" in refused.text and "已经过去" in refused.text
    made = await web_post(client, new, "/supervision/orders", {**form, "due_on": due})
    assert made.status_code == 303, made.text
    detail = made.headers["location"].split("?")[0]
    assert "督办单已下发" in (await client.get(made.headers["location"])).text
    assert "请说明未受理原因" in (await client.get("/supervision/orders")).text

    client.cookies.clear()
    await web_login(client, "cs_head")
    page = await client.get(detail)
    assert "书面答复" in page.text and "审核答复" not in page.text
    replied = await web_post(client, detail, f"{detail}/reply", {"version": _version(page.text),
                                                                 "reply": "系统故障，已于当日受理"})  # fmt: skip
    assert replied.status_code == 303, replied.text

    client.cookies.clear()
    await web_login(client, "dwk_supervisor")
    page = await client.get(detail)
    assert "系统故障，已于当日受理" in page.text and "审核答复" in page.text
    returned = await web_post(
        client,
        detail,
        f"{detail}/review",
        {"version": _version(page.text), "outcome": "returned", "note": "", "due_on": ""},
    )
    assert returned.status_code == 422 and "退回须写明理由" in returned.text
    accepted = await web_post(
        client,
        detail,
        f"{detail}/review",
        {"version": _version(page.text), "outcome": "accepted", "note": "", "due_on": ""},
    )
    assert accepted.status_code == 303
    assert "已办结" in (await client.get(detail)).text


async def test_accountability_and_a_complaint_follow_up_on_the_pages(client: Any, database_url: str) -> None:
    case = await _case(client)
    await web_login(client, "dwk_supervisor")
    new = f"/supervision/accountability/new?case_id={case['id']}"
    form = {"staff": "cs_clerk", "reason": "受理超期", "case_ids": f"{case['id']}, x", "order_ids": "",
            "escalation_ids": ""}  # fmt: skip
    refused = await web_post(client, new, "/supervision/accountability", form)
    assert refused.status_code == 422 and "“x”不是有效的编号" in refused.text and "受理超期" in refused.text
    made = await web_post(client, new, "/supervision/accountability", {**form, "case_ids": str(case["id"])})
    assert made.status_code == 303, made.text
    detail = made.headers["location"].split("?")[0]

    client.cookies.clear()
    await web_login(client, "cs_clerk")
    assert "受理超期" in (await client.get("/supervision/accountability")).text  # the person sees their record
    page = await client.get(detail)
    stated = await web_post(client, detail, f"{detail}/statement", {"version": _version(page.text),
                                                                    "statement": "当日系统故障"})  # fmt: skip
    assert stated.status_code == 303

    client.cookies.clear()
    await web_login(client, "dwk_supervisor")
    page = await client.get(detail)
    assert "当日系统故障" in page.text
    decided = await web_post(
        client,
        detail,
        f"{detail}/decision",
        {"version": _version(page.text), "measure": "education", "decision": "批评教育"},
    )
    assert decided.status_code == 303 and "批评教育" in (await client.get(detail)).text

    # the resident complains on the public result page; the town's clerk calls back on the follow-up page
    from sqlalchemy import select

    from fuquan.platform.cases.models import Case
    from helpers import in_session

    async def code(session: Any) -> str:
        return str(await session.scalar(select(Case.query_code).where(Case.id == case["id"])))

    query_code = await in_session(database_url, code)
    client.cookies.clear()
    result = await web_post(client, "/progress", "/progress", {"receipt": case["receipt_no"], "code": query_code})
    assert "在这里投诉" in result.text
    short = await web_post(client, "/progress", "/progress/complaint",
                           {"receipt": case["receipt_no"], "code": query_code, "text": "慢"})  # fmt: skip
    assert short.status_code == 400 and "5 到 500 字" in short.text
    done = await web_post(client, "/progress", "/progress/complaint",
                          {"receipt": case["receipt_no"], "code": query_code, "text": "三天了还没有受理"})  # fmt: skip
    assert done.status_code == 200 and "投诉已收到" in done.text

    await web_login(client, "cs_clerk")
    listing = await client.get("/supervision/follow-ups")
    link = re.search(r'href="(/supervision/follow-ups/\d+)"', listing.text)
    assert link and "投诉" in listing.text
    page = await client.get(link.group(1))
    assert "回访情况" in page.text
    called = await web_post(
        client,
        link.group(1),
        f"{link.group(1)}/steps",
        {"action": "callback", "version": _version(page.text), "note": "已电话回访"},
    )
    assert called.status_code == 303 and "待整改" in (await client.get(link.group(1))).text


async def test_the_performance_page_shows_the_figures_and_the_chart_data(client: Any) -> None:
    case = await _case(client)
    clerk = await login(client, "cs_clerk")
    await step(client, clerk, case, "accept")
    await web_login(client, "dwk_supervisor")
    page = await client.get("/supervision/performance", params={"unit": "640202", "by": "staff"})
    assert page.status_code == 200, page.text
    assert "cs_clerk" in page.text and 'id="supervision-chart-data"' in page.text
    assert "/api/v1/supervision/performance/export?" in page.text and "format=csv" in page.text
    wrong = await client.get("/supervision/performance", params={"first": "昨天"})
    assert wrong.status_code == 422 and "不是有效日期" in wrong.text
    assert (await client.get("/supervision/performance", params={"unit": "640205"})).status_code == 404


async def test_the_rankings_page_previews_for_supervisors_and_lists_for_everyone(client: Any) -> None:
    await web_login(client, "dwk_supervisor")
    page = await client.get("/supervision/rankings")
    assert page.status_code == 200 and "评比预览" in page.text and "还没有发布过评比" in page.text
    wrong = await client.get("/supervision/rankings", params={"month": "2026-13"})
    assert wrong.status_code == 422 and "不是有效月份" in wrong.text
    early = await web_post(client, "/supervision/rankings", "/supervision/rankings",
                           {"month": f"{utcnow():%Y-%m}", "kind": "flag", "note": ""})  # fmt: skip
    assert early.status_code == 422 and "还没有结束" in early.text
    client.cookies.clear()
    await web_login(client, "cs_clerk")
    page = await client.get("/supervision/rankings")
    assert page.status_code == 200 and "评比预览" not in page.text
