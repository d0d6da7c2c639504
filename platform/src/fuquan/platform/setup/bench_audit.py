"""``fuquan bench audit``: how fast the keyed audit chain is sealed and verified, and whether each of the six ways
of rewriting the log is caught where it happened.

``records`` audit records are written to the chains of both tenants as requests write them (unsealed, many per
transaction), sealed as the serving processes' sealers do, and a signed checkpoint of each head is written. Then
each rewrite in ``TAMPERINGS`` is made as a database superuser would (the append-only triggers switched off, no
audit key), ``verify`` is run on what that transaction sees, and the transaction is rolled back — so every rewrite
starts from the same intact log. A rewrite counts as *named* when verify reports exactly one break, at the record
or checkpoint the scenario says.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.audit.checkpoints import CheckpointStore, write_checkpoints
from fuquan.platform.core.audit.keys import AuditKeys
from fuquan.platform.core.audit.models import AuditChainHead, AuditRecord
from fuquan.platform.core.audit.services import AuditEntry, append, canonical, seal, verify
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.setup.benchkit import bench_database, seed_database

BENCH_AUDIT_KEY = "fuquan-bench-audit-key"
GUESSED_KEY = "fuquan-demo-secret"  # what someone without the audit key tries instead


@dataclass(frozen=True, slots=True)
class Tampering:
    """A rewrite of one chain, and where verify must name it."""

    statements: list[Any]
    record_id: int | None  # the record verify must name (None: a place past the last record)
    by_checkpoint: bool  # whether only a checkpoint can catch it


def recomputed(records: list[AuditRecord], start: int, mac: Callable[[bytes], str], *, keyed: bool) -> list[Any]:
    """What someone without the audit key does after editing ``records[start]``: recompute its hash and every later
    one with ``mac`` (plain SM3, or HMAC under a guessed key) and move the chain's head to the new last hash."""
    statements: list[Any] = []
    prev_hash = records[start].prev_hash or ""
    for record in records[start:]:
        hashed = mac(prev_hash.encode() + canonical(record))
        values: dict[str, Any] = {"prev_hash": prev_hash, "hash": hashed, "outcome": record.outcome}
        if not keyed:
            values["hash_key"] = None
        statements.append(update(AuditRecord).where(AuditRecord.id == record.id).values(**values))
        prev_hash = hashed
    statements.append(update(AuditChainHead).where(AuditChainHead.chain == records[-1].chain).values(hash=prev_hash))
    return statements


def _flip(record: AuditRecord) -> str:
    return "rejected" if record.outcome == "success" else "success"


def _edit_and_recompute(records: list[AuditRecord], start: int, mac: Callable[[bytes], str], keyed: bool) -> list[Any]:
    edited = list(records)
    edited[start] = AuditRecord(**{**_columns(records[start]), "outcome": _flip(records[start])})
    return recomputed(edited, start, mac, keyed=keyed)


def _columns(record: AuditRecord) -> dict[str, Any]:
    return {column.key: getattr(record, column.key) for column in AuditRecord.__table__.columns}


REWRITES = (
    "edit", "delete", "reorder", "truncate", "edit_and_recompute (guessed key)", "edit_and_recompute (unkeyed SM3)",
    "edit_and_recompute (unkeyed SM3, from the first record)", "truncate_and_move_head",
)  # fmt: skip


def tamperings(records: list[AuditRecord]) -> dict[str, Tampering]:
    """Every rewrite of the sealed chain ``records`` (in chain order, at least 4, checkpointed at its head)."""
    middle = len(records) // 2
    victim, other, kept = records[middle], records[middle + 1], records[-3]
    guessed = AuditKeys(GUESSED_KEY)
    cut = [delete(AuditRecord).where(AuditRecord.id.in_([records[-1].id, records[-2].id]))]
    return {
        "edit": Tampering([update(AuditRecord).where(AuditRecord.id == victim.id).values(outcome=_flip(victim))],
                          victim.id, False),
        "delete": Tampering([delete(AuditRecord).where(AuditRecord.id == victim.id)], other.id, False),
        "reorder": Tampering([  # two records exchange their places
            update(AuditRecord).where(AuditRecord.id == victim.id).values(seq=-1),
            update(AuditRecord).where(AuditRecord.id == other.id).values(seq=victim.seq),
            update(AuditRecord).where(AuditRecord.id == victim.id).values(seq=other.seq),
        ], other.id, False),
        "truncate": Tampering(cut, None, False),
        "edit_and_recompute (guessed key)": Tampering(
            _edit_and_recompute(records, middle, guessed.mac, keyed=True), victim.id, False),
        "edit_and_recompute (unkeyed SM3)": Tampering(
            _edit_and_recompute(records, middle, sm3_hex, keyed=False), victim.id, False),
        "edit_and_recompute (unkeyed SM3, from the first record)": Tampering(
            _edit_and_recompute(records, 0, sm3_hex, keyed=False), records[-1].id, True),
        "truncate_and_move_head": Tampering([
            *cut, update(AuditChainHead).where(AuditChainHead.chain == kept.chain).values(seq=kept.seq, hash=kept.hash),
        ], None, True),
    }  # fmt: skip


