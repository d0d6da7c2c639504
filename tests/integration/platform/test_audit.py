"""The audit log's per-tenant SM3 chain: verify passes, and names the first record edited, deleted or reordered."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, text, update

from fuquan.platform.cli.main import cli
from fuquan.platform.core.audit.models import AuditChainHead, AuditRecord
from fuquan.platform.core.audit.sealer import Sealer
from fuquan.platform.core.audit.services import AuditEntry, append, seal, unsealed, verify
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from helpers import login

GRANT = {
    "item": "HRSS-04", "action": "accept", "unit": "640202", "scope": "subtree", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": True, "basis": "devolved", "instrument": "宁人社发〔2026〕9号",
}  # fmt: skip


async def _activity(client: Any) -> None:
    headers = await login(client, "nx_admin")
    created = await client.post("/api/v1/grants", json=GRANT, headers=headers)
    assert created.status_code == 201
    rejected = await client.post(
        "/api/v1/grants", json={**GRANT, "unit": "640202001001", "item": "HRSS-07"}, headers=headers
    )
    assert rejected.status_code == 422
    revoked = await client.post(
        f"/api/v1/grants/{created.json()['id']}/revoke", json={"reason": "测试撤销"}, headers=headers
    )
    assert revoked.status_code == 200


async def _records(database_url: str) -> list[AuditRecord]:
    """The first tenant chain's records, once every committed record is sealed."""
    engine = create_engine(database_url)
    await seal(session_factory(engine))
    async with session_factory(engine)() as session:
        tenant_chain = (
            select(AuditChainHead.chain).where(AuditChainHead.chain != 0).order_by(AuditChainHead.chain).limit(1)
        )
        rows = list(
            await session.scalars(
                select(AuditRecord).where(AuditRecord.chain.in_(tenant_chain)).order_by(AuditRecord.seq)
            )
        )
    await engine.dispose()
    return rows


async def _tamper(database_url: str, statement: Any) -> tuple[int, list[Any]]:
    """``statement`` run as someone who can switch the append-only triggers off: a database superuser (PostgreSQL),
    or whoever holds the file (SQLite). What the chain itself must then catch."""
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with session_scope(maker) as session:
        if engine.dialect.name == "postgresql":
            await session.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            await session.execute(text("DROP TRIGGER audit_log_no_update"))
            await session.execute(text("DROP TRIGGER audit_log_no_delete"))
        await session.execute(statement)
    async with maker() as session:
        result = await verify(session)
    await engine.dispose()
    return result


def _cli_verify(database_url: str, tmp_path: Any) -> Any:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path)}
    return CliRunner().invoke(cli, ["audit", "verify"], env=env)


@pytest.mark.anyio
async def test_actions_are_audited_in_an_intact_chain(client: Any, database_url: str) -> None:
    await _activity(client)
    actions = [(r.action, r.outcome) for r in await _records(database_url)]
    assert ("grant.create", "success") in actions
    assert ("grant.create", "rejected") in actions
    assert ("grant.revoke", "success") in actions
    assert ("auth.login", "success") in actions
    checked, breaks = await _tamper(database_url, select(1))
    assert checked >= len(actions) and breaks == []


@pytest.mark.anyio
async def test_a_serving_process_seals_what_it_commits_within_a_second(client: Any, database_url: str) -> None:
    """Requests write their records unsealed (no request waits for the chain's head); the app's own sealer
    chains them once they commit — nobody calls ``seal`` here."""
    await _activity(client)
    engine = create_engine(database_url)
    try:
        waiting: list[Any] = []
        for _attempt in range(30):  # up to 3 s; the sealer is woken by the commit and gathers 0.2 s
            async with session_factory(engine)() as session:
                waiting = await unsealed(session)
            if not waiting:
                break
            await anyio.sleep(0.1)
        assert waiting == []
        async with session_factory(engine)() as session:
            checked, breaks = await verify(session)
        assert checked >= 4 and breaks == []
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_a_busy_sealer_still_seals_what_another_process_left_within_its_interval(database_url: str) -> None:
    """A round woken by this process's commits seals the chains they wrote; a record another process committed
    (here: inserted behind the process's back, so nothing rings) is sealed by the round that looks at every
    chain, at least once per interval, however busy the process keeps its sealer."""
    engine = create_engine(database_url)
    maker = session_factory(engine)
    now = datetime.now(UTC)
    foreign = {"chain": 0, "tenant_id": None, "occurred_at": now, "actor": "another process", "actor_id": None,
               "role": None, "unit": None, "action": "test.foreign", "resource": None, "purpose": None,
               "outcome": "success", "request_id": None, "detail": {}}  # fmt: skip
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(Sealer(maker, interval=0.5, gather=0.05).run)
            async with session_scope(maker) as session:
                await session.execute(insert(AuditRecord.__table__), foreign)
            sealed_at = None
            for attempt in range(40):  # 4 s; the own chain (tenant 1) is written every 0.1 s meanwhile
                async with session_scope(maker) as session:
                    await append(session, AuditEntry(action="test.busy", tenant_id=1, actor="this process"))
                async with maker() as session:
                    waiting = await session.scalar(select(AuditRecord.seq).where(AuditRecord.action == "test.foreign"))
                if waiting is not None:
                    sealed_at = attempt
                    break
                await anyio.sleep(0.1)
            tasks.cancel_scope.cancel()
        assert sealed_at is not None, "the other process's record was never sealed"
        async with maker() as session:
            checked, breaks = await verify(session)
        assert checked >= 2 and breaks == []
    finally:
        await engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["edit", "delete", "reorder", "delete_last"])
