"""Appending to, sealing and verifying the hash chain: ``hash = HMAC-SM3(audit key, prev_hash || canonical(record))``.

The audit key is not in the database (``core.audit.keys``): whoever can rewrite the table cannot recompute the chain
after an edit, and signed checkpoints of each head kept outside the database (``core.audit.checkpoints``) catch a
chain cut short. Records sealed before the chain was keyed carry no key id and the unkeyed ``SM3`` of earlier
releases; ``verify`` accepts such records only before a chain's first keyed one.

``append`` writes a record in the caller's transaction (fail closed: the action and its record commit or
fail together) without touching the chain's head; ``seal`` — run by every process's sealer as soon as a
transaction with records commits, and at least every second — gives committed records their place in the
chain, in order, under the head's lock. Requests therefore never queue behind one another for the head.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from fuquan.platform.core.audit.checkpoints import Checkpoint, UnreadableCheckpoint
from fuquan.platform.core.audit.keys import AuditKeys
from fuquan.platform.core.audit.repositories import GENESIS_HASH, AuditRepository
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.db import on_commit, own_session
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.inserts import NewRow

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened, by whom, where; the chain fields are added on append."""

    action: str
    outcome: str = "success"
    tenant_id: int | None = None
    actor: str | None = None
    actor_id: int | None = None
    role: str | None = None
    unit: str | None = None
    resource: str | None = None
    purpose: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


_HASHED_FIELDS = (
    "chain", "seq", "tenant_id", "occurred_at", "actor", "actor_id", "role", "unit",
    "action", "resource", "purpose", "outcome", "request_id", "detail",
)  # fmt: skip


def canonical(record: Any, seq: int | None = None) -> bytes:
    """The hashed form of a record (an ``AuditRecord`` or a row of its table), with ``seq`` if given: the
    place the sealer is giving it."""
    values: dict[str, Any] = {name: getattr(record, name) for name in _HASHED_FIELDS}
    if seq is not None:
        values["seq"] = seq
    occurred: datetime = values["occurred_at"]
    values["occurred_at"] = occurred.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(keys: AuditKeys, prev_hash: str, record: Any, seq: int | None = None, key_id: str | None = None) -> str:
    """The record's keyed hash, under the key ``key_id`` (the current key when not given)."""
    return keys.mac(prev_hash.encode() + canonical(record, seq), key_id)


def unkeyed_chain_hash(prev_hash: str, record: Any) -> str:
    """The hash of a record sealed before the chain was keyed (migration 0010)."""
    return sm3_hex(prev_hash.encode() + canonical(record))


async def append(session: AsyncSession, entry: AuditEntry, *, alongside: Sequence[NewRow] = ()) -> None:
    """Append in the caller's transaction; if this fails, the caller's action fails with it. The record is
    sealed into its chain once the transaction commits. ``alongside``: rows of the same action (its trace
    event) written in the same statement where the database allows (see ``insert_together``)."""
    await AuditRepository(session).add(
        {
            "chain": entry.tenant_id or 0,
            "tenant_id": entry.tenant_id,
            "occurred_at": datetime.now(UTC),
            "actor": entry.actor,
            "actor_id": entry.actor_id,
            "role": entry.role,
            "unit": entry.unit,
            "action": entry.action,
            "resource": entry.resource,
            "purpose": entry.purpose,
            "outcome": entry.outcome,
            "request_id": entry.request_id,
            "detail": entry.detail,
        },
        alongside,
    )
    chains = session.info.get(_WAKES_SEALERS)
    if chains is None:
        chains = session.info[_WAKES_SEALERS] = set()
        on_commit(session, partial(_wake_sealers, chains))
    chains.add(entry.tenant_id or 0)


_WAKES_SEALERS = "fuquan.audit.wakes_sealers"  # session.info: the chains this transaction's records are in
_sealers: weakref.WeakSet[SealerAlarm] = weakref.WeakSet()  # every running sealer's alarm in this process


