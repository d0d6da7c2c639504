"""The intake pages (收件) as a grid specialist's phone browser without JavaScript uses them: what my
grid may accept and why, a new case through the forms with shared data from the partner simulators,
photos, pledges and deferrals, submission and the receipt with its QR code."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text as text_sql

from fuquan.integrations.simulators import (
    RunningSimulators,
    build_population,
    default_credentials,
    running_simulators,
)
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine
from fuquan.platform.core.personal import id_check_char
from helpers import PASSWORD, connect_partners, csrf_token, enrol, login, sample_form, web_login, web_post

pytestmark = pytest.mark.anyio

SECRET = "intake-web-test-secret"
COUNTY, TOWN, VILLAGE, GRID = "640202", "640202001", "640202001001", "640202001001001"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
BODY = "64020219900101123"
RESIDENT = BODY + id_check_char(BODY)
CASE_LOCATION = re.compile(r"^/intake/(\d+)$")


@pytest.fixture(scope="module")
def simulators() -> Iterator[RunningSimulators]:
    with running_simulators(default_credentials(SECRET)) as running:
        yield running


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


async def _connect(database_url: str, settings: Settings, simulators: RunningSimulators) -> None:
    """Tenant 64's partner adapters point at the simulators."""
    await connect_partners(settings, simulators, SECRET)


@pytest.fixture
async def connected(
    client: Any, database_url: str, settings: Settings, simulators: RunningSimulators
) -> AsyncIterator[RunningSimulators]:
    simulators.reset()
    await _connect(database_url, settings, simulators)
    yield simulators
    simulators.reset()


async def _grant_batch(client: Any, who: str, grants: list[dict[str, Any]]) -> None:
    response = await client.post("/api/v1/grants/batch", json={"grants": grants}, headers=await login(client, who))
    assert response.status_code == 201, response.text


def _grant(item: str, unit: str, scope: str, instrument: str, redelegable: bool) -> dict[str, Any]:
    return {"item": item, "action": "accept", "unit": unit, "scope": scope, "valid_from": "2026-01-01",
            "instrument": instrument, "redelegable": redelegable, "basis": "entrusted"}  # fmt: skip


async def _delegate_to_grid(client: Any, items: list[str]) -> None:
    """Province → 大武口区 (whole subtree) → 长胜街道 (whole subtree) → 骏马社区第1网格, each re-delegating."""
    await _grant_batch(client, "nx_admin", [_grant(i, COUNTY, "subtree", "宁人社发〔2026〕8号", True) for i in items])
    await _grant_batch(client, "dwk_admin", [_grant(i, TOWN, "subtree", "大人社发〔2026〕3号", True) for i in items])
    await _grant_batch(client, "cs_admin", [_grant(i, GRID, "unit", "长街发〔2026〕9号", False) for i in items])


async def _new_case(web: Any, item: str, fields: dict[str, str], key: str | None = None) -> Any:
    """Open the form, post it (with the form's own idempotency key unless given) and return the answer."""
    form = await web.get(f"/intake/new/{item}")
    assert form.status_code == 200, form.text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    found_key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert token and found_key
    data = {"_csrf_token": token.group(1), "idempotency_key": key or found_key.group(1), **fields}
    return await web.post(f"/intake/new/{item}", data=data)


async def _switch(web: Any, username: str, password: str | None = None) -> None:
    """Log out whoever is logged in, then log ``username`` in through the form."""
    if web.cookies.get("fuquan_session"):
        assert (await web_post(web, "/", "/logout", {})).status_code == 303
    await (web_login(web, username) if password is None else web_login(web, username, password))


