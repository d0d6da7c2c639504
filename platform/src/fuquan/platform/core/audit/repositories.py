"""All SQL of the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.audit.models import AuditChainHead, AuditRecord
from fuquan.platform.core.db import conflict_insert
from fuquan.platform.core.inserts import NewRow, insert_together

_AUDIT_LOG = cast(Table, AuditRecord.__table__)
_HEADS = cast(Table, AuditChainHead.__table__)
_THE_HEAD = update(_HEADS).where(_HEADS.c.chain == bindparam("head_chain"))  # a column's name is reserved
_LOCK_HEAD = _THE_HEAD.values(seq=_HEADS.c.seq).returning(_HEADS.c.seq, _HEADS.c.hash)
_MOVE_HEAD = _THE_HEAD.values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
_UNSEALED = (
    select(_AUDIT_LOG)
    .where(_AUDIT_LOG.c.chain == bindparam("chain"), _AUDIT_LOG.c.seq.is_(None))
    .order_by(_AUDIT_LOG.c.id)
    .limit(bindparam("limit"))
)
_SEAL_RECORD = (
    update(_AUDIT_LOG)
    .where(_AUDIT_LOG.c.id == bindparam("record_id"))
    .values(
        seq=bindparam("sealed_seq"),
        prev_hash=bindparam("sealed_prev_hash"),
        hash=bindparam("sealed_hash"),
        hash_key=bindparam("sealed_hash_key"),
    )
)

GENESIS_HASH = "0" * 64


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_head(self, chain: int) -> tuple[int, str]:
        """The chain head's (seq, hash), its row locked for the rest of the transaction (a row lock on
        PostgreSQL, the write lock on SQLite) by a no-op UPDATE that returns it: one round trip."""
        head = (await self.session.execute(_LOCK_HEAD, {"head_chain": chain})).one_or_none()
        if head is None:
            # a new chain: its genesis head, unless a concurrent first sealer has just created it (then this
            # waits for that transaction and yields); either way the row exists, so lock it again
            genesis = conflict_insert(self.session, AuditChainHead).values(chain=chain, seq=0, hash=GENESIS_HASH)
            await self.session.execute(genesis.on_conflict_do_nothing())
            head = (await self.session.execute(_LOCK_HEAD, {"head_chain": chain})).one()
        return int(head.seq), str(head.hash)

    async def move_head(self, chain: int, seq: int, hash_: str) -> None:
        await self.session.execute(_MOVE_HEAD, {"head_chain": chain, "head_seq": seq, "head_hash": hash_})

    async def mark_sealed(self, sealed: list[tuple[int, int, str, str, str]]) -> None:
        """Each record's place in the chain, (id, seq, prev_hash, hash, audit key id): one statement, executed for
        every record in one round trip."""
        if sealed:
            names = ("record_id", "sealed_seq", "sealed_prev_hash", "sealed_hash", "sealed_hash_key")
            await self.session.execute(_SEAL_RECORD, [dict(zip(names, row, strict=True)) for row in sealed])

    async def add(self, values: dict[str, Any], alongside: Sequence[NewRow] = ()) -> None:
        """Write an unsealed record in the caller's transaction, with ``alongside`` rows in the same statement
        where the database allows: plain INSERTs (a record is never read back or changed by the request that
        writes it, so it needs no place in the session)."""
        await insert_together(self.session, [*alongside, NewRow(_AUDIT_LOG, values)])

    async def unsealed_chains(self) -> list[int]:
        result = await self.session.scalars(select(AuditRecord.chain).where(AuditRecord.seq.is_(None)).distinct())
        return sorted(result)

    async def unsealed(self, chain: int, limit: int) -> list[Row[Any]]:
        """The chain's committed records still to seal, oldest first (read after its head is locked), as plain
        rows: the sealer changes them by one UPDATE, and keeps none of them."""
        return list(await self.session.execute(_UNSEALED, {"chain": chain, "limit": limit}))

    async def unsealed_tails(self) -> list[tuple[int, int, datetime]]:
        """(chain, records, oldest occurred_at) of the records not sealed yet."""
        rows = await self.session.execute(
            select(AuditRecord.chain, func.count(), func.min(AuditRecord.occurred_at))
            .where(AuditRecord.seq.is_(None))
            .group_by(AuditRecord.chain)
            .order_by(AuditRecord.chain)
        )
        return [(chain, int(count), oldest) for chain, count, oldest in rows.tuples()]

    async def chains(self) -> list[int]:
        result = await self.session.scalars(select(AuditChainHead.chain).order_by(AuditChainHead.chain))
        return list(result)

    async def head(self, chain: int) -> AuditChainHead | None:
        return await self.session.get(AuditChainHead, chain)

    async def heads(self) -> list[AuditChainHead]:
        return list(await self.session.scalars(select(AuditChainHead).order_by(AuditChainHead.chain)))

    async def records(self, chain: int, *, up_to: int, batch: int = 5000) -> AsyncIterator[Row[Any]]:
        """The chain's sealed records in chain order up to sequence ``up_to``, streamed in batches of plain rows
        (verifying a million records reads no ORM objects)."""
        last_seq = 0
        while True:
            rows = list(
                await self.session.execute(
                    select(_AUDIT_LOG)
                    .where(_AUDIT_LOG.c.chain == chain, _AUDIT_LOG.c.seq > last_seq, _AUDIT_LOG.c.seq <= up_to)
                    .order_by(_AUDIT_LOG.c.seq)
                    .limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            last_seq = rows[-1].seq or 0