class SealerAlarm:
    """Rung whenever a transaction of this process with audit records commits, with the chains they are in."""

    def __init__(self) -> None:
        self.rung = asyncio.Event()
        self._chains: set[int] = set()

    def ring(self, chains: set[int]) -> None:
        self._chains |= chains
        self.rung.set()

    def take(self) -> set[int]:
        """The chains rung for since the last take; the alarm is reset."""
        chains, self._chains = self._chains, set()
        self.rung.clear()
        return chains


def _wake_sealers(chains: set[int]) -> None:
    for alarm in list(_sealers):
        alarm.ring(chains)


def sealer_alarm() -> SealerAlarm:
    """An alarm rung whenever a transaction with audit records commits in this process (see ``Sealer``)."""
    alarm = SealerAlarm()
    _sealers.add(alarm)
    return alarm


@event.listens_for(Session, "after_commit")
def _forget_wake(session: Session) -> None:
    session.info.pop(_WAKES_SEALERS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_wake_on_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_WAKES_SEALERS, None)


async def seal_chain(session: AsyncSession, chain: int, keys: AuditKeys, batch: int = 1000) -> int:
    """Seal up to ``batch`` of the chain's committed records, oldest first, under the current audit key; how many
    were sealed. The head's lock orders every sealer of every process; the records are read only once it is held."""
    repository = AuditRepository(session)
    seq, prev_hash = await repository.lock_head(chain)
    records = await repository.unsealed(chain, batch)
    sealed: list[tuple[int, int, str, str, str]] = []  # (record id, seq, prev_hash, hash, key id)
    for record in records:
        seq += 1
        hashed = chain_hash(keys, prev_hash, record, seq)
        sealed.append((record.id, seq, prev_hash, hashed, keys.current_id))
        prev_hash = hashed
    if sealed:
        await repository.mark_sealed(sealed)
        await repository.move_head(chain, seq, prev_hash)
    return len(sealed)


async def seal(
    session_maker: async_sessionmaker[AsyncSession],
    keys: AuditKeys,
    batch: int = 500,
    chains: Iterable[int] | None = None,
) -> int:
    """Seal the committed records of ``chains`` (every chain with some, when not given), each chain in its own
    short transaction; how many were sealed."""
    sealed = 0
    if chains is None:
        async with own_session(session_maker, writes=False) as session:
            chains = await AuditRepository(session).unsealed_chains()
    for chain in sorted(chains):
        while True:
            async with own_session(session_maker, writes=True) as session, session.begin():
                count = await seal_chain(session, chain, keys, batch)
            sealed += count
            if count < batch:
                break
    return sealed


@asynccontextmanager
async def rejections_audited(session: AsyncSession, entry: AuditEntry) -> AsyncIterator[None]:
    """Record a refused attempt even though the attempt itself writes nothing.

    On a domain error the half-done work is rolled back, the rejection is appended and
    committed on its own, and the error propagates to become the 4xx response.
    """
    try:
        yield
    except FuquanError as error:
        await session.rollback()
        detail = {**entry.detail, "reason": error.detail, "rule": error.rule, "status": error.status}
        tenant_id = entry.tenant_id or error.extra.get("audit_tenant_id")
        rejected = AuditEntry(**{**_as_dict(entry), "outcome": "rejected", "detail": detail, "tenant_id": tenant_id})
        await append(session, rejected)
        await session.commit()
        log.info("attempt_rejected", action=entry.action, rule=error.rule, status=error.status)
        raise


def _as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__slots__}


@dataclass(frozen=True, slots=True)
class ChainBreak:
    chain: int
    record_id: int | None
    seq: int | None
    problem: str
    checkpoint: str | None = None  # the checkpoint that caught it, when one did