def _case_id(response: Any) -> int:
    assert response.status_code == 303, response.text[:2000]
    found = CASE_LOCATION.match(response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


async def _form_post(web: Any, page: str, action: str, data: dict[str, str], **kwargs: Any) -> Any:
    token = await csrf_token(web, page)
    return await web.post(action, data={**data, "_csrf_token": token}, **kwargs)


def _version(page: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', page)
    assert found, page[:2000]
    return found.group(1)


async def _api_case(client: Any, who: str, case_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=await login(client, who))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_the_grid_sees_what_it_may_accept_and_why(web: Any) -> None:
    assert (await web.get("/intake")).status_code == 303  # anonymous: to the login page
    await _delegate_to_grid(web, ["HRSS-01", "HRSS-06"])
    await _switch(web, "jm_grid")
    page = await web.get("/intake")
    assert page.status_code == 200, page.text
    text = page.text
    assert "就业登记" in text and "求职登记" in text and "城乡居民基本养老保险参保登记" not in text
    assert text.count("只需身份证") == 2
    # the why: the grant that covers the grid, with instrument, scope, validity and who granted it
    assert (
        "长街发〔2026〕9号" in text
        and "仅本单位" in text
        and "长期有效" in text
        and "长胜街道（经办人 cs_admin）" in text
    )
    assert "第1网格" in text and "完整赋权链（3 级）" in text and "宁人社发〔2026〕8号" in text
    assert "我的待办" in text and "没有未提交的办件" in text
    chooser = await web.get("/intake/new")
    assert chooser.status_code == 200 and 'name="item"' in chooser.text and "求职登记" in chooser.text
    jump = await web.get("/intake/new", params={"item": "HRSS-06"})
    assert jump.status_code == 303 and jump.headers["location"] == "/intake/new/HRSS-06"
    assert (await web.get("/intake/new", params={"item": "HRSS-99"})).status_code == 404

    await _switch(web, "nx_supervisor")  # no 收件 post
    refused = await web.get("/intake")
    assert refused.status_code == 403 and "收件" in refused.text


async def test_an_id_only_case_through_the_forms_with_shared_data(web: Any, connected: RunningSimulators) -> None:
    await _delegate_to_grid(web, ["HRSS-06"])
    person = build_population().example("ordinary")
    await _switch(web, "jm_grid")
    before = connected.stats("public_security")["total"]
    case_id = _case_id(await _new_case(web, "HRSS-06", {"id_number": person.id_number, "name": person.name}))
    assert connected.stats("public_security")["total"] > before  # the partner was asked over HTTP

    page = await web.get(f"/intake/{case_id}")
    assert page.status_code == 200, page.text
    assert "共享数据核验通过" in page.text and "数据来源：公安（居民身份信息）" in page.text
    assert re.search(r"核验时间 \d{4}-\d{2}-\d{2} \d{2}:\d{2}", page.text)
    assert person.id_number not in page.text and person.name not in page.text  # masked
    assert "部分共享数据暂时无法取得" not in page.text and "disabled" not in page.text
    assert page.headers["cache-control"] == "no-store"

    done = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/submit", {"version": _version(page.text)})
    assert done.status_code == 303 and done.headers["location"] == f"/intake/{case_id}/receipt"
    case = await _api_case(web, "jm_grid", case_id)
    assert case["status"] == "submitted"

    receipt = await web.get(f"/intake/{case_id}/receipt")
    assert receipt.status_code == 200, receipt.text
    assert case["receipt_no"] in receipt.text and case["query_code"] in receipt.text and "求职登记" in receipt.text
    assert case["applicant"]["name"] in receipt.text and case["applicant"]["id_number"] in receipt.text
    assert "<svg" in receipt.text and 'role="img"' in receipt.text and "扫码查询办件进度" in receipt.text
    assert f"http://testserver.local/progress?receipt={case['receipt_no']}" in receipt.text
    assert "受理后可在此打印正式受理回执" in receipt.text  # the PDF receipt exists once the case is accepted
    assert f'href="/cases/{case_id}"' in receipt.text

    # a double tap on 提交 lands on the receipt again, and nothing moves twice
    again = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/submit", {"version": "1"})
    assert again.status_code == 303 and again.headers["location"] == f"/intake/{case_id}/receipt"
    assert (await _api_case(web, "jm_grid", case_id))["version"] == case["version"]
    listing = await web.get("/intake")
    assert case["receipt_no"] in listing.text and "最近提交" in listing.text

    # accepted at the grid's own front desk (decided at the village): the printable receipt is linked
    decide = {**_grant("HRSS-06", VILLAGE, "unit", "宁人社发〔2026〕8号", False), "action": "decide"}
    await _grant_batch(web, "nx_admin", [decide])
    body = {"action": "accept", "version": case["version"]}
    accepted = await web.post(f"/api/v1/cases/{case_id}/transitions", json=body, headers=await login(web, "jm_grid"))
    assert accepted.status_code == 200, accepted.text
    printable = await web.get(f"/intake/{case_id}/receipt")
    assert f'href="/cases/{case_id}/documents/receipt.pdf"' in printable.text and "已受理" in printable.text


async def test_partner_down_photo_upload_and_pledge(web: Any) -> None:
    """No partner configured: the page says so, submission is refused until a photo and a pledge stand in."""
    await _delegate_to_grid(web, ["HRSS-01"])
    await _switch(web, "jm_grid")
    fields = {"id_number": RESIDENT, "name": "张三", "phone": "13812341234", **sample_form("HRSS-01", web=True)}
    case_id = _case_id(await _new_case(web, "HRSS-01", fields))
    page = await web.get(f"/intake/{case_id}")
    assert "部分共享数据暂时无法取得" in page.text and "稍后重试" in page.text and "上传纸质材料照片" in page.text
    assert 'capture="environment"' in page.text and 'accept="image/*,application/pdf"' in page.text
    # htmx (an enhancement) swaps the page's main part and sends the form's own CSRF token as a header
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token and f'hx-headers=\'{{"X-CSRFToken": "{token.group(1)}"}}\'' in page.text
    assert 'hx-select="#main"' in page.text and 'method="post"' in page.text
    assert "还不能提交" in page.text and "disabled" in page.text
    assert "申请人签署告知承诺书" in page.text and "容缺受理：" not in page.text  # HRSS-01 allows a pledge only

    refused = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/submit", {"version": _version(page.text)})
    assert refused.status_code == 422 and "以下必需材料仍缺" in refused.text and "共享数据仍无法取得" in refused.text
    assert (await _api_case(web, "jm_grid", case_id))["status"] == "draft"

    not_a_photo = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/materials/1", {},
                                   files={"file": ("id.png", b"just some text", "image/png")})  # fmt: skip
    assert not_a_photo.status_code == 422 and "不是有效的图片或 PDF" in not_a_photo.text
    no_deferral = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/materials/2",
                                   {"choice": "defer", "defer_until": "2030-01-01"})  # fmt: skip
    assert no_deferral.status_code == 422 and "不适用容缺受理" in no_deferral.text

    uploaded = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/materials/1", {},
                                files={"file": ("id.png", PNG, "image/png")})  # fmt: skip
    assert uploaded.status_code == 303 and uploaded.headers["location"] == f"/intake/{case_id}"
    pledged = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/materials/2", {"choice": "pledge"})
    assert pledged.status_code == 303
    case = await _api_case(web, "jm_grid", case_id)
    assert [m["state"] for m in case["materials"][:2]] == ["uploaded", "pledged"]
    assert case["materials"][0]["file"]["content_type"] == "image/png"

    page = await web.get(f"/intake/{case_id}")
    assert "还不能提交" not in page.text and "已上传电子件" in page.text and "告知承诺" in page.text
    done = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/submit", {"version": _version(page.text)})
    assert done.status_code == 303 and done.headers["location"] == f"/intake/{case_id}/receipt"
    assert (await _api_case(web, "jm_grid", case_id))["status"] == "submitted"
    locked = await _form_post(web, f"/intake/{case_id}/receipt", f"/intake/{case_id}/materials/2", {"choice": "pledge"})
    assert locked.status_code == 303  # a submitted case still takes materials until it is accepted

    # sent back for supplement (补正): it is a task again, and the form resubmits it
    case = await _api_case(web, "jm_grid", case_id)
    body = {"action": "request_supplement", "version": case["version"], "reason": "劳动合同照片不清晰，请重新拍摄"}
    back = await web.post(f"/api/v1/cases/{case_id}/transitions", json=body, headers=await login(web, "jm_grid"))
    assert back.status_code == 200, back.text
    tasks = await web.get("/intake")
    supplements = tasks.text[tasks.text.index('id="supplements"') : tasks.text.index('id="recent"')]
    assert f'href="/intake/{case_id}"' in supplements and "待补正" in supplements
    page = await web.get(f"/intake/{case_id}")
    assert "补正后重新提交" in page.text
    again = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/submit", {"version": _version(page.text)})
    assert again.status_code == 303 and (await _api_case(web, "jm_grid", case_id))["status"] == "submitted"


