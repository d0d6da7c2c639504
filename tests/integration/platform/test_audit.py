"""The audit log's per-tenant chain, keyed by HMAC-SM3 under an audit key kept out of the database, with signed
checkpoints kept outside it: verify passes, and names the record or checkpoint where each of the six ways of rewriting
the log (edit, delete, reorder, truncate, edit-and-recompute, truncate-and-move-head) shows."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, text, update

from fuquan.platform.cli.main import cli
from fuquan.platform.core.audit.checkpoints import CheckpointStore, write_checkpoints
from fuquan.platform.core.audit.keys import AuditKeys
from fuquan.platform.core.audit.models import AuditChainHead, AuditRecord
from fuquan.platform.core.audit.repositories import AuditRepository
from fuquan.platform.core.audit.sealer import Sealer
from fuquan.platform.core.audit.services import (
    AuditEntry,
    append,
    canonical,
    seal,
    unsealed,
    verify,
)
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.setup.bench_audit import REWRITES, tamperings, triggers_off
from helpers import AUDIT_KEYS, TEST_AUDIT_KEY, login

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
    await seal(session_factory(engine), AUDIT_KEYS)
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


async def _tamper(database_url: str, *statements: Any, store: CheckpointStore | None = None) -> tuple[int, list[Any]]:
    """``statements`` run as someone who can switch the append-only triggers off: a database superuser (PostgreSQL),
    or whoever holds the file (SQLite) — but who has not got the audit key. What the chain and the checkpoints in
    ``store`` must then catch."""
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with session_scope(maker) as session:
        await triggers_off(session)
        for statement in statements:
            await session.execute(statement)
    checkpoints, unreadable = await store.read() if store is not None else ({}, [])
    async with maker() as session:
        result = await verify(session, AUDIT_KEYS, checkpoints, unreadable)
    await engine.dispose()
    return result


async def _checkpointed(database_url: str, tmp_path: Any) -> CheckpointStore:
    """A checkpoint of every chain's head, as the sealers write every few minutes."""
    store = CheckpointStore.at(str(tmp_path / "checkpoints"))
    engine = create_engine(database_url)
    try:
        await seal(session_factory(engine), AUDIT_KEYS)
        assert await write_checkpoints(session_factory(engine), AUDIT_KEYS, store)
    finally:
        await engine.dispose()
    return store


def _cli_audit(database_url: str, tmp_path: Any, command: str = "verify") -> Any:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_AUDIT_KEY": TEST_AUDIT_KEY}
    return CliRunner().invoke(cli, ["audit", command], env=env)


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
            checked, breaks = await verify(session, AUDIT_KEYS)
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
            tasks.start_soon(Sealer(maker, AUDIT_KEYS, interval=0.5, gather=0.05).run)
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
            checked, breaks = await verify(session, AUDIT_KEYS)
        assert checked >= 2 and breaks == []
    finally:
        await engine.dispose()


@pytest.mark.anyio
@pytest.mark.parametrize("how", REWRITES)
async def test_every_rewrite_is_named_at_its_record_or_checkpoint(
    client: Any, database_url: str, tmp_path: Any, how: str
) -> None:
    """Issue 14, finding 1: the six ways of rewriting the log (``fuquan bench audit`` makes the same ones), each
    caught where it happened — the recomputing ones three ways: under a guessed key, with the unkeyed SM3 of earlier
    releases from the edit on, and with it from the very first record (which only a checkpoint can catch)."""
    await _activity(client)
    records = await _records(database_url)
    store = await _checkpointed(database_url, tmp_path)
    every = tamperings(records)
    assert tuple(every) == REWRITES
    tampering = every[how]
    checked, breaks = await _tamper(database_url, *tampering.statements, store=store)
    assert len(breaks) == 1, breaks
    assert breaks[0].record_id == tampering.record_id, breaks
    assert (breaks[0].checkpoint is not None) == tampering.by_checkpoint, breaks
    if how == "truncate_and_move_head":
        assert breaks[0].seq == records[-3].seq + 1 and "截断" in breaks[0].problem
    untouched, _ = await _tamper(database_url, store=store)
    assert untouched == checked


@pytest.mark.anyio
async def test_a_checkpoint_edited_or_forged_is_named(client: Any, database_url: str, tmp_path: Any) -> None:
    await _activity(client)
    store = await _checkpointed(database_url, tmp_path)
    written = sorted((tmp_path / "checkpoints").rglob("*.json"))
    assert written
    checkpoint = json.loads(written[-1].read_text())
    assert checkpoint["key"] == AUDIT_KEYS.current_id and len(checkpoint["signature"]) == 64
    checkpoint["seq"] += 5  # claims a longer chain, to make the database look cut short
    written[-1].write_text(json.dumps(checkpoint))
    _, breaks = await _tamper(database_url, store=store)
    assert [(b.problem[:5], b.checkpoint is not None) for b in breaks] == [("检查点签名", True)]
    written[-1].write_text("{not json")
    _, breaks = await _tamper(database_url, store=store)
    assert len(breaks) == 1 and "无法读取" in breaks[0].problem


