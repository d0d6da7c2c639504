"""办不成事: the duty roster, registration from each channel and from a case, the three handling modes, the 1/3/5
tiers (the job raises an unresolved one once), 首问负责, 销号 only with the outcome and the resident's confirmation
or a reason, the trace, the resident's progress lookup, and another tenant's escalation reading as not found."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.escalations.services.tiers import TierJob
from fuquan.platform.migrations.keys import key_ring
from fuquan.platform.notifications.models import SmsMessage
from helpers import PASSWORD, enrol, grant_unit, in_session, login, open_case
from pdfs import flat_text, page_count

pytestmark = pytest.mark.anyio

DESK = "640202"
API = "/api/v1/escalations"
BODY = "64020219700101123"
RESIDENT = BODY + id_check_char(BODY)


async def _on_duty(client: Any, who: str = "dwk_head", unit: str = DESK) -> None:
    admin = await login(client, "dwk_admin")
    today = local_date(utcnow(), "Asia/Shanghai")
    answer = await client.put(f"{API}/roster/{unit}/{today}", json={"staff": who}, headers=admin)
    assert answer.status_code == 200, answer.text


async def _register(client: Any, **extra: Any) -> dict[str, Any]:
    desk = await login(client, "dwk_desk")
    body = {"channel": "in_person", "resident": {"name": "马建国", "phone": "13995112233", "id_number": RESIDENT},
            "summary": "在街道窗口办理失业登记三次未办成，每次要求补交不同材料", **extra}  # fmt: skip
    answer = await client.post(API, json=body, headers=desk)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def _step(client: Any, who: dict[str, str], escalation: dict[str, Any], action: str, status: int = 200,
                **fields: Any) -> dict[str, Any]:  # fmt: skip
    body = {"action": action, "version": escalation["version"], **fields}
    answer = await client.post(f"{API}/{escalation['id']}/steps", json=body, headers=who)
    assert answer.status_code == status, answer.text
    return dict(answer.json()) if status == 200 else escalation


async def test_the_roster_names_a_leader_of_the_desk_unit(client: Any) -> None:
    admin, clerk = await login(client, "dwk_admin"), await login(client, "cs_clerk")
    today = local_date(utcnow(), "Asia/Shanghai")
    assert (
        await client.put(f"{API}/roster/{DESK}/{today}", json={"staff": "dwk_head"}, headers=clerk)
    ).status_code == 403
    not_a_leader = await client.put(f"{API}/roster/{DESK}/{today}", json={"staff": "dwk_approver"}, headers=admin)
    assert not_a_leader.status_code == 404, not_a_leader.text
    town = await client.put(f"{API}/roster/640202001/{today}", json={"staff": "cs_head"}, headers=admin)
    assert town.status_code == 422 and town.json()["rule"] == "escalation_desk"
    set_ = await client.put(f"{API}/roster/{DESK}/{today}", json={"staff": "dwk_head"}, headers=admin)
    assert set_.status_code == 200 and set_.json()["staff"] == "dwk_head"
    roster = await client.get(f"{API}/roster/{DESK}", headers=await login(client, "dwk_desk"))
    assert [day["staff"] for day in roster.json()] == ["dwk_head"]


async def test_registration_needs_a_duty_leader_and_a_hotline_recording(client: Any, settings: Settings) -> None:
    desk = await login(client, "dwk_desk")
    body = {"channel": "hotline", "resident": {"name": "马建国"}, "summary": "社保卡补办一直没有结果"}
    no_leader = await client.post(API, json={**body, "recording_ref": "12345-0001"}, headers=desk)
    assert no_leader.status_code == 422 and no_leader.json()["rule"] == "no_duty_leader", no_leader.text
    await _on_duty(client)
    no_recording = await client.post(API, json=body, headers=desk)
    assert no_recording.status_code == 422 and no_recording.json()["rule"] == "recording_ref"
    made = await client.post(API, json={**body, "recording_ref": "12345-0001"}, headers=desk)
    assert made.status_code == 201, made.text
    escalation = made.json()
    today = local_date(utcnow(), "Asia/Shanghai")
    assert escalation["reg_no"] == f"BBC{DESK}-{today:%Y%m%d}-0001" and escalation["query_code"]
    assert (
        escalation["owner"] == "大武口区人社局负责人"
        and escalation["tier"] == 1
        and escalation["status"] == "registered"
    )
    head = await login(client, "dwk_head")
    inbox = (await client.get("/api/v1/inbox", headers=head)).json()
    assert inbox["items"][0]["title"] == f"新的办不成事反映 {escalation['reg_no']}"
    clerk = await login(client, "cs_clerk")
    assert (await client.post(API, json=body, headers=clerk)).status_code == 403


async def test_a_window_failure_is_answered_by_the_units_head_and_closed_with_confirmation(
    client: Any, database_url: str
) -> None:
    await _on_duty(client)
    escalation = await _register(client)
    owner, town_head = await login(client, "dwk_head"), await login(client, "cs_head")
    await enrol(database_url, "dwk_deputy", "64", DESK, ["unit_head"])
    deputy = await login(client, "dwk_deputy", PASSWORD)
    await _step(client, deputy, escalation, "classify", 403, mode="guidance")  # 首问负责: only the owner
    await _step(client, town_head, escalation, "classify", 404, mode="guidance")  # not the town's, yet
    escalation = await _step(client, owner, escalation, "classify", mode="window_failure",
                             responsible_unit="640202001", responsible_staff="cs_clerk")  # fmt: skip
    assert escalation["status"] == "in_handling" and escalation["responsible_staff"] == "长胜街道综合窗口"
    assert escalation["allowed_actions"] == ["answer", "decide", "escalate"]
    await _step(client, owner, escalation, "hand_off", 409, note="x", window_unit="640202001")  # not guidance
    await _step(client, owner, escalation, "answer", 403, note="x")  # the window's head answers, not the owner
    await _step(client, town_head, escalation, "answer", 422)  # an answer needs its words
    escalation = await _step(client, town_head, escalation, "answer",
                             note="经核实窗口多次告知不一致，已当场一次性告知所需材料并当日受理")  # fmt: skip
    assert escalation["status"] == "resolved" and escalation["outcome"].startswith("经核实")
    await _step(client, owner, escalation, "close", 422)  # no confirmation recorded
    await _step(client, owner, escalation, "close", 422, confirmation="unreachable")  # no reason
    escalation = await _step(client, owner, escalation, "close", confirmation="confirmed")
    assert escalation["status"] == "closed" and escalation["closed_at"]
    trace = (await client.get(f"{API}/{escalation['id']}/trace", headers=owner)).json()
    assert [event["action"] for event in trace] == ["register", "classify", "answer", "close"]
    public = await client.get(f"/api/v1/public/escalations/{escalation['reg_no']}",
                              params={"code": (await _code(database_url, escalation["id"]))})  # fmt: skip
    assert public.status_code == 200 and public.json()["status_name"] == "已销号", public.text
    assert "长胜街道" not in public.text and "大武口区人社局负责人" not in public.text  # no staff names
    wrong = await client.get(f"/api/v1/public/escalations/{escalation['reg_no']}", params={"code": "WRONG1"})
    assert wrong.status_code == 404

    async def sms(session: Any) -> list[str]:
        return [row.params["status"] for row in await session.scalars(select(SmsMessage).order_by(SmsMessage.id))]

    assert await in_session(database_url, sms) == [
        "已登记，由值班领导负责办理",
        "已有处理结果，请留意工作人员联系",
        "已办结销号",
    ]


async def _code(database_url: str, escalation_id: int) -> str:
    async def work(session: Any) -> str:
        return str(await session.scalar(select(Escalation.query_code).where(Escalation.id == escalation_id)))

    return str(await in_session(database_url, work))


async def test_an_unresolved_problem_climbs_the_tiers_once(client: Any, database_url: str, settings: Settings) -> None:
    await _on_duty(client)
    escalation = await _register(client)
    owner = await login(client, "dwk_head")
    escalation = await _step(client, owner, escalation, "classify", mode="bottleneck")
    yesterday = local_date(utcnow(), "Asia/Shanghai") - timedelta(days=1)

    async def overdue(session: Any) -> None:
        await session.execute(update(Escalation).where(Escalation.id == escalation["id"]).values(tier_due=yesterday))

    await in_session(database_url, overdue)
    engine = create_engine(settings.database_url)
    try:
        job = TierJob(session_factory(engine), key_ring(settings, session_factory(engine)))
        assert await job.run() == {"raised": 1}
        assert await job.run() == {}  # its new day has not passed: nothing more
    finally:
        await engine.dispose()
    escalation = (await client.get(f"{API}/{escalation['id']}", headers=owner)).json()
    assert escalation["tier"] == 3 and escalation["tier_due"] > yesterday.isoformat()
    trace = (await client.get(f"{API}/{escalation['id']}/trace", headers=owner)).json()
    assert trace[-1]["action"] == "escalate" and trace[-1]["actor"] == "系统（逾期自动升级）" and trace[-1]["tier"] == 3
    escalation = await _step(client, owner, escalation, "escalate")  # the owner raises it to the meeting
    assert escalation["tier"] == 5
    await _step(client, owner, escalation, "decide", 422, note="特事特办：同意按原政策补办")  # the meeting's minutes
    escalation = await _step(client, owner, escalation, "decide", note="特事特办：同意按原政策补办",
                             meeting_ref="大人社党组会纪〔2026〕12号")  # fmt: skip
    assert escalation["status"] == "resolved"
    await _step(client, owner, escalation, "escalate", 409)


async def test_a_case_that_cannot_be_done_is_referred_with_its_applicant(client: Any) -> None:
    await _on_duty(client)
    await grant_unit(client, "HRSS-04", "640202001", "accept", "decide")
    clerk = await login(client, "cs_clerk")
    case = await open_case(client, clerk, "HRSS-04", "640202001", RESIDENT, "马建国")
    referred = await client.post(f"{API}/referrals", json={"case_id": case["id"], "summary": "政策适用有争议"},
                                 headers=clerk)  # fmt: skip
    assert referred.status_code == 201, referred.text
    escalation = referred.json()
    assert escalation["channel"] == "referral" and escalation["case_id"] == case["id"] and escalation["unit"] == DESK
    assert escalation["resident_name"] == "马**" and escalation["summary"].startswith(f"办件 {case['receipt_no']}")
    outsider = await login(client, "dzc_clerk")  # another county's clerk cannot see the case: not found
    refused = await client.post(f"{API}/referrals", json={"case_id": case["id"], "summary": "x"}, headers=outsider)
    assert refused.status_code == 404


async def test_another_tenants_escalation_is_not_found(client: Any, database_url: str) -> None:
    await _on_duty(client)
    escalation = await _register(client)
    await enrol(database_url, "hn_supervisor", "46", "46", ["supervisor"])
    hainan = await login(client, "hn_supervisor", PASSWORD)
    assert (await client.get(f"{API}/{escalation['id']}", headers=hainan)).status_code == 404
    assert (await client.get(API, headers=hainan)).json()["total"] == 0
    other_county = await login(client, "dzc_clerk")
    assert (await client.get(f"{API}/{escalation['id']}", headers=other_county)).status_code == 403


async def test_the_transfer_sheet_and_the_residents_progress_page(client: Any, database_url: str) -> None:
    await _on_duty(client)
    escalation = await _register(client)
    desk = await login(client, "dwk_desk")
    sheet = await client.get(f"{API}/{escalation['id']}/transfer.pdf", headers=desk)
    assert sheet.status_code == 200 and sheet.headers["content-type"] == "application/pdf"
    printed = flat_text(sheet.content)
    for expected in ("办不成事", "反映窗口受理问题转办单", escalation["reg_no"], escalation["query_code"],
                     "大武口区人社局负责人", "首问负责", "马**", "现场反映"):  # fmt: skip
        assert expected in printed, expected
    assert RESIDENT not in printed and "马建国" not in printed  # the resident masked
    assert page_count(sheet.content) == 1
    other = await login(client, "dzc_clerk")
    assert (await client.get(f"{API}/{escalation['id']}/transfer.pdf", headers=other)).status_code == 403

    form = await client.get("/progress")
    token = form.text.split('name="_csrf_token" value="')[1].split('"')[0] if "_csrf_token" in form.text else ""
    found = await client.post("/progress", data={"receipt": escalation["reg_no"], "code": escalation["query_code"],
                                                 "_csrf_token": token})  # fmt: skip
    assert found.status_code == 200 and "办不成事反映进度" in found.text and "已登记" in found.text, found.text[:400]
    assert "大武口区人社局负责人" not in found.text
    wrong = await client.post(
        "/progress", data={"receipt": escalation["reg_no"], "code": "WRONG1", "_csrf_token": token}
    )
    assert wrong.status_code == 404