async def test_deferral_at_the_township_desk(web: Any) -> None:
    await _grant_batch(web, "nx_admin", [_grant("HRSS-08", TOWN, "unit", "宁人社发〔2026〕8号", False)])
    await _switch(web, "cs_clerk")
    case_id = _case_id(
        await _new_case(web, "HRSS-08", {"id_number": RESIDENT, "name": "张三", **sample_form("HRSS-08", web=True)})
    )
    page = await web.get(f"/intake/{case_id}")
    found = re.search(r'id="defer-3" type="date" name="defer_until" min="([\d-]+)"\s+max="([\d-]+)"', page.text)
    assert found, page.text
    too_late = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/materials/3",
                                {"choice": "defer", "defer_until": "2099-01-01"})  # fmt: skip
    assert too_late.status_code == 422 and "容缺补交日期" in too_late.text
    deferred = await _form_post(web, f"/intake/{case_id}", f"/intake/{case_id}/materials/3",
                                {"choice": "defer", "defer_until": found.group(2)})  # fmt: skip
    assert deferred.status_code == 303
    material = (await _api_case(web, "cs_clerk", case_id))["materials"][2]
    assert material["state"] == "deferred" and material["defer_until"] == found.group(2)
    assert "容缺受理，承诺于" in (await web.get(f"/intake/{case_id}")).text


