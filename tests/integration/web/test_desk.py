"""The front desk (前台受理) and back office (后台审批) pages, as a browser without JavaScript uses them.

Cases are opened and submitted through the API (as the intake would); every step after that is a form
on the case page: GET the page, POST the form with its CSRF token and version, follow the 303.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest

from fuquan.platform.accounts.services import add_staff
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.personal import id_check_char
from helpers import CSRF_FIELD, login, web_login

pytestmark = pytest.mark.anyio

TOWN, COUNTY = "640202001", "640202"
BODY = "64020219900101123"
RESIDENT = BODY + id_check_char(BODY)
MASKED_ID = RESIDENT[:4] + "*" * 10 + RESIDENT[-4:]
VERSION = re.compile(r'name="version" value="(\d+)"')
ONE_STOP, ONE_STOP_PASSWORD = "cs_onestop", "one-stop-password"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def grant(client: Any, item: str, action: str, unit: str) -> None:
    admin = await login(client, "nx_admin")
    body = {"item": item, "action": action, "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
            "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
    response = await client.post("/api/v1/grants", json=body, headers=admin)
    assert response.status_code == 201, response.text


async def submitted_case(client: Any, item: str = "HRSS-04", *, decide_at: str = TOWN) -> dict[str, Any]:
    """A case at 长胜街道 (640202001) submitted by its window clerk: its required materials are pledged
    or, where the catalogue allows neither, uploaded — here through the API, as the intake pages would."""
    await grant(client, item, "accept", TOWN)
    await grant(client, item, "decide", decide_at)
    clerk = await login(client, "cs_clerk")
    body = {"item": item, "unit": TOWN, "applicant": {"id_number": RESIDENT, "name": "张三", "phone": "13812341234"}}
    created = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    case = created.json()
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            uploaded = await client.post(
                f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                files={"file": ("photo.png", PNG, "image/png")}, headers=clerk,
            )  # fmt: skip
            assert uploaded.status_code == 200, uploaded.text
            case = uploaded.json()
    return await api_step(client, "cs_clerk", case, "submit")


async def api_step(client: Any, username: str, case: dict[str, Any], action: str, reason: str | None = None,
                   password: str | None = None) -> dict[str, Any]:  # fmt: skip
    who = await login(client, username, password) if password else await login(client, username)
    body = {"action": action, "version": case["version"], **({"reason": reason} if reason else {})}
    response = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def api_case(client: Any, case_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=await login(client, "nx_admin"))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def browse_as(client: Any, username: str, password: str | None = None) -> None:
    """The browser now belongs to ``username`` (a fresh session, as after logging out)."""
    client.cookies.clear()
    await (web_login(client, username, password) if password else web_login(client, username))


async def act(client: Any, case_id: int, action: str, **fields: Any) -> Any:
    """Post one step from the case page's form (its CSRF token and version), redirects not followed."""
    page = await client.get(f"/cases/{case_id}", follow_redirects=False)
    assert page.status_code == 200, page.text[:500]
    token, version = CSRF_FIELD.search(page.text), VERSION.search(page.text)
    assert token and version, page.text[:1000]
    data = {"action": action, "version": version.group(1), **fields, "_csrf_token": token.group(1)}
    return await client.post(f"/cases/{case_id}/actions", data=data, follow_redirects=False)


async def act_and_follow(client: Any, case_id: int, action: str, **fields: Any) -> Any:
    done = await act(client, case_id, action, **fields)
    assert done.status_code == 303, done.text[:2000]
    assert done.headers["location"] == f"/cases/{case_id}?done={action}"
    page = await client.get(done.headers["location"])
    assert page.status_code == 200
    return page


async def one_stop_staff(database_url: str) -> None:
    """A township member who is both window clerk and approver (the separation-of-duties case)."""
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        await add_staff(session, username=ONE_STOP, tenant_code="64", unit_code=TOWN,
                        roles=["window_clerk", "approver"], password=ONE_STOP_PASSWORD)  # fmt: skip
    await engine.dispose()


