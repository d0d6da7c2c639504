"""受理期限 (行政许可法 Art. 32, issue 17): a submitted case left unanswered past its five working days counts as
accepted from the day its materials were received — shown on the case, refused a late 补正 or 不予受理, and recorded
in the trace when the clerk accepts it, its deadline running from the submission."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.cases.models import Case, CaseEvent
from fuquan.platform.cases.services.alarms import clock_alarms
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import NINGXIA, grant_unit, login, open_case, step

pytestmark = pytest.mark.anyio

TOWN = "640202001"
TZ = ZoneInfo("Asia/Shanghai")


async def _submitted_working_days_ago(database_url: str, case_id: int, working_days: int) -> tuple[str, str]:
    """Move the submission back ``working_days`` working days (its event and the acceptance period it began), as
    the case would stand had nobody answered it since. Returns (submission day, last day of the period)."""
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        calendar = await calendar_for(session, NINGXIA)
        today = local_date(utcnow(), "Asia/Shanghai")
        day = today
        while calendar.working_days_used(day, today, []) < working_days:
            day -= timedelta(days=1)
        accept_by = calendar.add_working_days(day, 5)
        submitted = datetime.combine(day, time(10), TZ)
        await session.execute(update(Case).where(Case.id == case_id).values(accept_by=accept_by))
        await session.execute(
            update(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "submit").values(at=submitted)
        )
    await engine.dispose()
    return day.isoformat(), accept_by.isoformat()


async def test_a_case_unanswered_past_its_acceptance_period_counts_as_accepted(client: Any, database_url: str) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    case = await step(client, clerk, await open_case(client, clerk, "HRSS-04", TOWN, "11010519491231002X", "张三"),
                      "submit")  # fmt: skip
    assert case["accept_by"] is not None and case["blocked_actions"] == []
    submitted_on, accept_by = await _submitted_working_days_ago(database_url, case["id"], 7)

    case = (await client.get(f"/api/v1/cases/{case['id']}", headers=clerk)).json()
    assert case["accept_by"] == accept_by
    blocked = {b["action"]: b["rule"] for b in case["blocked_actions"]}
    assert blocked == {"refuse": "acceptance_period_passed", "request_supplement": "acceptance_period_passed"}
    assert "accept" in case["allowed_actions"] and "request_supplement" not in case["allowed_actions"]
    body = {"action": "request_supplement", "version": case["version"], "reason": "缺件"}
    late = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=clerk)
    assert late.status_code == 409 and late.json()["rule"] == "acceptance_period_passed"
    assert "第三十二条" in late.json()["detail"]

    case = await step(client, clerk, case, "accept")
    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)).json()
    accepted = trace[-1]
    assert accepted["action"] == "accept"
    assert accepted["detail"]["deemed_accepted_since"] == submitted_on and accepted["detail"]["accept_by"] == accept_by
    assert case["accept_by"] is None and case["timing"]["accepted_on"] == submitted_on
    # the warning days run from the submission too, as the deadline does
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        calendar = await calendar_for(session, NINGXIA)
        stored = await session.get(Case, case["id"])
        assert stored is not None
        since = date.fromisoformat(submitted_on)
        assert (stored.yellow_on, stored.red_on) == clock_alarms(calendar, since, stored.promised_days)
    await engine.dispose()