async def test_double_submit_of_the_form_opens_one_case(web: Any) -> None:
    await _delegate_to_grid(web, ["HRSS-06"])
    await _switch(web, "jm_grid")
    fields = {"id_number": RESIDENT, "name": "张三"}
    first = _case_id(await _new_case(web, "HRSS-06", fields, key="double-tap-key-0001"))
    second = _case_id(await _new_case(web, "HRSS-06", fields, key="double-tap-key-0001"))
    assert first == second
    cases = await web.get("/api/v1/cases", headers=await login(web, "jm_grid"))
    assert cases.json()["total"] == 1
    clash = await _new_case(web, "HRSS-06", {**fields, "name": "李四"}, key="double-tap-key-0001")
    assert clash.status_code == 422 and "Idempotency-Key" in clash.text
    assert 'value="double-tap-key-0001"' not in clash.text  # a fresh key for the corrected form


async def test_bad_id_number_re_renders_the_form(web: Any) -> None:
    await _delegate_to_grid(web, ["HRSS-06"])
    await _switch(web, "jm_grid")
    wrong = RESIDENT[:-1] + ("0" if RESIDENT[-1] != "0" else "1")
    bad = await _new_case(web, "HRSS-06", {"id_number": wrong, "name": "张三"})
    assert bad.status_code == 422 and "申请人：身份证号码校验位不正确" in bad.text
    assert 'role="alert"' in bad.text and 'value="张三"' in bad.text and 'name="id_number"' in bad.text
    short = await _new_case(web, "HRSS-06", {"id_number": "6402021990", "name": "张三"})
    assert short.status_code == 422 and "应为18位" in short.text
    nameless = await _new_case(web, "HRSS-06", {"id_number": RESIDENT, "name": "  "})
    assert nameless.status_code == 422 and "请填写申请人姓名" in nameless.text
    phone = await _new_case(web, "HRSS-06", {"id_number": RESIDENT, "name": "张三", "phone": "call me"})
    assert phone.status_code == 422 and "联系电话格式不正确" in phone.text
    assert (await web.get("/api/v1/cases", headers=await login(web, "jm_grid"))).json()["total"] == 0


async def test_an_item_not_granted_is_refused_with_the_reason(web: Any) -> None:
    await _delegate_to_grid(web, ["HRSS-06"])
    await _switch(web, "jm_grid")
    page = await web.get("/intake/new/HRSS-09")
    assert page.status_code == 403 and "没有任何赋权" in page.text and "城乡居民基本养老保险参保登记" in page.text
    token = await csrf_token(web, "/intake/new/HRSS-06")
    posted = await web.post("/intake/new/HRSS-09", data={"_csrf_token": token, "id_number": RESIDENT, "name": "张三"})
    assert posted.status_code == 403 and "没有任何赋权" in posted.text
    assert (await web.get("/intake/new/HRSS-99")).status_code == 404
    # the related person's fields appear only where the item asks about one
    await _grant_batch(web, "nx_admin", [_grant("HRSS-14", TOWN, "unit", "宁人社发〔2026〕8号", False)])
    await _switch(web, "cs_clerk")
    funeral = await web.get("/intake/new/HRSS-14")
    assert 'name="related_id_number"' in funeral.text and 'name="enterprise_credit_code"' not in funeral.text
    missing = await _new_case(web, "HRSS-14", {"id_number": RESIDENT, "name": "张三"})
    assert missing.status_code == 422 and "须填写关系人" in missing.text