@pytest.mark.anyio
async def test_records_sealed_under_a_previous_audit_key_still_verify(client: Any, database_url: str) -> None:
    """Rotating the audit key: what the old key sealed verifies while the old key is given as a previous one, and
    is named (not called tampered) when it is not."""
    await _activity(client)
    await _records(database_url)
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await append(session, AuditEntry(action="test.after_rotation", tenant_id=1, actor="someone"))
        rotated = AuditKeys("the-new-audit-key", previous=[TEST_AUDIT_KEY])
        await seal(session_factory(engine), rotated)
        async with session_factory(engine)() as session:
            checked, breaks = await verify(session, rotated)
            assert breaks == [] and checked > 4
            _, breaks = await verify(session, AuditKeys("the-new-audit-key"))
        assert breaks and all("FUQUAN_PREVIOUS_AUDIT_KEYS" in b.problem for b in breaks)
    finally:
        await engine.dispose()


def test_cli_verify_ok_then_broken(database_url: str, tmp_path: Any) -> None:
    ok = _cli_audit(database_url, tmp_path)
    assert ok.exit_code == 0, ok.output
    # the seeded records were committed with no server to seal them: verify seals them first
    assert ok.output.startswith("sealed ") and "\nOK: " in ok.output, ok.output
    records = asyncio.run(_records(database_url))
    asyncio.run(
        _tamper(database_url, update(AuditRecord).where(AuditRecord.id == records[1].id).values(actor="someone-else"))
    )
    broken = _cli_audit(database_url, tmp_path)
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
            await seal(maker, AUDIT_KEYS)
            checked, breaks = await verify(session, AUDIT_KEYS)
        assert checked > len(records) and breaks == []
    finally:
        await engine.dispose()


def test_cli_checkpoint_then_verify_names_the_checkpoint_a_cut_chain_contradicts(
    database_url: str, tmp_path: Any
) -> None:
    written = _cli_audit(database_url, tmp_path, "checkpoint")
    assert written.exit_code == 0, written.output
    assert "checkpoints written to" in written.output and (tmp_path / "audit-checkpoints").is_dir()
    records = asyncio.run(_records(database_url))
    kept = records[-2]
    asyncio.run(
        _tamper(
            database_url,
            delete(AuditRecord).where(AuditRecord.id == records[-1].id),
            update(AuditChainHead).where(AuditChainHead.chain == kept.chain).values(seq=kept.seq, hash=kept.hash),
        )
    )
    broken = _cli_audit(database_url, tmp_path)
    assert broken.exit_code == 1, broken.output
    assert f"BROKEN: chain {kept.chain} at seq={kept.seq + 1}" in broken.output
    assert f"检查点 chain-{kept.chain}/{records[-1].seq}" in broken.output and "截断" in broken.output


@pytest.mark.anyio
async def test_a_serving_sealer_checkpoints_every_chain_whose_head_moved(database_url: str, tmp_path: Any) -> None:
    engine = create_engine(database_url)
    maker = session_factory(engine)
    store = CheckpointStore.at(str(tmp_path / "checkpoints"))
    try:
        async with anyio.create_task_group() as tasks:
            sealer = Sealer(maker, AUDIT_KEYS, store, interval=0.2, gather=0.01, checkpoint_every=0.2)
            tasks.start_soon(sealer.run)
            async with session_scope(maker) as session:
                await append(session, AuditEntry(action="test.checkpointed", tenant_id=1, actor="someone"))
            head = None
            for _attempt in range(50):  # up to 5 s
                await anyio.sleep(0.1)
                async with maker() as session:
                    head = await session.get(AuditChainHead, 1)
                found, _ = await store.read()
                if head is not None and [c.seq for c in found.get(1, [])][-1:] == [head.seq]:
                    break
            tasks.cancel_scope.cancel()
        assert head is not None
        found, unreadable = await store.read()
        assert unreadable == [] and found[1][-1].seq == head.seq and found[1][-1].hash == head.hash
        async with maker() as session:
            _, breaks = await verify(session, AUDIT_KEYS, found)
        assert breaks == []
    finally:
        await engine.dispose()


@pytest.mark.anyio
async def test_records_sealed_before_the_chain_was_keyed_still_verify(database_url: str) -> None:
    """An upgrade from a release with the unkeyed SM3 chain: its records keep verifying, the chain goes on keyed,
    and an unkeyed record after a keyed one is a rewrite."""
    engine = create_engine(database_url)
    maker = session_factory(engine)
    try:
        async with session_scope(maker) as session:  # what a release before migration 0010 sealed
            await append(session, AuditEntry(action="test.before_0010", tenant_id=1, actor="someone"))
            repository = AuditRepository(session)
            seq, prev_hash = await repository.lock_head(1)
            for record in await repository.unsealed(1, 1000):
                seq += 1
                hashed = sm3_hex(prev_hash.encode() + canonical(record, seq))  # the SM3 chain of earlier releases
                await session.execute(
                    text("UPDATE audit_log SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id"),
                    {"seq": seq, "prev": prev_hash, "hash": hashed, "id": record.id},
                )
                prev_hash = hashed
            await repository.move_head(1, seq, prev_hash)
        legacy = seq
        async with session_scope(maker) as session:
            for _ in range(2):
                await append(session, AuditEntry(action="test.after_0010", tenant_id=1, actor="someone"))
        await seal(maker, AUDIT_KEYS)
        records = await _records(database_url)
        assert [r.hash_key for r in records] == [None] * legacy + [AUDIT_KEYS.current_id] * (len(records) - legacy)
        checked, breaks = await _tamper(database_url)
        assert breaks == [] and checked >= len(records)
        _, breaks = await _tamper(
            database_url, update(AuditRecord).where(AuditRecord.id == records[-1].id).values(hash_key=None)
        )
        assert [(b.record_id, b.problem[:8]) for b in breaks] == [(records[-1].id, "无密钥的记录出现")]
    finally:
        await engine.dispose()