async def test_tampering_is_named(client: Any, database_url: str, how: str) -> None:
    await _activity(client)
    records = await _records(database_url)
    victim = records[len(records) // 2]
    other = records[len(records) // 2 + 1]
    if how == "edit":
        statement = (
            update(AuditRecord)
            .where(AuditRecord.id == victim.id)
            .values(outcome="rejected" if victim.outcome == "success" else "success")
        )
        expected_id = victim.id
    elif how == "delete":
        statement = delete(AuditRecord).where(AuditRecord.id == victim.id)
        expected_id = other.id
    elif how == "reorder":  # swap two records' contents in place
        statement = (
            update(AuditRecord)
            .where(AuditRecord.id == victim.id)
            .values(action=other.action, detail=other.detail, resource=other.resource)
        )
        expected_id = victim.id
    else:
        statement = delete(AuditRecord).where(AuditRecord.id == records[-1].id)
        expected_id = None
    _, breaks = await _tamper(database_url, statement)
    assert len(breaks) == 1
    assert breaks[0].record_id == expected_id, breaks


def test_cli_verify_ok_then_broken(database_url: str, tmp_path: Any) -> None:
    ok = _cli_verify(database_url, tmp_path)
    assert ok.exit_code == 0, ok.output
    # the seeded records were committed with no server to seal them: verify seals them first
    assert ok.output.startswith("sealed ") and "\nOK: " in ok.output, ok.output
    records = asyncio.run(_records(database_url))
    asyncio.run(
        _tamper(database_url, update(AuditRecord).where(AuditRecord.id == records[1].id).values(actor="someone-else"))
    )
    broken = _cli_verify(database_url, tmp_path)
    assert broken.exit_code == 1
    assert f"id={records[1].id}" in broken.output and "篡改" in broken.output


@pytest.mark.anyio
async def test_the_database_keeps_the_audit_log_append_only(database_url: str) -> None:
    """Nothing the app's database user sends can change or delete an audit record (issue 14, finding 1): only the
    sealer's one step — giving an unsealed record its place in the chain — is let through."""
    from sqlalchemy.exc import DBAPIError

    records = await _records(database_url)  # sealed by _records
    engine = create_engine(database_url)
    maker = session_factory(engine)
    sealed = records[0]
    try:
        attempts = [
            update(AuditRecord).where(AuditRecord.id == sealed.id).values(actor="someone-else"),
            update(AuditRecord).where(AuditRecord.id == sealed.id).values(hash="0" * 64),
            delete(AuditRecord).where(AuditRecord.id == sealed.id),
            delete(AuditRecord),
        ]
        async with session_scope(maker) as session:  # an unsealed record: its content is as fixed as a sealed one's
            await append(session, AuditEntry(action="test.unsealed", tenant_id=1, actor="someone"))
        async with maker() as session:
            fresh = await session.scalar(select(AuditRecord.id).where(AuditRecord.action == "test.unsealed"))
        attempts.append(update(AuditRecord).where(AuditRecord.id == fresh).values(outcome="rejected"))
        for attempt in attempts:
            with pytest.raises(DBAPIError, match="append-only"):
                async with session_scope(maker) as session:
                    await session.execute(attempt)
        if engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="append-only"):
                async with session_scope(maker) as session:
                    await session.execute(text("TRUNCATE audit_log CASCADE"))
        async with maker() as session:  # the sealer's step still goes through, and the chain is intact
            await seal(maker)
            checked, breaks = await verify(session)
        assert checked > len(records) and breaks == []
    finally:
        await engine.dispose()