async def verify(
    session: AsyncSession,
    keys: AuditKeys,
    checkpoints: Mapping[int, Sequence[Checkpoint]] | None = None,
    unreadable: Sequence[UnreadableCheckpoint] = (),
) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain up to its head as read first (a sealer may go on meanwhile) and hold it against the
    chain's signed checkpoints; return the number of sealed records checked and the first break per chain. Read the
    checkpoints *before* calling this: one written after the heads were read could otherwise look ahead of its chain.
    Records not sealed yet are not in a chain: see ``unsealed``."""
    repository = AuditRepository(session)
    checkpoints = checkpoints or {}
    checked = 0
    breaks: list[ChainBreak] = [
        ChainBreak(bad.chain, None, None, f"检查点文件 {bad.path} 无法读取（被改动或截断）") for bad in unreadable
    ]
    chains = sorted(set(await repository.chains()) | set(checkpoints) - {bad.chain for bad in unreadable})
    for chain in chains:
        count, broken = await _verify_chain(repository, keys, chain, checkpoints.get(chain, ()))
        checked += count
        if broken is not None:
            breaks.append(broken)
    return checked, breaks


async def _verify_chain(
    repository: AuditRepository, keys: AuditKeys, chain: int, checkpoints: Sequence[Checkpoint]
) -> tuple[int, ChainBreak | None]:
    forged = next((checkpoint for checkpoint in checkpoints if not checkpoint.signature_holds(keys)), None)
    if forged is not None:
        forgery = "检查点签名不符（检查点被伪造或改动，或签名它的审计密钥未提供）"
        return 0, ChainBreak(chain, None, forged.seq, forgery, forged.where())
    head = await repository.head(chain)
    if head is None:
        last = checkpoints[-1]
        gone = f"库中已没有这条链，而检查点记录它至序号 {last.seq}（链被整体删除）"
        return 0, ChainBreak(chain, None, last.seq, gone, last.where())
    at_seq = {checkpoint.seq: checkpoint for checkpoint in checkpoints}
    expected_prev, expected_seq, keyed = GENESIS_HASH, 1, False
    checked = 0
    async for record in repository.records(chain, up_to=head.seq):
        checked += 1
        problem = _record_problem(keys, record, expected_prev, expected_seq, keyed)
        if problem is not None:
            return checked, ChainBreak(chain, record.id, record.seq, problem)
        checkpoint = at_seq.get(expected_seq)
        if checkpoint is not None and checkpoint.hash != record.hash:
            mismatch = "记录与检查点不符（链被改写后重算）"
            return checked, ChainBreak(chain, record.id, record.seq, mismatch, checkpoint.where())
        keyed = keyed or record.hash_key is not None
        expected_prev, expected_seq = str(record.hash), expected_seq + 1
    if head.seq != expected_seq - 1 or head.hash != expected_prev:
        return checked, ChainBreak(chain, None, expected_seq, "链尾记录缺失（最后的记录被删除）")
    if checkpoints and checkpoints[-1].seq > head.seq:
        last = checkpoints[-1]
        cut = f"检查点记录链至序号 {last.seq}，库中的链只到 {head.seq}（链尾被截断，链头被移回）"
        return checked, ChainBreak(chain, None, head.seq + 1, cut, last.where())
    return checked, None


def _record_problem(keys: AuditKeys, record: Any, expected_prev: str, expected_seq: int, keyed: bool) -> str | None:
    """What is wrong with the record at this place in its chain, or None."""
    if record.seq != expected_seq:
        return f"序号应为 {expected_seq}，实为 {record.seq}（记录被删除或顺序被调换）"
    if record.prev_hash != expected_prev:
        return "前一哈希与链不符（记录被删除、插入或调换）"
    if record.hash_key is None:
        if keyed:
            return "无密钥的记录出现在有密钥的记录之后（链被不用审计密钥重算）"
        if unkeyed_chain_hash(expected_prev, record) != record.hash:
            return "记录内容与其哈希不符（记录被篡改）"
        return None
    if not keys.knows(record.hash_key):
        return f"记录由未提供的审计密钥 {record.hash_key} 封存（旧密钥请放入 FUQUAN_PREVIOUS_AUDIT_KEYS）"
    if chain_hash(keys, expected_prev, record, key_id=record.hash_key) != record.hash:
        return "记录内容与其哈希不符（记录被篡改）"
    return None


@dataclass(frozen=True, slots=True)
class UnsealedTail:
    """Committed records not yet in their chain: normal for a second or so while the sealers run."""

    chain: int
    records: int
    oldest: datetime


async def unsealed(session: AsyncSession) -> list[UnsealedTail]:
    repository = AuditRepository(session)
    return [UnsealedTail(chain, count, oldest) for chain, count, oldest in await repository.unsealed_tails()]
