"""The citizens' pages: progress by 受理编号 and 查询码, and one rating (好差评) after issuance — through HTTP
as a browser without JavaScript would, with the cases made and issued through the API."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from sqlalchemy import select

from fuquan.platform.cases.models import Case
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.personal import id_check_char
from helpers import PASSWORD, csrf_token, enrol, login

pytestmark = pytest.mark.anyio

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
BODY = "64020219900101123"
RESIDENT = BODY + id_check_char(BODY)
ITEM, ITEM_NAME = "HRSS-04", "就业困难人员认定"
WRONG = "回执编号或查询码不正确"
NINGXIA = {"admin": "nx_admin", "unit": "640202001", "instrument": "宁人社发〔2026〕8号"}
HAINAN = {"admin": "hn_admin", "unit": "460105001", "instrument": "琼人社发〔2026〕8号"}


@pytest.fixture
def web(client: Any) -> Any:
    """The test client as a browser sees each answer: redirects are looked at, not followed."""
    client.follow_redirects = False
    return client


# -- cases through the API ------------------------------------------------------------------------------------------
async def _desk(client: Any, database_url: str, tenant: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A township that may accept and decide HRSS-04, and its clerk and approver (受审分离: two people)."""
    admin = await login(client, tenant["admin"])
    for action in ("accept", "decide"):
        body = {"item": ITEM, "action": action, "unit": tenant["unit"], "scope": "unit", "valid_from": "2026-01-01",
                "instrument": tenant["instrument"]}  # fmt: skip
        response = await client.post("/api/v1/grants", json=body, headers=admin)
        assert response.status_code == 201, response.text
    if tenant is NINGXIA:
        return await login(client, "cs_clerk"), await login(client, "cs_approver")
    code = tenant["unit"]
    await enrol(database_url, f"clerk_{code}", "46", code, ["window_clerk"])
    await enrol(database_url, f"approver_{code}", "46", code, ["approver"])
    return await login(client, f"clerk_{code}", PASSWORD), await login(client, f"approver_{code}", PASSWORD)


async def _step(client: Any, who: dict[str, str], case: dict[str, Any], action: str) -> dict[str, Any]:
    body = {"action": action, "version": case["version"]}
    response = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _accepted_case(client: Any, clerk: dict[str, str], unit: str) -> dict[str, Any]:
    body = {"item": ITEM, "unit": unit, "applicant": {"id_number": RESIDENT, "name": "张三", "phone": "13812341234"}}
    response = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    case = dict(response.json())
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            path = f"/api/v1/cases/{case['id']}/materials/{material['index']}"
            uploaded = await client.post(path, files={"file": ("photo.png", PNG, "image/png")}, headers=clerk)
            assert uploaded.status_code == 200, uploaded.text
            case = uploaded.json()
    return await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")


async def _issued_case(client: Any, database_url: str, tenant: dict[str, str] = NINGXIA) -> dict[str, Any]:
    clerk, approver = await _desk(client, database_url, tenant)
    case = await _accepted_case(client, clerk, tenant["unit"])
    case = await _step(client, approver, await _step(client, approver, case, "assign"), "approve")
    issued = await _step(client, clerk, case, "issue")
    assert issued["status"] == "issued"
    return issued


async def _public(client: Any, case: dict[str, Any]) -> dict[str, Any]:
    answer = await client.get(f"/api/v1/public/cases/{case['receipt_no']}", params={"code": case["query_code"]})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _stored_rating(database_url: str, case_id: int) -> tuple[int | None, str | None, bool]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        row = (await session.execute(select(Case).where(Case.id == case_id))).scalar_one()
        stored = (row.rating, row.rating_comment, row.needs_follow_up)
    await engine.dispose()
    return stored


# -- the browser ----------------------------------------------------------------------------------------------------
async def _look_up(web: Any, receipt: str, code: str) -> Any:
    token = await csrf_token(web, "/progress")
    return await web.post("/progress", data={"receipt": receipt, "code": code, "_csrf_token": token})


