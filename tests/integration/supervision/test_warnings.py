"""预警推送: the warning job tells the handler, the unit head and the supervisor of each case that turned yellow or
red — the same cases the dashboard colours — once, however often it runs and however many replicas run it; a
submitted case on the last day of its acceptance period, an overdue deferral and an overdue special procedure too;
and cases from before the warning dates get theirs from their clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from test_dashboard import DASHBOARD, known_cases

from fuquan.platform.cases.models import Case, CaseMaterial, CasePause
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.notifications.models import InboxItem
from fuquan.platform.supervision.services.warnings import WarningJob
from helpers import PASSWORD, in_session, login

pytestmark = pytest.mark.anyio

WARNINGS = {"warning", "overdue", "acceptance_overdue", "deferral_overdue", "suspension_overdue"}


async def _run_jobs(settings: Settings, replicas: int = 1) -> list[dict[str, Any]]:
    """The job as ``replicas`` processes would run it at once, each with its own engine."""
    engines = [create_engine(settings.database_url) for _ in range(replicas)]
    try:
        jobs = [WarningJob(session_factory(e), CatalogCache(session_factory(e))) for e in engines]
        return list(await asyncio.gather(*(job.run() for job in jobs)))
    finally:
        for engine in engines:
            await engine.dispose()


async def _inbox(client: Any, username: str, password: str | None = None) -> dict[str, str]:
    who = await login(client, username, password) if password else await login(client, username)
    page = (await client.get("/api/v1/inbox", params={"limit": 200}, headers=who)).json()
    return {item["title"]: item["kind"] for item in page["items"] if item["kind"] in WARNINGS}  # not D's 差评


async def test_yellow_and_red_cases_are_told_once_to_whom_they_concern(
    client: Any, database_url: str, settings: Settings, backend: str
) -> None:
    cases = await known_cases(client, database_url)
    board = (await client.get(DASHBOARD, headers=await login(client, "dwk_supervisor"))).json()
    red = {row["receipt_no"] for row in board["red"]}
    yellow = {row["receipt_no"] for row in board["yellow"]}
    assert red == {cases["A"]["receipt_no"], cases["F"]["receipt_no"]} and yellow == {cases["B"]["receipt_no"]}

    results = await _run_jobs(settings, replicas=2 if backend == "postgresql" else 1)
    assert sum(result.get("overdue", 0) for result in results) == 2
    assert sum(result.get("warning", 0) for result in results) == 1
    overdue = {f"办件 {no} 已超期" for no in red}
    warned = {f"办件 {no} 进入黄色预警" for no in yellow}
    assert set(await _inbox(client, "dwk_supervisor")) == overdue | warned  # the county's supervisor: all three
    assert set(await _inbox(client, "cs_head")) == {f"办件 {cases['A']['receipt_no']} 已超期"} | warned  # 长胜街道's
    assert set(await _inbox(client, "dwk_head")) == {f"办件 {cases['F']['receipt_no']} 已超期"}  # 朝阳街道 has no head
    assert set(await _inbox(client, "cs_approver")) == {f"办件 {cases['A']['receipt_no']} 已超期"}  # A's decider
    assert set(await _inbox(client, "cs_clerk")) == warned  # B's acceptor (A is in the approver's hands)
    assert set(await _inbox(client, "zy_clerk", PASSWORD)) == {f"办件 {cases['F']['receipt_no']} 已超期"}

    assert await _run_jobs(settings) == [{}]  # again: nothing new to tell

    async def items(session: Any) -> int:
        return len(list(await session.scalars(select(InboxItem.id))))

    assert await in_session(database_url, items) == 3 + 2 + 1 + 1 + 1 + 1 + 3  # and D's 差评 to its three


async def test_acceptance_deferral_and_special_procedure_alarms(
    client: Any, database_url: str, settings: Settings
) -> None:
    cases = await known_cases(client, database_url)
    today = local_date(utcnow(), "Asia/Shanghai")

    async def arrange(session: Any) -> None:
        # H (submitted) reaches the last day of its acceptance period; B has a deferral past due; C's pause
        await session.execute(update(Case).where(Case.id == cases["H"]["id"]).values(accept_by=today))
        await session.execute(update(CaseMaterial).where(CaseMaterial.case_id == cases["B"]["id"],
                                                         CaseMaterial.index == 1)
                              .values(state="deferred", defer_until=today - timedelta(days=1)))  # fmt: skip
        session.add(CasePause(case_id=cases["E"]["id"], kind="special", started_on=today - timedelta(days=40),
                              limit_on=today - timedelta(days=10)))  # fmt: skip

    await in_session(database_url, arrange)
    (result,) = await _run_jobs(settings)
    assert result["acceptance_overdue"] == 1 and result["deferral_overdue"] == 1
    assert result["suspension_overdue"] == 1
    clerk = await _inbox(client, "cs_clerk")
    assert clerk[f"办件 {cases['H']['receipt_no']} 受理期限届满"] == "acceptance_overdue"  # H was received by the clerk
    assert clerk[f"办件 {cases['B']['receipt_no']} 容缺材料逾期未补"] == "deferral_overdue"
    agent = await _inbox(client, "jm_agent")
    assert agent[f"办件 {cases['E']['receipt_no']} 特别程序超期"] == "suspension_overdue"
    (again,) = await _run_jobs(settings)
    assert not {"acceptance_overdue", "deferral_overdue", "suspension_overdue"} & set(again)


async def test_cases_from_before_the_dates_get_them_from_their_clock(
    client: Any, database_url: str, settings: Settings
) -> None:
    cases = await known_cases(client, database_url)

    async def dates(session: Any) -> dict[str, tuple[Any, ...]]:
        rows = await session.execute(select(Case.id, Case.yellow_on, Case.red_on, Case.accept_by))
        by_id = {row[0]: tuple(row[1:]) for row in rows}
        return {name: by_id[case["id"]] for name, case in cases.items()}

    as_the_steps_set_them = await in_session(database_url, dates)

    async def forget(session: Any) -> None:  # as migration 0016 leaves the cases it finds
        await session.execute(update(Case).values(yellow_on=None, red_on=None, accept_by=None, alarms_set=False))

    await in_session(database_url, forget)
    engine = create_engine(settings.database_url)
    try:
        assert await WarningJob(session_factory(engine), CatalogCache(session_factory(engine))).backfill() == len(cases)
    finally:
        await engine.dispose()
    backfilled = await in_session(database_url, dates)
    for name in ("A", "B", "E", "F", "H"):  # open cases: the same dates the steps set
        assert backfilled[name] == as_the_steps_set_them[name], name
    for name in ("C", "D", "G"):  # decided: no alarms
        assert backfilled[name] == (None, None, None), name
