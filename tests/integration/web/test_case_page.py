"""The case page (办件详情): masked applicant and reveal with purpose, materials with evidence, the deadline
bar with its signal, the trace as a timeline, and scope (another county's or tenant's case is not found)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from test_desk import MASKED_ID, RESIDENT, TOWN, act_and_follow, api_step, browse_as, grant, submitted_case

from fuquan.integrations.simulators import default_credentials, running_simulators
from fuquan.platform.cases.models import Case
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from helpers import CSRF_FIELD, connect_partners, login

pytestmark = pytest.mark.anyio


async def _reveal(client: Any, case_id: int, purpose: str) -> Any:
    page = await client.get(f"/cases/{case_id}")
    token = CSRF_FIELD.search(page.text)
    assert token and f'action="/cases/{case_id}/reveal"' in page.text
    return await client.post(f"/cases/{case_id}/reveal", data={"purpose": purpose, "_csrf_token": token.group(1)},
                             follow_redirects=False)  # fmt: skip


async def _reveals(database_url: str) -> list[tuple[str | None, str | None, str | None]]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(AuditRecord.actor, AuditRecord.purpose, AuditRecord.resource)
            .where(AuditRecord.action == "applicant.reveal")
            .order_by(AuditRecord.id)
        )
        found = [tuple(row) for row in rows.tuples()]
    await engine.dispose()
    return found  # type: ignore[return-value]


async def test_applicant_is_masked_until_revealed_with_a_purpose(client: Any, database_url: str) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200
    assert "张*" in page.text and MASKED_ID in page.text and "138****1234" in page.text
    assert RESIDENT not in page.text and "张三" not in page.text and "13812341234" not in page.text

    missing = await _reveal(client, case["id"], "  ")
    assert missing.status_code == 422 and "请填写查看用途" in missing.text and RESIDENT not in missing.text
    assert await _reveals(database_url) == []  # no purpose, no reveal, no record

    shown = await _reveal(client, case["id"], "核对户籍信息")
    assert shown.status_code == 200  # the answer is the page itself: no address carries the identity
    assert RESIDENT in shown.text and "张三" in shown.text and "13812341234" in shown.text
    assert "已记入审计日志" in shown.text and shown.headers["cache-control"] == "no-store"
    assert await _reveals(database_url) == [("cs_clerk", "核对户籍信息", f"case:{case['id']}")]
    again = await client.get(f"/cases/{case['id']}")  # the next visit is masked again
    assert RESIDENT not in again.text and MASKED_ID in again.text

    await browse_as(client, "cs_admin")  # reads cases, may not reveal identities
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200 and f'action="/cases/{case["id"]}/reveal"' not in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    form = {"purpose": "抽查核对", "_csrf_token": token.group(1)}
    denied = await client.post(f"/cases/{case['id']}/reveal", data=form)
    assert denied.status_code == 403 and RESIDENT not in denied.text
    assert len(await _reveals(database_url)) == 1


async def test_materials_evidence_deadline_and_timeline(client: Any) -> None:
    case = await submitted_case(client)
    await browse_as(client, "cs_clerk")
    page = await client.get(f"/cases/{case['id']}")
    html = page.text
    # materials: each with its state in words and where it came from
    assert "居民身份证或社会保障卡" in html and "已提交（电子件）" in html and "公安" in html
    # evidence: what each partner source answered for this case (no partner configured in this test)
    evidence = html[html.index('id="evidence-heading"') : html.index('id="trace-heading"')]
    assert "公安（居民身份信息）" in evidence and "数据源未配置" in evidence
    assert "人社业务系统（失业登记信息）" in evidence
    assert re.search(r'<td data-label="查询时间">\d{4}-\d{2}-\d{2} \d{2}:\d{2}', evidence)  # when it was asked
    assert "未开始计时" in html and "承诺 5 个工作日内办结" in html

    page = await act_and_follow(client, case["id"], "accept")
    html = page.text
    assert 'class="badge signal-green">正常</span>' in html and "已用 0 个工作日，剩余 5 个工作日" in html
    assert '<progress class="signal-green" value="0" max="100" aria-label=' in html
    trace = html[html.index('id="trace-heading"') :]
    steps = [step for step in ("收件（新建办件）", "材料更新", "提交", "受理") if step in trace]
    assert steps == ["收件（新建办件）", "材料更新", "提交", "受理"]
    assert trace.index("收件（新建办件）") < trace.index("<strong>受理</strong>")
    assert "长胜街道综合窗口" in trace and "综合窗口受理人员" in trace and "长胜街道" in trace
    assert "已提交 → 已受理" in trace and "送 长胜街道" in trace and "承诺办结日" in trace
    assert "受理通知书" in html and f"/cases/{case['id']}/documents/receipt.pdf" in html


async def test_an_overdue_case_is_red_in_words_too(client: Any, database_url: str) -> None:
    case = await api_step(client, "cs_clerk", await submitted_case(client), "accept")
    engine = create_engine(database_url)  # accepted long ago: the promised 5 working days are long gone
    async with session_scope(session_factory(engine)) as session:
        await session.execute(update(Case).where(Case.id == case["id"]).values(accepted_on=date(2026, 3, 2)))
    await engine.dispose()
    await browse_as(client, "cs_approver")
    page = await client.get(f"/cases/{case['id']}")
    assert 'class="badge signal-red">逾期</span>' in page.text and "超出承诺时限" in page.text
    queue = await client.get("/desk/back")
    assert case["receipt_no"] in queue.text and "signal-red" in queue.text and "逾期" in queue.text


async def test_another_countys_or_tenants_staff_find_nothing(client: Any) -> None:
    case = await submitted_case(client)
    for outsider in ("dzc_clerk", "hn_admin"):  # 中宁县 in the same province; 海南 in another tenant
        await browse_as(client, outsider)
        for path in (f"/cases/{case['id']}", f"/cases/{case['id']}/documents/receipt.pdf"):
            hidden = await client.get(path)
            assert hidden.status_code == 404, (outsider, path)
            assert "<h1>未找到</h1>" in hidden.text and case["receipt_no"] not in hidden.text
        if outsider == "dzc_clerk":  # a clerk of another county: their queue does not list it either
            assert case["receipt_no"] not in (await client.get("/desk")).text
    assert (await client.get("/cases/999999")).status_code == 404
    client.cookies.clear()
    anonymous = await client.get(f"/cases/{case['id']}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=/cases/")


SECRET = "case-page-test-secret"


async def test_evidence_from_a_partner_that_answered(client: Any, database_url: str, settings: Settings) -> None:
    """With the public-security simulator answering, the page shows the source, the outcome, when the
    data came back and the SM3 of the answer kept as evidence."""
    with running_simulators(default_credentials(SECRET)) as simulators:
        await connect_partners(settings, simulators, SECRET, timeout_seconds=2.0)
        await grant(client, "HRSS-06", "accept", TOWN)
        person = simulators.population.example("ordinary")
        body = {"item": "HRSS-06", "unit": TOWN, "applicant": {"id_number": person.id_number, "name": person.name}}
        created = await client.post("/api/v1/cases", json=body, headers=await login(client, "cs_clerk"))
        assert created.status_code == 201, created.text
        case = created.json()
    assert case["materials"][0]["state"] == "satisfied_by_shared_data"
    await browse_as(client, "cs_clerk")
    html = (await client.get(f"/cases/{case['id']}")).text
    assert "共享数据核验通过" in html and "公安（居民身份信息）：核验通过，" in html
    evidence = html[html.index('id="evidence-heading"') : html.index('id="trace-heading"')]
    assert "核验通过" in evidence and "数据返回" in evidence and re.search(r"SM3 [0-9a-f]{16}…", evidence)
    assert person.id_number not in html and person.name not in html
    assert "即办件" in html  # HRSS-06 is decided on the spot: no working days promised


async def test_an_optional_material_not_given_is_no_warning(client: Any) -> None:
    """Issue 18, finding 6: a material that does not apply (optional, not given) is not a red 尚缺 — one wording on
    the case page, the intake page and the receipt."""
    from helpers import grant_unit, login, open_case, step, web_login
    from pdfs import flat_text

    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    case = await step(client, clerk, await open_case(client, clerk, "HRSS-04", TOWN, RESIDENT, "张三"),
                      "submit", "accept")  # fmt: skip
    optional = [m["name"] for m in case["materials"] if not m["required"] and m["state"] == "missing"]
    assert optional
    client.follow_redirects = False
    await web_login(client, "cs_clerk")
    for page in (f"/cases/{case['id']}", f"/intake/{case['id']}"):
        html = (await client.get(page)).text
        assert "未提供（非必需）" in html, page
        assert "material-missing" not in html and "state-missing" not in html, page
    receipt = flat_text((await client.get(f"/api/v1/cases/{case['id']}/documents/receipt.pdf", headers=clerk)).content)
    assert "未提供（非必需）" in receipt and "尚缺" not in receipt