async def _rate(web: Any, case: dict[str, Any], level: str, comment: str = "") -> Any:
    """Rate from the result page's own form: its hidden fields and CSRF token, the citizen's choice."""
    page = await _look_up(web, case["receipt_no"], case["query_code"])
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'<input type="hidden" name="(receipt|code|_csrf_token)" value="([^"]*)"', page.text))
    assert set(hidden) == {"receipt", "code", "_csrf_token"}, page.text
    return await web.post("/progress/rating", data={**hidden, "level": level, "comment": comment})


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_lookup_shows_an_issued_case_with_its_public_timeline(web: Any, database_url: str) -> None:
    case = await _issued_case(web, database_url)
    receipt, code = case["receipt_no"], case["query_code"]

    form = await web.get("/progress", params={"receipt": receipt})
    assert form.status_code == 200 and form.headers["content-type"].startswith("text/html")
    assert f'value="{receipt}"' in form.text and 'name="code"' in form.text and "查询码" in form.text
    assert '<label for="receipt">' in form.text and '<label for="code">' in form.text and "二维码" in form.text

    page = await _look_up(web, f" {receipt.replace('-', '－')} ", code.lower())  # a phone's IME: full width, lower case
    assert page.status_code == 200, page.text
    assert "no-store" in page.headers["cache-control"]
    text = _text(page.text)
    facts = await _public(web, case)
    assert ITEM_NAME in text and receipt in text and f"当前状态： {facts['status_name']}" in text
    assert facts["unit"] in text and facts["applicant"] == "张*" and "张*" in text
    deadline = case["deadline"].split("-")
    assert f"{int(deadline[0])}年{int(deadline[1])}月{int(deadline[2])}日" in text
    steps = re.findall(r"<li><time datetime=\"(\d{4}-\d\d-\d\d)\">[^<]+</time> ([^<]+)</li>", page.text)
    labels = [label.strip() for _day, label in steps]
    assert labels == ["窗口登记申请", "提交申请", "正式受理", "开始审批", "审批通过", "出件（办理结果已出具）"]
    # steps and dates only: no staff, roles, ID number, full name, phone — the public API's facts and no more
    for private in ("张三", RESIDENT, RESIDENT[-4:], "1234", "综合窗口", "审批员", "cs_clerk", "window_clerk"):
        assert private not in text, private
    assert 'action="/progress/rating"' in page.text and "非常满意" in page.text and "非常不满意" in page.text
    assert code not in form.text  # the query code is never put into a page that did not receive it


async def test_wrong_pair_is_the_same_404_whether_or_not_the_receipt_exists(web: Any, database_url: str) -> None:
    clerk, _approver = await _desk(web, database_url, NINGXIA)
    case = await _accepted_case(web, clerk, NINGXIA["unit"])
    wrong_code = "ABCDEF" if case["query_code"] != "ABCDEF" else "ABCDEG"
    for receipt, code in (
        (case["receipt_no"], wrong_code),  # exists, wrong code
        (case["receipt_no"][:-1] + "9", case["query_code"]),  # does not exist, a real code
        ("640202001-19990101-0001", "ABCDEF"),
        ("XX", "ABCDEF"),  # no tenant with that code
    ):
        page = await _look_up(web, receipt, code)
        assert page.status_code == 404, (receipt, page.text)
        assert WRONG in page.text and 'role="alert"' in page.text and 'action="/progress"' in page.text
        assert "张*" not in page.text and ITEM_NAME not in page.text
    # the right pair still works
    assert (await _look_up(web, case["receipt_no"], case["query_code"])).status_code == 200


