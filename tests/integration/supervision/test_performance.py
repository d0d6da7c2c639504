"""Staff and unit performance over the known cases of ``test_dashboard`` (every step taken today): per township of
大武口区 and per person, beside yesterday (nothing); exported as XLSX and CSV, audited; outside the caller's subtree
404, without the permission 403, and a period the wrong way round 422."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from test_dashboard import COUNTY, SIBLING, TOWN, known_cases

from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import PASSWORD, enrol, login

pytestmark = pytest.mark.anyio

API = "/api/v1/supervision/performance"


def _today() -> str:
    return local_date(utcnow(), "Asia/Shanghai").isoformat()


async def _figures(client: Any, who: dict[str, str], status: int = 200, **params: Any) -> dict[str, Any]:
    answer = await client.get(API, params={"first": _today(), "last": _today(), **params}, headers=who)
    assert answer.status_code == status, answer.text
    return dict(answer.json())


async def test_each_township_and_person_is_counted_where_the_work_was_done(client: Any, database_url: str) -> None:
    await known_cases(client, database_url)
    supervisor = await login(client, "dwk_supervisor")
    read = await _figures(client, supervisor, unit=COUNTY)
    rows = {row["key"]: row for row in read["rows"]}
    town, sibling = rows[TOWN]["figures"], rows[SIBLING]["figures"]
    # 长胜街道: A B C D accepted at the town, E at its village; C and D decided and issued, D 8 working days late
    assert (town["accepted"], town["decided"], town["issued"], town["on_time"]) == (5, 2, 2, 1)
    assert town["on_time_rate"] == 0.5 and town["average_working_days"] == 4.0
    assert (town["ratings"], town["rating_average"], town["poor_ratings"], town["follow_ups"]) == (2, 3.5, 1, 1)
    assert (sibling["accepted"], sibling["decided"], sibling["on_time_rate"], sibling["ratings"]) == (2, 1, 1.0, 1)
    assert read["total"]["figures"]["accepted"] == 7 and read["total"]["figures"]["decided"] == 3
    assert read["rows"][0]["key"] == TOWN  # the busiest first
    assert rows[TOWN]["previous"]["accepted"] == 0 and read["previous_last"] < read["first"]

    people = {row["key"]: row for row in (await _figures(client, supervisor, unit=COUNTY, by="staff"))["rows"]}
    clerk, approver = people["cs_clerk"]["figures"], people["cs_approver"]["figures"]
    assert (clerk["accepted"], clerk["issued"], clerk["ratings"], clerk["decided"]) == (4, 2, 2, 0)
    assert (approver["decided"], approver["on_time"], approver["average_working_days"]) == (2, 1, 4.0)
    assert people["cs_clerk"]["unit"] == TOWN and people["jm_agent"]["figures"]["accepted"] == 1

    yesterday = (local_date(utcnow(), "Asia/Shanghai") - timedelta(days=1)).isoformat()
    quiet = await _figures(client, supervisor, unit=COUNTY, first=yesterday, last=yesterday, compare="none")
    assert quiet["rows"] == [] and quiet["total"]["previous"] is None


async def test_the_figures_export_as_xlsx_and_csv_and_are_guarded(client: Any, database_url: str) -> None:
    await known_cases(client, database_url)
    supervisor = await login(client, "dwk_supervisor")
    params = {"first": _today(), "last": _today(), "unit": COUNTY}
    xlsx = await client.get(f"{API}/export", params=params, headers=supervisor)
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "长胜街道" in strings and "按时办结率" in strings and "上期受理" in strings
    answer = await client.get(f"{API}/export", params={**params, "format": "csv", "by": "staff"}, headers=supervisor)
    assert answer.status_code == 200 and answer.content.startswith("\ufeff".encode())
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert table[0][:3] == ["账号", "姓名", "所在单位"] and table[-1][0] == "合计"
    assert any(row[0] == "cs_clerk" and row[3] == "4" for row in table)
    audit = (await client.get("/api/v1/audit/records", params={"action": "supervision.export"},
                              headers=await login(client, "nx_auditor"))).json()  # fmt: skip
    assert len(audit) == 2

    await _figures(client, await login(client, "cs_clerk"), 403)
    await _figures(client, supervisor, 404, unit="640205")  # another county
    await _figures(client, supervisor, 422, first=_today(), last="2020-01-01")
    await enrol(database_url, "hn_supervisor", "46", "46", ["supervisor"])
    await _figures(client, await login(client, "hn_supervisor", PASSWORD), 404, unit=COUNTY)
