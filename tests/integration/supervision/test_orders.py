"""督办单: a supervisor orders the unit that has a case to act; its head replies in writing; the supervisor returns
the reply with a new day, then accepts it. An order unanswered past its day goes up to the supervisor's superior,
once. 责任追究: a record against a staff member cites what justifies it; the person states their case; a supervisor
decides. 投诉: a resident's complaint opens a follow-up. Another tenant reads every one of these as not found."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.supervision.models import SupervisionOrder
from fuquan.platform.supervision.services.orders import OrderJob
from helpers import PASSWORD, enrol, grant_unit, in_session, login, open_case, step

pytestmark = pytest.mark.anyio

ORDERS = "/api/v1/supervision/orders"
RECORDS = "/api/v1/supervision/accountability"
TOWN = "640202001"
BODY = "64020219800202123"
RESIDENT = BODY + id_check_char(BODY)


def _today() -> date:
    return local_date(utcnow(), "Asia/Shanghai")


async def _case(client: Any) -> dict[str, Any]:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    return await step(client, clerk, await open_case(client, clerk, "HRSS-04", TOWN, RESIDENT, "马建国"), "submit")


async def _issue(client: Any, who: dict[str, str], status: int = 201, **body: Any) -> dict[str, Any]:
    answer = await client.post(ORDERS, json={"demand": "请于期限内受理并说明延误原因", **body}, headers=who)
    assert answer.status_code == status, answer.text
    return dict(answer.json())


async def _post(client: Any, who: dict[str, str], path: str, status: int, **body: Any) -> dict[str, Any]:
    answer = await client.post(path, json=body, headers=who)
    assert answer.status_code == status, answer.text
    return dict(answer.json())


async def test_an_order_is_replied_returned_and_closed(client: Any, database_url: str) -> None:
    case = await _case(client)
    supervisor, head = await login(client, "dwk_supervisor"), await login(client, "cs_head")
    clerk, county_head = await login(client, "cs_clerk"), await login(client, "dwk_head")
    due = (_today() + timedelta(days=3)).isoformat()
    await _issue(client, clerk, 403, case_id=case["id"], due_on=due)  # a clerk does not issue orders
    await _issue(client, supervisor, 422, due_on=due)  # about nothing
    await _issue(client, supervisor, 422, case_id=case["id"], due_on=str(_today() - timedelta(days=1)))
    await _issue(client, supervisor, 422, case_id=case["id"], due_on=due, unit="640202001001")  # no head to reply
    await _issue(client, supervisor, 404, case_id=case["id"], due_on=due, unit="640205")  # outside the subtree
    order = await _issue(client, supervisor, case_id=case["id"], due_on=due)
    assert order["unit"] == TOWN and order["status"] == "issued" and order["subject"] == case["receipt_no"]
    assert order["order_no"] == f"DB640202-{_today():%Y%m%d}-0001" and order["link"] == f"/cases/{case['id']}"
    inbox = (await client.get("/api/v1/inbox", headers=head)).json()["items"]
    assert inbox[0]["title"] == f"督办单 {order['order_no']}：{case['receipt_no']}"

    reply = f"{ORDERS}/{order['id']}/reply"
    await _post(client, clerk, reply, 403, version=order["version"], reply="x")  # the head answers, not a clerk
    await _post(client, county_head, reply, 403, version=order["version"], reply="x")  # another unit's head
    await _post(client, head, reply, 409, version=order["version"] + 1, reply="x")  # stale
    order = await _post(client, head, reply, 200, version=order["version"], reply="已于当日受理，延误系系统故障")
    assert order["status"] == "replied" and order["replied_by"] == "长胜街道便民服务中心负责人" and not order["overdue"]
    review = f"{ORDERS}/{order['id']}/review"
    await _post(client, head, review, 403, version=order["version"], outcome="accepted")
    await _post(client, supervisor, review, 422, version=order["version"], outcome="returned", note="原因不清")
    later = (_today() + timedelta(days=5)).isoformat()
    order = await _post(client, supervisor, review, 200, version=order["version"], outcome="returned",
                        note="请附故障报修记录", due_on=later)  # fmt: skip
    assert order["status"] == "issued" and order["due_on"] == later
    order = await _post(client, head, reply, 200, version=order["version"], reply="已附报修单号 BX-0098")
    await _post(client, head, reply, 409, version=order["version"], reply="again")  # already replied
    order = await _post(client, supervisor, review, 200, version=order["version"], outcome="accepted")
    assert order["status"] == "closed" and order["closed_at"]
    assert [s["action"] for s in order["steps"]] == ["issue", "reply", "return", "reply", "accept"]
    listed = (await client.get(ORDERS, params={"case_id": case["id"]}, headers=head)).json()
    assert [o["id"] for o in listed] == [order["id"]]
    too_big = await client.get(ORDERS, params={"case_id": str(2**64)}, headers=head)  # past any row id: 400, not 500
    assert too_big.status_code == 400, too_big.text

    await enrol(database_url, "hn_supervisor", "46", "46", ["supervisor"])
    hainan = await login(client, "hn_supervisor", PASSWORD)
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=hainan)).status_code == 404
    assert (await client.get(ORDERS, headers=hainan)).json() == []
    await _issue(client, hainan, 404, case_id=case["id"], due_on=due)


async def test_an_unanswered_order_goes_up_once(client: Any, database_url: str, settings: Settings) -> None:
    case = await _case(client)
    supervisor, head = await login(client, "dwk_supervisor"), await login(client, "cs_head")
    order = await _issue(client, supervisor, case_id=case["id"], due_on=_today().isoformat())

    async def past(session: Any) -> None:
        await session.execute(update(SupervisionOrder).values(due_on=_today() - timedelta(days=2)))

    await in_session(database_url, past)
    engine = create_engine(settings.database_url)
    try:
        job = OrderJob(session_factory(engine))
        assert await job.run() == {"sent_up": 1}
        assert await job.run() == {}  # once
    finally:
        await engine.dispose()
    province = await login(client, "nx_supervisor")  # 大武口区's supervisor answers to the province's
    order = (await client.get(f"{ORDERS}/{order['id']}", headers=province)).json()
    assert order["escalated_to"] == "64" and order["overdue"] and order["steps"][-1]["action"] == "overdue"
    inbox = (await client.get("/api/v1/inbox", headers=province)).json()["items"]
    assert inbox[0]["title"] == f"督办单 {order['order_no']} 逾期未答复"
    order = await _post(client, head, f"{ORDERS}/{order['id']}/reply", 200, version=order["version"], reply="补答")
    assert order["overdue"] and order["status"] == "replied"


async def test_accountability_cites_its_grounds_hears_the_person_and_decides(client: Any, database_url: str) -> None:
    case = await _case(client)
    supervisor, clerk = await login(client, "dwk_supervisor"), await login(client, "cs_clerk")
    order = await _issue(client, supervisor, case_id=case["id"], due_on=_today().isoformat())
    body = {"staff": "cs_clerk", "reason": "受理超期且未说明原因", "case_ids": [case["id"]], "order_ids": [order["id"]]}
    await _post(client, clerk, RECORDS, 403, **body)
    await _post(client, supervisor, RECORDS, 422, **{**body, "case_ids": [], "order_ids": []})  # no grounds
    refused = await _post(client, supervisor, RECORDS, 422, **{**body, "case_ids": [case["id"], 999999]})
    assert "办件 999999" in refused["detail"]
    await _post(client, supervisor, RECORDS, 404, **{**body, "staff": "nobody"})
    await _post(client, supervisor, RECORDS, 422, **{**body, "staff": "dwk_supervisor"})  # not oneself
    record = await _post(client, supervisor, RECORDS, 201, **body)
    assert record["status"] == "open" and record["staff"] and record["unit"] == TOWN
    assert [c["kind"] for c in record["cited"]] == ["case", "order"]

    own = (await client.get(RECORDS, headers=clerk)).json()
    assert [r["id"] for r in own] == [record["id"]]  # the person concerned sees it
    colleague = await login(client, "cs_approver")
    assert (await client.get(f"{RECORDS}/{record['id']}", headers=colleague)).status_code == 404
    assert (await client.get(RECORDS, headers=colleague)).json() == []
    statement = f"{RECORDS}/{record['id']}/statement"
    await _post(client, supervisor, statement, 403, version=record["version"], statement="x")
    record = await _post(client, clerk, statement, 200, version=record["version"], statement="当日系统故障，已报修")
    decision = f"{RECORDS}/{record['id']}/decision"
    await _post(client, clerk, decision, 403, version=record["version"], measure="education", decision="x")
    await _post(client, supervisor, decision, 400, version=record["version"], measure="fired", decision="x")
    record = await _post(client, supervisor, decision, 200, version=record["version"], measure="education",
                         decision="情况属实，予以批评教育")  # fmt: skip
    assert record["status"] == "decided" and record["measure_name"] == "批评教育"
    await _post(client, clerk, statement, 409, version=record["version"], statement="again")
    inbox = (await client.get("/api/v1/inbox", headers=clerk)).json()["items"]
    assert inbox[0]["title"] == f"责任追究 {record['record_no']} 处理结果"

    await enrol(database_url, "hn_supervisor", "46", "46", ["supervisor"])
    hainan = await login(client, "hn_supervisor", PASSWORD)
    assert (await client.get(f"{RECORDS}/{record['id']}", headers=hainan)).status_code == 404


async def test_a_complaint_opens_a_follow_up_one_at_a_time(client: Any, database_url: str) -> None:
    case = await _case(client)

    async def code(session: Any) -> str:
        from sqlalchemy import select

        from fuquan.platform.cases.models import Case

        return str(await session.scalar(select(Case.query_code).where(Case.id == case["id"])))

    query_code = await in_session(database_url, code)
    path = f"/api/v1/public/cases/{case['receipt_no']}/complaints"
    assert (await client.post(path, json={"code": "WRONG1", "text": "窗口人员态度差"})).status_code == 404
    assert (await client.post(path, json={"code": query_code, "text": "短"})).status_code == 400
    made = await client.post(path, json={"code": query_code, "text": "提交三天了还没有受理，电话也没人接"})
    assert made.status_code == 201, made.text
    assert made.json()["complaint"] == 1
    again = await client.post(path, json={"code": query_code, "text": "还是没有人联系我"})
    assert again.status_code == 409 and again.json()["rule"] == "complaint_open"
    (follow_up,) = (await client.get("/api/v1/supervision/follow-ups", headers=await login(client, "cs_head"))).json()
    assert follow_up["source"] == "complaint" and follow_up["rating"] is None
    assert follow_up["comment"].startswith("提交")
