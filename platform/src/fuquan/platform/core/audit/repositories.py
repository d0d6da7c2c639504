"""All SQL of the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.audit.models import AuditChainHead, AuditRecord
from fuquan.platform.core.db import conflict_insert

_INSERT_RECORD = insert(
    cast(Table, AuditRecord.__table__)
)  # Core, not the unit of work: cached, and no identity to keep

GENESIS_HASH = "0" * 64
_LOCKED_HEADS = "fuquan.audit.locked_heads"  # session.info: (transaction, {chain: head})


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_head(self, chain: int) -> AuditChainHead:
        """The chain's head, locked for the rest of the transaction.

        The first call in a transaction takes the lock (a row lock on PostgreSQL, the write
        lock on SQLite) by touching the row; later calls in the same transaction reuse the
        loaded head, so a transaction appending many records issues no further SQL for it.
        """
        transaction = self.session.sync_session.get_transaction()
        info = self.session.sync_session.info
        owner, cache = info.get(_LOCKED_HEADS, (None, {}))
        if owner is not transaction:
            cache = {}
            info[_LOCKED_HEADS] = (transaction, cache)
        head = cache.get(chain)
        if head is not None:
            return head
        if not await self._touch(chain):
            # a new chain: its genesis head, unless a concurrent first append has just created it (then
            # this waits for that transaction and yields); either way the row exists, so touch it again
            genesis = conflict_insert(self.session, AuditChainHead).values(chain=chain, seq=0, hash=GENESIS_HASH)
            await self.session.execute(genesis.on_conflict_do_nothing())
            await self._touch(chain)
        head = await self.session.get_one(AuditChainHead, chain, populate_existing=True)
        cache[chain] = head
        return head

    async def _touch(self, chain: int) -> bool:
        """Lock the chain's head row by a no-op UPDATE; False if the chain has no head yet."""
        locked = await self.session.execute(
            update(AuditChainHead).where(AuditChainHead.chain == chain).values(seq=AuditChainHead.seq)
        )
        return bool(locked.rowcount)  # type: ignore[attr-defined]

    async def add(self, values: dict[str, Any]) -> None:
        """Write an unsealed record in the caller's transaction: one plain INSERT (a record is never read back
        or changed by the request that writes it, so it needs no place in the session)."""
        await self.session.execute(_INSERT_RECORD, values)

    async def unsealed_chains(self) -> list[int]:
        result = await self.session.scalars(select(AuditRecord.chain).where(AuditRecord.seq.is_(None)).distinct())
        return sorted(result)

    async def unsealed(self, chain: int, limit: int) -> list[AuditRecord]:
        """The chain's committed records still to seal, oldest first (read after its head is locked)."""
        result = await self.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.chain == chain, AuditRecord.seq.is_(None))
            .order_by(AuditRecord.id)
            .limit(limit)
        )
        return list(result)

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

    async def records(self, chain: int, *, up_to: int, batch: int = 5000) -> AsyncIterator[AuditRecord]:
        """The chain's sealed records in chain order up to sequence ``up_to``, streamed in batches."""
        last_seq = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.chain == chain, AuditRecord.seq > last_seq, AuditRecord.seq <= up_to)
                    .order_by(AuditRecord.seq)
                    .limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            last_seq = rows[-1].seq or 0