async def triggers_off(session: AsyncSession) -> None:
    """For the rest of the transaction, as a database superuser (PostgreSQL) or whoever holds the file (SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        await session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        await session.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))


async def _benchmark(url: str, records: int, checkpoints_dir: Path) -> dict[str, Any]:
    engine = create_engine(url)
    maker = session_factory(engine)
    keys = AuditKeys(BENCH_AUDIT_KEY)
    store = CheckpointStore.at(str(checkpoints_dir))
    try:
        await seal(maker, keys)  # the seed's own records
        started = time.perf_counter()
        for first in range(0, records, 500):
            async with session_scope(maker) as session:
                for index in range(first, min(first + 500, records)):
                    entry = AuditEntry(action="bench.action", tenant_id=1 + index % 2, actor=f"clerk{index % 97}",
                                       resource=f"case/{index}", detail={"n": index})  # fmt: skip
                    await append(session, entry)
        written = time.perf_counter() - started
        started = time.perf_counter()
        sealed = await seal(maker, keys)
        sealing = time.perf_counter() - started
        await write_checkpoints(maker, keys, store)
        found, unreadable = await store.read()
        started = time.perf_counter()
        async with maker() as session:
            checked, breaks = await verify(session, keys, found, unreadable)
        verifying = time.perf_counter() - started
        if breaks:
            raise RuntimeError(f"the intact log did not verify: {breaks}")
        async with maker() as session:
            chain = list(await session.scalars(select(AuditRecord).where(AuditRecord.chain == 1)
                                               .order_by(AuditRecord.seq)))  # fmt: skip
        results = []
        for name, tampering in tamperings(chain).items():
            async with maker() as session, session.begin():
                await triggers_off(session)
                for statement in tampering.statements:
                    await session.execute(statement)
                _, found_breaks = await verify(session, keys, found, unreadable)
                await session.rollback()
            named = (
                len(found_breaks) == 1
                and found_breaks[0].record_id == tampering.record_id
                and (found_breaks[0].checkpoint is not None) == tampering.by_checkpoint
            )
            caught = found_breaks[0] if found_breaks else None
            results.append({
                "rewrite": name, "detected": bool(found_breaks), "named_where_it_happened": named,
                "at": None if caught is None else (caught.checkpoint or _place(caught.record_id, caught.seq)),
                "problem": None if caught is None else caught.problem,
            })  # fmt: skip
        return {
            "database": engine.dialect.name,
            "records": checked,
            "written_per_second": round(records / written),
            "sealed": sealed,
            "sealed_per_second": round(sealed / sealing),
            "verified_per_second": round(checked / verifying),
            "checkpoints": sum(len(each) for each in found.values()),
            "rewrites_detected": f"{sum(1 for r in results if r['detected'])} of {len(results)}",
            "rewrites_named_where_they_happened": f"{sum(1 for r in results if r['named_where_it_happened'])} of "
            f"{len(results)}",
            "rewrites": results,
        }
    finally:
        await engine.dispose()


def _place(record_id: int | None, seq: int | None) -> str:
    return f"record id={record_id} seq={seq}" if record_id is not None else f"seq={seq}"


def run_audit_benchmark(database_url: str, *, records: int, data_dir: Path) -> dict[str, Any]:
    from fuquan.platform.migrations.runner import upgrade

    with bench_database(database_url, data_dir, "audit") as database:
        upgrade(database)
        asyncio.run(seed_database(database))
        return asyncio.run(_benchmark(database, records, data_dir / "audit-checkpoints"))
