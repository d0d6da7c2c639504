"""流动红旗 and 服务之星 over the known cases of ``test_dashboard``, moved into last month: the townships and the
people ranked by the documented score, published once (the month over), told to the winner, seen by the subtree;
the current month cannot be published, and another tenant sees nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from test_dashboard import COUNTY, SIBLING, TOWN, known_cases

from fuquan.platform.cases.models import Case, CaseEvent
from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import PASSWORD, enrol, in_session, login

pytestmark = pytest.mark.anyio

API = "/api/v1/supervision/rankings"


async def test_last_months_ranking_is_published_once_and_seen_beneath(client: Any, database_url: str) -> None:
    await known_cases(client, database_url)
    last_month = local_date(utcnow(), "Asia/Shanghai").replace(day=1) - timedelta(days=1)
    shift = timedelta(days=(local_date(utcnow(), "Asia/Shanghai") - last_month.replace(day=15)).days)

    async def backdate(session: Any) -> None:
        for event in await session.scalars(select(CaseEvent)):
            event.at -= shift
        for case in await session.scalars(select(Case).where(Case.decided_at.is_not(None))):
            case.decided_at -= shift

    await in_session(database_url, backdate)
    supervisor, month = await login(client, "dwk_supervisor"), f"{last_month:%Y-%m}"
    preview = (await client.get(f"{API}/preview", params={"month": month, "unit": COUNTY}, headers=supervisor)).json()
    ranks = {row["key"]: row for row in preview["rows"]}
    assert set(ranks) == {TOWN, SIBLING} and preview["id"] is None and preview["kind_name"] == "流动红旗"
    # 朝阳街道: all on time, rated 3; 长胜街道: half on time, one poor rating not called back
    assert ranks[SIBLING]["rank"] == 1 and ranks[SIBLING]["score"] > ranks[TOWN]["score"]

    bad_month = await client.post(API, json={"unit": COUNTY, "month": f"{utcnow():%Y-%m}", "kind": "flag"},
                                  headers=supervisor)  # fmt: skip
    assert bad_month.status_code == 422 and bad_month.json()["rule"] == "month_not_over"
    assert (await client.post(API, json={"month": "2026-13", "kind": "flag"}, headers=supervisor)).status_code == 400
    for month_text in ("0000-01", "2026", "2026-1"):  # a clerk's message, never a 500
        wrong = await client.get(f"{API}/preview", params={"month": month_text}, headers=supervisor)
        assert wrong.status_code == 422 and "不是有效月份" in wrong.json()["detail"], wrong.text
    clerk = await login(client, "cs_clerk")
    assert (await client.post(API, json={"month": month, "kind": "flag"}, headers=clerk)).status_code == 403
    made = await client.post(API, json={"unit": COUNTY, "month": month, "kind": "flag", "note": "11月流动红旗"},
                             headers=supervisor)  # fmt: skip
    assert made.status_code == 201, made.text
    again = await client.post(API, json={"unit": COUNTY, "month": month, "kind": "flag"}, headers=supervisor)
    assert again.status_code == 409
    stars = await client.post(API, json={"unit": COUNTY, "month": month, "kind": "star"}, headers=supervisor)
    assert stars.status_code == 201 and stars.json()["rows"][0]["key"] in {"zy_clerk", "zy_approver", "cs_clerk",
                                                                           "cs_approver", "jm_agent"}  # fmt: skip

    seen = (await client.get(API, headers=clerk)).json()  # a clerk of the county sees the county's rankings
    assert {r["kind"] for r in seen} == {"flag", "star"} and seen[0]["month"] == month
    await enrol(database_url, "hn_supervisor", "46", "46", ["supervisor"])
    assert (await client.get(API, headers=await login(client, "hn_supervisor", PASSWORD))).json() == []
