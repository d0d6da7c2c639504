"""Two ``fuquan serve`` processes on one database (and, on PostgreSQL, one Redis): policy changes reach the
other process through the change log, concurrent revocations revoke once, and each periodic job slot runs
once across both."""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from sqlalchemy import select

from fuquan.authority.models import Grant
from fuquan.integrations.gateway.protocol import new_nonce, sign
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.jobs.models import JobRun
from fuquan.platform.setup.benchkit import bench_key_ring
from fuquan.platform.share import services as share
from helpers import NINGXIA, login
from processes import Replica, replicas

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("FUQUAN_TEST_REDIS_URL") or None
COUNTY = {
    "item": "HRSS-04", "action": "accept", "unit": "640202", "scope": "subtree", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": True, "basis": "devolved", "instrument": "宁人社发〔2026〕1号",
}  # fmt: skip
STREET = {**COUNTY, "unit": "640202001", "basis": "entrusted", "instrument": "大人社发〔2026〕2号"}
VILLAGE_CHECK = {"unit": "640202001001", "item": "HRSS-04", "action": "accept"}


def _redis(backend: str) -> str | None:
    return REDIS_URL if backend == "postgresql" else None


async def _allowed(client: httpx.AsyncClient, headers: dict[str, str]) -> bool:
    response = await client.get("/api/v1/authority/check", params=VILLAGE_CHECK, headers=headers)
    assert response.status_code == 200, response.text
    return bool(response.json()["allowed"])


async def _until(client: httpx.AsyncClient, headers: dict[str, str], expected: bool, within: float = 10.0) -> float:
    began = time.monotonic()
    while await _allowed(client, headers) is not expected:
        assert time.monotonic() - began < within, f"still {not expected} after {within} s"
    return time.monotonic() - began


def _clients(servers: list[Replica]) -> list[httpx.AsyncClient]:
    return [httpx.AsyncClient(base_url=server.url, timeout=30) for server in servers]


async def test_changes_reach_the_other_process(backend: str, database_url: str, tmp_path: Path) -> None:
    # on PostgreSQL + Redis a change is announced: with the periodic catch-up 30 s away, only the announcement
    # can bring it to the other process within the 5 s allowed (two SQLite processes share no channel: they poll)
    catch_up = {"FUQUAN_POLICY_CATCH_UP_SECONDS": "30"} if backend == "postgresql" else {}
    with replicas(database_url, _redis(backend), tmp_path, **catch_up) as servers:
        one, two = _clients(servers)
        async with one, two:
            admin_one, admin_two = await login(one, "nx_admin"), await login(two, "nx_admin")
            assert not await _allowed(two, admin_two)
            for _round in range(3):
                grant = await one.post("/api/v1/grants", json=COUNTY, headers=admin_one)
                assert grant.status_code == 201, grant.text
                await _until(two, admin_two, True, within=5.0)
                revoked = await two.post(
                    f"/api/v1/grants/{grant.json()['id']}/revoke", json={"reason": "调整"}, headers=admin_two
                )
                assert revoked.status_code == 200, revoked.text
                await _until(one, admin_one, False, within=5.0)
            await _a_signed_call_is_answered_once(database_url, one, two)
    for server in servers:  # every change applied from the log: each process built its engines once only
        loads = Counter(entry["tenant_id"] for entry in server.events("policy_loaded"))
        assert loads and max(loads.values()) == 1, (server.name, loads)


async def _a_signed_call_is_answered_once(database_url: str, one: httpx.AsyncClient, two: httpx.AsyncClient) -> None:
    """A partner's signed call answered by one process is a replay to the other: the nonce store is shared."""
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            draft = share.AppDraft("dwk-civil-affairs", "低保核对系统", "大武口区民政局", "李科长")
            app, key = await share.register(session, bench_key_ring(), NINGXIA, draft)
            card = share.GrantDraft("cards/social_security_card", ("court_enforcement",), ("status",), "协议",
                                    date(2026, 1, 1))  # fmt: skip
            await share.grant(session, NINGXIA, app.code, card)
    finally:
        await engine.dispose()
    path, body = "/api/share/v1/cards/social_security_card", b'{"id_number": "11010519491231002X"}'
    nonce = new_nonce()
    headers = sign(key.secret, "POST", path, body, app_key=key.key_id, timestamp=int(time.time()), nonce=nonce,
                   request_id=nonce, purpose="court_enforcement:2026-Z-1", user_id="fy_li").as_dict()  # fmt: skip
    answered = await one.post(path, content=body, headers=headers)
    assert answered.status_code == 200 and answered.json()["code"] == "00", answered.text
    replayed = await two.post(path, content=body, headers=headers)
    assert replayed.status_code == 401 and "nonce" in replayed.json()["msg"]


