"""工作日历 through the API and the CLI: a tenant's holidays and make-up workdays, access, bad input, isolation."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fuquan.platform.calendar.cli import calendar
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory
from helpers import login

pytestmark = pytest.mark.anyio

DAYS = "/api/v1/calendar/days"
EID = "2026-03-20"  # 开斋节, a Ningxia local holiday, on a Friday
EID_HOLIDAY = {"workday": False, "note": "开斋节（宁政办发〔2026〕1号）"}


async def _year(client: Any, headers: dict[str, str], year: int = 2026) -> dict[str, Any]:
    response = await client.get(DAYS, params={"year": year}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _by_day(year: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["day"]: entry for entry in year["days"]}


async def _audit_actions(database_url: str) -> list[tuple[str, str | None, str, str | None]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.scalars(
                select(AuditRecord).where(AuditRecord.action.like("calendar.%")).order_by(AuditRecord.id)
            )
            return [(row.action, row.actor, row.outcome, row.resource) for row in rows]
    finally:
        await engine.dispose()


async def test_a_local_holiday_round_trip(client: Any, database_url: str) -> None:
    admin = await login(client, "nx_admin")
    before = await _year(client, admin)
    assert before["year"] == 2026 and before["covered"] is True
    national = _by_day(before)
    assert EID not in national
    assert national["2026-10-01"] == {
        "day": "2026-10-01", "workday": False, "source": "library", "note": "国庆节", "created_by": None,
    }  # fmt: skip
    assert national["2026-10-10"]["workday"] is True and national["2026-10-10"]["source"] == "library"
    assert "2026-10-03" not in national and "2026-03-19" not in national  # ordinary days are left out

    put = await client.put(f"{DAYS}/{EID}", json=EID_HOLIDAY, headers=admin)
    assert put.status_code == 200, put.text
    assert put.json() == {
        "day": EID, "workday": False, "source": "tenant", "note": EID_HOLIDAY["note"], "created_by": "nx_admin",
    }  # fmt: skip
    assert _by_day(await _year(client, admin))[EID] == put.json()
    # front-desk staff read the tenant-wide calendar too
    assert _by_day(await _year(client, await login(client, "cs_clerk")))[EID]["source"] == "tenant"

    deleted = await client.delete(f"{DAYS}/{EID}", headers=admin)
    assert deleted.status_code == 204, deleted.text
    assert EID not in _by_day(await _year(client, admin))
    again = await client.delete(f"{DAYS}/{EID}", headers=admin)
    assert again.status_code == 404 and again.headers["content-type"].startswith("application/problem+json")

    assert await _audit_actions(database_url) == [
        ("calendar.set_day", "nx_admin", "success", f"calendar:{EID}"),
        ("calendar.clear_day", "nx_admin", "success", f"calendar:{EID}"),
        ("calendar.clear_day", "nx_admin", "rejected", f"calendar:{EID}"),
    ]


async def test_working_saturdays_and_overriding_the_national_schedule(client: Any) -> None:
    admin = await login(client, "nx_admin")
    saturday = await client.put(f"{DAYS}/2026-03-21", json={"workday": True, "note": "补开斋节"}, headers=admin)
    assert saturday.status_code == 200 and saturday.json()["workday"] is True
    national_day = await client.put(f"{DAYS}/2026-10-07", json={"workday": True, "day": "2026-10-07"}, headers=admin)
    assert national_day.status_code == 200, national_day.text
    changed = await client.put(f"{DAYS}/2026-03-21", json={"workday": False, "note": "改为放假"}, headers=admin)
    assert changed.status_code == 200 and changed.json()["note"] == "改为放假"
    days = _by_day(await _year(client, admin))
    assert days["2026-03-21"]["workday"] is False and days["2026-03-21"]["source"] == "tenant"
    assert days["2026-10-07"] == {
        "day": "2026-10-07", "workday": True, "source": "tenant", "note": "", "created_by": "nx_admin",
    }  # fmt: skip


async def test_a_year_the_library_does_not_cover(client: Any) -> None:
    admin = await login(client, "nx_admin")
    empty = await _year(client, admin, 2031)
    assert empty == {"year": 2031, "covered": False, "days": []}  # weekends only: nothing out of the ordinary
    assert (
        await client.put(f"{DAYS}/2031-01-01", json={"workday": False, "note": "元旦"}, headers=admin)
    ).status_code == 200
    filled = await _year(client, admin, 2031)
    assert filled["covered"] is False and [d["day"] for d in filled["days"]] == ["2031-01-01"]
    assert filled["days"][0]["source"] == "tenant"


async def test_access(client: Any) -> None:
    admin = await login(client, "nx_admin")
    for method in ("GET", "PUT", "DELETE"):
        path = DAYS if method == "GET" else f"{DAYS}/{EID}"
        anonymous = await client.request(method, path, json=EID_HOLIDAY if method == "PUT" else None)
        assert anonymous.status_code == 401, (method, anonymous.text)
    for user in ("cs_clerk", "dwk_admin", "nx_auditor"):
        headers = await login(client, user)
        refused = await client.put(f"{DAYS}/{EID}", json=EID_HOLIDAY, headers=headers)
        assert refused.status_code == 403, (user, refused.text)
        assert (await client.delete(f"{DAYS}/{EID}", headers=headers)).status_code == 403
    assert (await client.get(DAYS, headers=await login(client, "nx_auditor"))).status_code == 403  # 三员分立
    assert EID not in _by_day(await _year(client, admin))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", f"{DAYS}/2026-02-30", EID_HOLIDAY),
        ("PUT", f"{DAYS}/yesterday", EID_HOLIDAY),
        ("PUT", f"{DAYS}/2026-3-20", EID_HOLIDAY),
        ("DELETE", f"{DAYS}/2026-13-01", None),
        ("PUT", f"{DAYS}/{EID}", {"note": "没有说放假还是上班"}),
        ("PUT", f"{DAYS}/{EID}", {"workday": "no"}),
        ("PUT", f"{DAYS}/{EID}", {**EID_HOLIDAY, "surprise": 1}),
        ("PUT", f"{DAYS}/{EID}", {**EID_HOLIDAY, "note": "很长" * 200}),
        ("PUT", f"{DAYS}/{EID}", {**EID_HOLIDAY, "day": "2026-03-27"}),
        ("GET", f"{DAYS}?year=twenty", None),
        ("GET", f"{DAYS}?year=1800", None),
    ],
)
async def test_bad_input_is_a_400(client: Any, method: str, path: str, body: Any) -> None:
    admin = await login(client, "nx_admin")
    response = await client.request(method, path, json=body, headers=admin)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"] and response.json()["title"]
    assert EID not in _by_day(await _year(client, admin))


async def test_tenants_are_isolated(client: Any) -> None:
    ningxia, hainan = await login(client, "nx_admin"), await login(client, "hn_admin")
    assert (await client.put(f"{DAYS}/{EID}", json=EID_HOLIDAY, headers=ningxia)).status_code == 200
    assert EID not in _by_day(await _year(client, hainan))
    assert (await client.delete(f"{DAYS}/{EID}", headers=hainan)).status_code == 404
    assert _by_day(await _year(client, ningxia))[EID]["source"] == "tenant"  # untouched by Hainan's attempt
    local = await client.put(f"{DAYS}/2026-04-13", json={"workday": False, "note": "黎族苗族三月三"}, headers=hainan)
    assert local.status_code == 200, local.text
    assert _by_day(await _year(client, hainan))["2026-04-13"]["created_by"] == "hn_admin"
    assert "2026-04-13" not in _by_day(await _year(client, ningxia))


def _invoke(args: list[str], database_url: str, tmp_path: Path) -> Any:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path)}
    return CliRunner().invoke(calendar, args, env=env)


def test_cli_sets_shows_and_clears(database_url: str, tmp_path: Path) -> None:
    added = _invoke(["set", EID, "--tenant", "64", "--day-off", "--note", "开斋节"], database_url, tmp_path)
    assert added.exit_code == 0, added.output
    shown = _invoke(["show", "--tenant", "64", "--year", "2026"], database_url, tmp_path)
    assert shown.exit_code == 0, shown.output
    assert EID in shown.output and "开斋节" in shown.output and "2026-10-01" in shown.output
    assert _invoke(["set", EID, "--tenant", "64"], database_url, tmp_path).exit_code == 2  # neither flag given
    assert _invoke(["set", EID, "--tenant", "99", "--workday"], database_url, tmp_path).exit_code == 2
    cleared = _invoke(["clear", EID, "--tenant", "64"], database_url, tmp_path)
    assert cleared.exit_code == 0, cleared.output
    missing = _invoke(["clear", EID, "--tenant", "64"], database_url, tmp_path)
    assert missing.exit_code == 2 and EID in missing.output
    actions = asyncio.run(_audit_actions(database_url))
    assert actions == [
        ("calendar.set_day", "cli", "success", f"calendar:{EID}"),
        ("calendar.clear_day", "cli", "success", f"calendar:{EID}"),
    ]
