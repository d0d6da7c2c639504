"""差评整改: a rating of 2 opens a follow-up for the unit that handled the case (its head and handlers told); the
unit calls back, rectifies and replies in order; a supervisor above reviews; the rates count what was done in
time; another tenant's follow-up is not found."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from test_dashboard import known_cases

from helpers import PASSWORD, enrol, login

pytestmark = pytest.mark.anyio

API = "/api/v1/supervision/follow-ups"


async def _step(client: Any, who: dict[str, str], follow_up: dict[str, Any], action: str, status: int = 200,
                **fields: Any) -> dict[str, Any]:  # fmt: skip
    answer = await client.post(f"{API}/{follow_up['id']}/steps", json={"action": action,
                               "version": follow_up["version"], **fields}, headers=who)  # fmt: skip
    assert answer.status_code == status, answer.text
    return dict(answer.json()) if status == 200 else follow_up


async def test_a_poor_rating_is_called_back_rectified_replied_and_reviewed(client: Any, database_url: str) -> None:
    cases = await known_cases(client, database_url)  # D was rated 2
    clerk, supervisor = await login(client, "cs_clerk"), await login(client, "dwk_supervisor")
    (follow_up,) = (await client.get(API, headers=clerk)).json()
    assert follow_up["case_id"] == cases["D"]["id"] and follow_up["rating"] == 2 and follow_up["status"] == "open"
    assert follow_up["unit"] == "640202001" and follow_up["callback_due"] < follow_up["rectify_due"]
    head_inbox = (await client.get("/api/v1/inbox", headers=await login(client, "cs_head"))).json()
    assert head_inbox["items"][0]["title"] == f"办件 {cases['D']['receipt_no']} 收到差评，请回访整改"

    await _step(client, clerk, follow_up, "rectify", 409, note="x")  # a call back comes first
    await _step(client, clerk, follow_up, "callback", 422)  # with what was said
    follow_up = await _step(client, clerk, follow_up, "callback", note="已电话回访，申请人反映等待时间过长")
    follow_up = await _step(client, clerk, follow_up, "rectify", note="增设周六值班窗口")
    follow_up = await _step(client, clerk, follow_up, "reply", note="已告知申请人整改措施")
    await _step(client, clerk, follow_up, "review", 403, outcome="accepted")  # not the unit's own
    await _step(client, supervisor, follow_up, "review", 422)  # accepted or returned
    returned = await _step(client, supervisor, follow_up, "review", outcome="returned", note="整改措施不具体")
    assert returned["status"] == "called_back"
    follow_up = await _step(client, clerk, returned, "rectify", note="周六窗口公示时间并安排两人")
    follow_up = await _step(client, clerk, follow_up, "reply", note="已再次告知申请人")
    follow_up = await _step(client, supervisor, follow_up, "review", outcome="accepted")
    assert follow_up["status"] == "closed"

    rates = (await client.get(f"{API}/rates", params={"unit": "640202"}, headers=supervisor)).json()
    (town,) = [row for row in rates if row["unit"] == "640202001"]
    assert town["follow_ups"] == 1 and town["callback_rate"] == 1.0 and town["rectification_rate"] == 1.0

    await enrol(database_url, "hn_supervisor", "46", "46", ["supervisor"])
    hainan = await login(client, "hn_supervisor", PASSWORD)
    await _step(client, hainan, follow_up, "review", 404, outcome="accepted")
    assert (await client.get(API, headers=hainan)).json() == []


async def test_the_tenant_sets_the_working_days_to_rectify(client: Any, database_url: str) -> None:
    admin, supervisor = await login(client, "nx_admin"), await login(client, "dwk_supervisor")
    assert (await client.get("/api/v1/supervision/settings", headers=supervisor)).json() == {"rectify_working_days": 5}
    refused = await client.put("/api/v1/supervision/settings", json={"rectify_working_days": 3}, headers=supervisor)
    assert refused.status_code == 403
    wrong = await client.put("/api/v1/supervision/settings", json={"rectify_working_days": 0}, headers=admin)
    assert wrong.status_code == 400, wrong.text
    assert (await client.put("/api/v1/supervision/settings", json={"rectify_working_days": 10},
                             headers=admin)).status_code == 200  # fmt: skip
    cases = await known_cases(client, database_url)  # D rated 2 after the change
    (follow_up,) = (await client.get(API, headers=await login(client, "cs_clerk"))).json()
    assert follow_up["case_id"] == cases["D"]["id"]
    # ten working days from today against one: nine working days apart at least (five would give four)
    assert (date.fromisoformat(follow_up["rectify_due"]) - date.fromisoformat(follow_up["callback_due"])).days >= 9