def tab(label: str, count: int) -> str:
    """A queue's filter tab with its count, as the page shows it."""
    return f'{label} <span class="count">（{count} 件）</span>'


# ---- the queues ------------------------------------------------------------------------------


async def test_front_desk_queue_shows_a_submitted_case_masked(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    page = await client.get("/desk")
    assert page.status_code == 200
    html = page.text
    assert "<h1>前台受理</h1>" in html and "长胜街道" in html
    assert case["receipt_no"] in html and f'href="/cases/{case["id"]}"' in html and "就业困难人员认定" in html
    assert "张*" in html and MASKED_ID in html and RESIDENT not in html and "张三" not in html
    assert tab("待受理", 1) in html and tab("待出件", 0) in html
    assert "未开始计时" in html  # not accepted yet: the clock has not started, said in words
    assert re.search(r'<td data-label="提交时间">\d{4}-\d{2}-\d{2} \d{2}:\d{2}</td>', html)  # when it was submitted
    empty = await client.get("/desk", params={"status": "to_issue"})
    assert empty.status_code == 200 and case["receipt_no"] not in empty.text and "目前没有待出件的办件" in empty.text
    bad = await client.get("/desk", params={"status": "bogus"})
    assert bad.status_code == 400 and "没有这个筛选条件" in bad.text
    assert (await client.get("/desk", params={"page": "0"})).status_code == 400
    back = await client.get("/desk/back")  # not accepted yet: nothing routed for decision
    assert back.status_code == 200 and case["receipt_no"] not in back.text and "<h1>后台审批</h1>" in back.text


async def test_accept_decide_in_back_office_and_issue_with_printed_documents(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    page = await act_and_follow(client, case["id"], "accept")
    assert "已完成“受理”" in page.text and "已受理" in page.text
    assert "长胜街道综合窗口" in page.text  # 受理人, visible on the case page
    assert (await api_case(client, case["id"]))["status"] == "accepted"
    receipt = await client.get(f"/cases/{case['id']}/documents/receipt.pdf")
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/pdf"
    assert receipt.headers["content-disposition"].startswith("inline") and receipt.content.startswith(b"%PDF")
    assert len(receipt.content) > 1000
    assert (await client.get(f"/cases/{case['id']}/documents/result_notice.pdf")).status_code == 409  # not decided
    assert (await client.get(f"/cases/{case['id']}/documents/other.pdf")).status_code == 404

    await browse_as(client, "cs_approver")
    back = await client.get("/desk/back")
    assert case["receipt_no"] in back.text and tab("待领办", 1) in back.text
    await act_and_follow(client, case["id"], "assign")
    page = await act_and_follow(client, case["id"], "approve")
    assert "已完成“准予”" in page.text and "长胜街道审批员" in page.text
    assert (await api_case(client, case["id"]))["status"] == "approved"

    await browse_as(client, "cs_clerk")
    front = await client.get("/desk", params={"status": "to_issue"})
    assert case["receipt_no"] in front.text
    page = await act_and_follow(client, case["id"], "issue")
    assert "已出件" in page.text
    assert (await api_case(client, case["id"]))["status"] == "issued"
    notice = await client.get(f"/cases/{case['id']}/documents/result_notice.pdf")
    assert notice.status_code == 200 and notice.headers["content-type"] == "application/pdf"
    assert notice.content.startswith(b"%PDF")


async def test_refuse_needs_a_reason(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    refused = await act(client, case["id"], "refuse", reason="   ")
    assert refused.status_code == 422
    assert "不予受理需要填写理由" in refused.text and 'role="alert"' in refused.text
    assert "<h1>就业困难人员认定</h1>" in refused.text  # the case page again, not a bare error
    assert (await api_case(client, case["id"]))["status"] == "submitted"  # nothing written
    page = await act_and_follow(client, case["id"], "refuse", reason="申请人不属于本辖区常住人口")
    assert "申请人不属于本辖区常住人口" in page.text  # the reason in the trace
    assert (await api_case(client, case["id"]))["status"] == "refused"
    notice = await client.get(f"/cases/{case['id']}/documents/refusal_notice.pdf")
    assert notice.status_code == 200 and notice.headers["content-type"] == "application/pdf"
    assert notice.content.startswith(b"%PDF")


async def test_request_supplement_lists_the_materials(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    assert (await act(client, case["id"], "request_supplement")).status_code == 422  # neither reason nor list
    data = {"reason": "复印件不清晰", "materials": ["户口簿", "失业登记证明"]}
    page = await act_and_follow(client, case["id"], "request_supplement", **data)
    assert "待补正" in page.text and "复印件不清晰；请补正：户口簿、失业登记证明" in page.text
    assert (await api_case(client, case["id"]))["status"] == "awaiting_supplement"
    one = await act_and_follow(client, case["id"], "resubmit")
    assert "已完成“补正后重新提交”" in one.text
    # a single material alone (one form value, not a list) is a reason too
    page = await act_and_follow(client, case["id"], "request_supplement", materials="户口簿")
    assert "请补正：户口簿" in page.text
    notice = await client.get(f"/cases/{case['id']}/documents/supplement_notice.pdf")
    assert notice.status_code == 200 and notice.headers["content-type"] == "application/pdf"
    assert notice.content.startswith(b"%PDF") and len(notice.content) > 1000
    queue = await client.get("/desk", params={"status": "awaiting_supplement"})
    assert case["receipt_no"] in queue.text


async def test_back_office_suspends_resumes_and_denies(client: Any) -> None:
    case = await api_step(client, "cs_clerk", await submitted_case(client), "accept")
    await browse_as(client, "cs_approver")
    await act_and_follow(client, case["id"], "assign")
    assert (await act(client, case["id"], "suspend", procedure="现场核查", expected_days="abc",
                      reason="需入户核实")).status_code == 422  # fmt: skip
    empty = await act(client, case["id"], "suspend", procedure="现场核查", reason="")
    assert empty.status_code == 422 and "进入特别程序需要填写理由" in empty.text
    page = await act_and_follow(client, case["id"], "suspend", procedure="现场核查", expected_days="3",
                                reason="需入户核实家庭情况")  # fmt: skip
    assert "特别程序中" in page.text and "现场核查：需入户核实家庭情况（预计 3 个工作日）" in page.text
    assert "暂停计时" in page.text  # the deadline bar says the clock stopped
    suspended = await client.get("/desk/back", params={"status": "suspended"})
    assert case["receipt_no"] in suspended.text and tab("特别程序中", 1) in suspended.text
    page = await act_and_follow(client, case["id"], "resume")
    assert (await api_case(client, case["id"]))["status"] == "in_review"
    denied = await act(client, case["id"], "deny", reason="")
    assert denied.status_code == 422 and "不予许可需要填写理由" in denied.text
    page = await act_and_follow(client, case["id"], "deny", reason="不符合就业困难人员认定条件")
    assert "不予许可" in page.text and "不符合就业困难人员认定条件" in page.text
    assert (await api_case(client, case["id"]))["status"] == "denied"
    assert case["receipt_no"] in (await client.get("/desk/back", params={"status": "decided"})).text


async def test_county_decides_what_the_township_accepted(client: Any) -> None:
    """HRSS-07 is accepted at the street and decided at the county (decide_floor 3)."""
    case = await api_step(client, "cs_clerk", await submitted_case(client, "HRSS-07", decide_at=COUNTY), "accept")
    await browse_as(client, "cs_approver")
    assert case["receipt_no"] not in (await client.get("/desk/back")).text
    page = await client.get(f"/cases/{case['id']}")
    assert 'name="action" value="assign"' not in page.text and "大武口区" in page.text
    await browse_as(client, "dwk_approver")
    assert case["receipt_no"] in (await client.get("/desk/back")).text
    await act_and_follow(client, case["id"], "assign")
    await act_and_follow(client, case["id"], "approve")
    assert (await api_case(client, case["id"]))["status"] == "approved"
    page = await client.get(f"/cases/{case['id']}")
    assert 'name="action" value="issue"' not in page.text  # the result is issued at the street's window


async def test_the_acceptor_may_not_decide(client: Any, database_url: str) -> None:
    """受审分离: the page says who accepted; the acceptor's own approval is refused by the server's rule."""
    await one_stop_staff(database_url)
    case = await submitted_case(client)
    await browse_as(client, ONE_STOP, ONE_STOP_PASSWORD)
    await act_and_follow(client, case["id"], "accept")
    page = await client.get(f"/cases/{case['id']}")
    assert "您是本件的受理人，不能审批本件" in page.text and "即您本人" in page.text
    refused = await act(client, case["id"], "assign")
    assert refused.status_code == 403 and "受审分离：受理人不能审批自己受理的办件" in refused.text
    case = await api_step(client, "cs_approver", await api_case(client, case["id"]), "assign")
    refused = await act(client, case["id"], "approve")
    assert refused.status_code == 403 and "受审分离：受理人不能审批自己受理的办件" in refused.text
    assert (await api_case(client, case["id"]))["status"] == "in_review"
    await browse_as(client, "cs_approver")
    await act_and_follow(client, case["id"], "approve")
    assert (await api_case(client, case["id"]))["status"] == "approved"


async def test_a_stale_form_is_refused(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    page = await client.get(f"/cases/{case['id']}")
    token, version = CSRF_FIELD.search(page.text), VERSION.search(page.text)
    assert token and version
    await api_step(client, "cs_clerk", case, "accept")  # someone else moved the case meanwhile
    stale = {"action": "refuse", "version": version.group(1), "reason": "重复申请", "_csrf_token": token.group(1)}
    response = await client.post(f"/cases/{case['id']}/actions", data=stale, follow_redirects=False)
    assert response.status_code == 409 and "办件已被他人更新" in response.text
    assert (await api_case(client, case["id"]))["status"] == "accepted"
    malformed = {"action": "fly", "version": "1", "_csrf_token": token.group(1)}
    assert (await client.post(f"/cases/{case['id']}/actions", data=malformed)).status_code == 400


async def test_who_may_not_handle_cases(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_admin")  # the street's unit admin reads cases but does not handle them
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200 and 'name="action"' not in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    form = {"action": "accept", "version": str(case["version"]), "_csrf_token": token.group(1)}
    denied = await client.post(f"/cases/{case['id']}/actions", data=form)
    assert denied.status_code == 403 and "办理办件" in denied.text and "<h1>没有权限</h1>" in denied.text
    assert (await client.get("/desk")).status_code == 403
    assert (await api_case(client, case["id"]))["status"] == "submitted"
    await browse_as(client, "jm_grid")  # a grid specialist handles cases, but only in the grid's own subtree
    hidden = await client.get(f"/cases/{case['id']}")
    assert hidden.status_code == 404 and case["receipt_no"] not in hidden.text
    token = CSRF_FIELD.search((await client.get("/desk")).text)
    assert token
    posted = await client.post(f"/cases/{case['id']}/actions",
                               data={"action": "accept", "version": "2", "_csrf_token": token.group(1)})  # fmt: skip
    assert posted.status_code == 404 and (await api_case(client, case["id"]))["status"] == "submitted"
    client.cookies.clear()
    anonymous = await client.get("/desk", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/desk"


async def test_accept_is_not_offered_while_a_required_material_is_missing(client: Any) -> None:
    """The page says why a step the status allows cannot be taken yet, instead of a button that fails."""
    await grant(client, "HRSS-04", "accept", TOWN)
    await grant(client, "HRSS-04", "decide", TOWN)
    clerk = await login(client, "cs_clerk")
    body = {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": RESIDENT, "name": "张三"}}
    created = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert created.status_code == 201, created.text
    case = await api_step(client, "cs_clerk", created.json(), "submit")
    await browse_as(client, "cs_clerk")
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    assert "<strong>受理</strong>（前台（受理窗口））暂不能办理：以下必需材料仍缺：居民身份证或社会保障卡" in page.text
    assert 'name="action" value="accept"' not in page.text
    assert 'name="action" value="refuse"' in page.text