async def test_concurrent_revocations_revoke_once(backend: str, database_url: str, tmp_path: Path) -> None:
    """The same grant revoked on both processes at once, or (every other round) a grant on one and the grant
    derived from it on the other: each grant is revoked once, by one request, with one audit record; a later
    attempt answers 409 naming when and by whom."""
    rounds = 8
    with replicas(database_url, _redis(backend), tmp_path) as servers:
        one, two = _clients(servers)
        async with one, two:
            admins = [await login(one, "nx_admin"), await login(two, "nx_admin")]
            county_admin = await login(one, "dwk_admin")
            for round_ in range(rounds):
                top = (await one.post("/api/v1/grants", json=COUNTY, headers=admins[0])).json()
                street = await one.post("/api/v1/grants", json=STREET, headers=county_admin)
                assert street.status_code == 201, street.text
                targets = (top["id"], top["id"]) if round_ % 2 == 0 else (top["id"], street.json()["id"])
                pair: list[Any] = [None, None]

                async def revoke(index: int, targets: tuple[int, int] = targets, into: list[Any] = pair) -> None:
                    client = (one, two)[index]
                    into[index] = await client.post(
                        f"/api/v1/grants/{targets[index]}/revoke",
                        json={"reason": f"第{index}次"},
                        headers=admins[index],
                    )

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(revoke, 0)
                    tasks.start_soon(revoke, 1)
                statuses = sorted(answer.status_code for answer in pair)
                assert statuses == [200, 409] or (round_ % 2 and statuses == [200, 200]), [a.text for a in pair]
                for answer in pair:
                    if answer.status_code == 409:
                        problem = answer.json()
                        assert problem["rule"] == "already_revoked" and "nx_admin" in problem["detail"], problem
            for client, admin in ((one, admins[0]), (two, admins[1])):  # both engines hold the final policy
                await _until(client, admin, False)
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        grants = list(await session.scalars(select(Grant)))
        records = list(
            await session.scalars(
                select(AuditRecord).where(AuditRecord.action == "grant.revoke", AuditRecord.outcome == "success")
            )
        )
    await engine.dispose()
    assert len(grants) == 2 * rounds and all(grant.revoked_at is not None for grant in grants)
    assert sorted(record.resource for record in records) == sorted(f"grant:{grant.id}" for grant in grants)
    for grant in grants:  # revoked directly, or through its parent: never overwritten by a later attempt
        assert grant.revoked_via in (grant.id, grant.parent_id)


async def test_each_job_slot_runs_once(backend: str, database_url: str, tmp_path: Path) -> None:
    """Both processes wake at every slot of a one-second job; one claims it and runs it, the other skips."""
    with replicas(database_url, _redis(backend), tmp_path, FUQUAN_POLICY_LOG_COMPACTION_SECONDS="1") as servers:
        await anyio.sleep(6)
    runs = [(entry["job"], entry["slot"]) for server in servers for entry in server.events("job_ran")]
    compactions = [run for run in runs if run[0] == "policy_log_compaction"]
    assert len(compactions) >= 4
    assert len(set(compactions)) == len(compactions), Counter(compactions).most_common(3)  # no slot ran twice
    slots = sorted(slot for _job, slot in compactions)
    assert slots == list(range(slots[0], slots[0] + len(slots)))  # and no slot was missed while both ran
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rows = list(await session.scalars(select(JobRun).where(JobRun.job == "policy_log_compaction")))
    await engine.dispose()
    assert {row.slot for row in rows} == set(slots)
    assert all(row.outcome == "success" and row.finished_at is not None for row in rows)


async def test_a_logout_is_honoured_by_the_other_process(backend: str, database_url: str, tmp_path: Path) -> None:
    """Each process keeps a token it resolved in memory for up to a second; a logout through one process is
    announced, so the other refuses the token at once — and within that second even if nothing is heard."""
    with replicas(database_url, _redis(backend), tmp_path) as servers:
        one, two = _clients(servers)
        async with one, two:
            clerk = await login(one, "cs_clerk")
            for _ in range(5):  # the other process resolves the token and keeps it
                assert (await two.get("/api/v1/auth/me", headers=clerk)).status_code == 200
            assert "server" not in (await one.get("/health")).headers  # what it runs on is nobody's business
            assert (await one.delete("/api/v1/auth/token", headers=clerk)).status_code in (200, 204)
            began = time.monotonic()
            while (await two.get("/api/v1/auth/me", headers=clerk)).status_code == 200:
                assert time.monotonic() - began < 1.5, "the other process still honoured a logged-out token"
            assert (await one.get("/api/v1/auth/me", headers=clerk)).status_code == 401


async def test_a_changed_password_ends_the_persons_logins_in_the_other_process(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    """Changing one's password through one process revokes every token of the person, and the other process,
    which had resolved them, refuses them as for a logout."""
    with replicas(database_url, _redis(backend), tmp_path) as servers:
        one, two = _clients(servers)
        async with one, two:
            first, second = await login(one, "cs_clerk"), await login(two, "cs_clerk")
            for headers in (first, second):
                assert (await two.get("/api/v1/auth/me", headers=headers)).status_code == 200
            change = {"current_password": "fuquan-demo-2026", "new_password": "violet harbour 7 lanterns"}
            assert (await one.post("/api/v1/auth/password", json=change, headers=first)).status_code == 204
            began = time.monotonic()
            for headers in (first, second):
                while (await two.get("/api/v1/auth/me", headers=headers)).status_code == 200:
                    assert time.monotonic() - began < 1.5, "the other process still honoured a revoked token"
            assert (await one.get("/api/v1/auth/me", headers=second)).status_code == 401
            assert (await login(two, "cs_clerk", "violet harbour 7 lanterns"))["Authorization"]