async def test_another_units_case_reads_as_not_found(web: Any, database_url: str) -> None:
    await _delegate_to_grid(web, ["HRSS-06"])
    await _switch(web, "cs_clerk")  # the street holds HRSS-06 through its subtree grant
    street_case = _case_id(await _new_case(web, "HRSS-06", {"id_number": RESIDENT, "name": "张三"}))
    await _switch(web, "jm_grid")
    grid_case = _case_id(await _new_case(web, "HRSS-06", {"id_number": RESIDENT, "name": "张三"}))
    for path in (f"/intake/{street_case}", f"/intake/{street_case}/receipt"):
        response = await web.get(path)
        assert response.status_code == 404 and "未找到" in response.text, path
    token = await csrf_token(web, f"/intake/{grid_case}")
    upload = await web.post(f"/intake/{street_case}/materials/1", data={"_csrf_token": token},
                            files={"file": ("id.png", PNG, "image/png")})  # fmt: skip
    assert upload.status_code == 404
    submit = await web.post(f"/intake/{street_case}/submit", data={"_csrf_token": token, "version": "1"})
    assert submit.status_code == 404
    assert (await web.get("/intake/999999")).status_code == 404

    await _switch(web, "jm_agent")  # the village above the grid: not this desk's case either
    assert (await web.get(f"/intake/{grid_case}")).status_code == 404
    await enrol(database_url, "hn_clerk", "46", "46", ["window_clerk"])
    await _switch(web, "hn_clerk", PASSWORD)  # another tenant
    assert (await web.get(f"/intake/{grid_case}")).status_code == 404


async def test_the_form_shows_the_items_declared_fields_and_says_what_does_not_fit(web: Any, database_url: str) -> None:
    """申请表: the item's declared fields (labels, input types, required marks), not free key/value input; a
    form that does not fit is the API's 422 message in the page, with what was typed kept."""
    await _delegate_to_grid(web, ["HRSS-01"])
    await _switch(web, "jm_grid")
    page = await web.get("/intake/new/HRSS-01")
    text = page.text
    assert "<legend>申请表</legend>" in text and "用工单位名称" in text and 'name="form.employer"' in text
    assert re.search(r'<select id="form-employment_form" name="form.employment_form" required>', text)
    assert '<option value="自主创业">自主创业</option>' in text
    assert re.search(r'name="form.employed_on" value="" autocomplete="off" type="date" required>', text)
    assert text.count("（必填）") == 3 and "居住地址<small>（个人信息，加密保存）</small>" in text
    address = "宁夏石嘴山市大武口区长胜街道朝阳小区3号楼2单元501室"
    typed = {"id_number": RESIDENT, "name": "张三", "form.employment_form": "自主创业",
             "form.employed_on": "2026-11-02", "form.address": address}  # fmt: skip
    refused = await _new_case(web, "HRSS-01", typed)
    assert refused.status_code == 422 and "申请表“用工单位名称”为必填项" in refused.text
    assert (
        'id="form-employer" name="form.employer" value="" autocomplete="off" maxlength="128" required' in refused.text
    )
    assert 'aria-invalid="true" aria-describedby="form-error"' in refused.text
    assert '<option value="自主创业" selected>' in refused.text  # what was typed is kept
    created = await _new_case(web, "HRSS-01", {**typed, "form.employer": "石嘴山市恒达商贸有限公司"})
    case = await _api_case(web, "jm_grid", _case_id(created))
    assert case["form"] == {"employer": "石嘴山市恒达商贸有限公司", "employment_form": "自主创业",
                            "employed_on": "2026-11-02", "address": "宁夏石嘴山市" + "*" * 12}  # fmt: skip
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        rows = (await connection.execute(text_sql("SELECT form, form_masked, form_cipher FROM case_file"))).all()
    await engine.dispose()
    stored = repr([[json.loads(v) if isinstance(v, str) else v for v in row] for row in rows])  # SQLite: JSON text
    assert rows and "朝阳小区" not in stored and "石嘴山市恒达商贸有限公司" in stored
    assert "朝阳小区" not in (await web.get(f"/intake/{_case_id(created)}")).text