async def test_missing_fields_are_400_and_a_form_without_csrf_token_403(web: Any, database_url: str) -> None:
    case = await _issued_case(web, database_url)
    for data in ({"receipt": case["receipt_no"], "code": ""}, {"receipt": "", "code": case["query_code"]}, {}):
        page = await web.post("/progress", data={**data, "_csrf_token": await csrf_token(web, "/progress")})
        assert page.status_code == 400, (data, page.text)
        assert "请填写受理编号和查询码" in page.text and ITEM_NAME not in page.text

    no_token = await web.post("/progress", data={"receipt": case["receipt_no"], "code": case["query_code"]})
    assert no_token.status_code == 403 and "表单安全校验未通过" in no_token.text and ITEM_NAME not in no_token.text
    unrated = {"receipt": case["receipt_no"], "code": case["query_code"], "level": "5"}
    refused = await web.post("/progress/rating", data=unrated)
    assert refused.status_code == 403 and "表单安全校验未通过" in refused.text
    assert (await _public(web, case))["rated"] is False

    no_level = await _rate(web, case, "")
    assert no_level.status_code == 400 and "请选择您对这次办理服务的满意程度" in no_level.text
    for odd in ("0", "6", "five", "5.0"):
        assert (await _rate(web, case, odd)).status_code == 400, odd
    too_long = await _rate(web, case, "4", "慢" * 501)
    assert too_long.status_code == 400 and "最多 500 字" in too_long.text and "慢" * 501 in too_long.text  # kept
    assert await _stored_rating(database_url, case["id"]) == (None, None, False)


async def test_rating_after_issuance_once(web: Any, database_url: str) -> None:
    case = await _issued_case(web, database_url)
    thanks = await _rate(web, case, "2", "  排队时间太长  ")
    assert thanks.status_code == 200, thanks.text
    assert "感谢您的评价" in thanks.text and "不满意" in thanks.text and "回访" in thanks.text
    assert (await _public(web, case))["rated"] is True
    assert await _stored_rating(database_url, case["id"]) == (2, "排队时间太长", True)

    page = await _look_up(web, case["receipt_no"], case["query_code"])
    assert page.status_code == 200 and "已经评价过了" in page.text and 'action="/progress/rating"' not in page.text

    token = await csrf_token(web, "/progress")
    again = {"receipt": case["receipt_no"], "code": case["query_code"], "level": "5", "_csrf_token": token}
    second = await web.post("/progress/rating", data=again)
    assert second.status_code == 409 and "只能评价一次" in second.text and ITEM_NAME in second.text
    assert await _stored_rating(database_url, case["id"]) == (2, "排队时间太长", True)

    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        actions = list(await session.scalars(select(AuditRecord.actor).where(AuditRecord.action == "case.rate")))
    await engine.dispose()
    assert actions == ["public"]  # the API's rating code ran, audit record included — once


async def test_rating_before_issuance_is_refused(web: Any, database_url: str) -> None:
    clerk, _approver = await _desk(web, database_url, NINGXIA)
    case = await _accepted_case(web, clerk, NINGXIA["unit"])
    page = await _look_up(web, case["receipt_no"], case["query_code"])
    assert page.status_code == 200 and "已受理" in page.text and "正在办理中" in page.text
    assert 'action="/progress/rating"' not in page.text and "出件（办理结果出具）以后" in page.text

    token = await csrf_token(web, "/progress")
    form = {"receipt": case["receipt_no"], "code": case["query_code"], "level": "5", "_csrf_token": token}
    early = await web.post("/progress/rating", data=form)
    assert 400 <= early.status_code < 500 and "出件（办理结果出具）后才能评价" in early.text
    wrong = await web.post("/progress/rating", data={**form, "code": "WRONG2"})
    assert wrong.status_code == 404 and WRONG in wrong.text
    assert (await _public(web, case))["rated"] is False
    assert await _stored_rating(database_url, case["id"]) == (None, None, False)


async def test_a_hainan_case_too(web: Any, database_url: str) -> None:
    case = await _issued_case(web, database_url, HAINAN)
    assert case["receipt_no"].startswith(HAINAN["unit"])
    page = await _look_up(web, case["receipt_no"], case["query_code"])
    assert page.status_code == 200, page.text
    text = _text(page.text)
    assert ITEM_NAME in text and "已出件" in text and (await _public(web, case))["unit"] in text
    thanks = await _rate(web, case, "5", "")
    assert thanks.status_code == 200 and "非常满意" in thanks.text and "回访" not in thanks.text
    assert await _stored_rating(database_url, case["id"]) == (5, None, False)

    ningxia = await _issued_case(web, database_url)  # one tenant's code never opens the other's case
    crossed = await _look_up(web, case["receipt_no"], ningxia["query_code"])
    assert crossed.status_code == 404 and WRONG in crossed.text
