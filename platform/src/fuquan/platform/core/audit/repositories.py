"""All SQL of the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.audit.models import AuditChainHead, AuditRecord

GENESIS_HASH = "0" * 64


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_head(self, chain: int) -> AuditChainHead:
        """Take the chain's write lock (a row lock on PostgreSQL, the write lock on SQLite)."""
        bumped = await self.session.execute(
            update(AuditChainHead).where(AuditChainHead.chain == chain).values(seq=AuditChainHead.seq + 1)
        )
        if bumped.rowcount == 0:  # type: ignore[attr-defined]
            head = AuditChainHead(chain=chain, seq=1, hash=GENESIS_HASH)
            self.session.add(head)
            await self.session.flush()
            return head
        head = await self.session.get_one(AuditChainHead, chain, populate_existing=True)
        return head

    async def append(self, record: AuditRecord, head: AuditChainHead) -> None:
        self.session.add(record)
        head.hash = record.hash
        await self.session.flush()

    async def chains(self) -> list[int]:
        result = await self.session.scalars(select(AuditChainHead.chain).order_by(AuditChainHead.chain))
        return list(result)

    async def head(self, chain: int) -> AuditChainHead | None:
        return await self.session.get(AuditChainHead, chain)

    async def records(self, chain: int, batch: int = 5000) -> AsyncIterator[AuditRecord]:
        """The chain in storage order (by id), streamed in batches."""
        last_id = 0
        while True:
            rows = list(
                await self.session.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.chain == chain, AuditRecord.id > last_id)
                    .order_by(AuditRecord.id)
                    .limit(batch)
                )
            )
            if not rows:
                return
            for row in rows:
                yield row
            last_id = rows[-1].id

    async def list_for_tenant(self, tenant_id: int, limit: int, offset: int) -> list[AuditRecord]:
        result = await self.session.scalars(
            select(AuditRecord)
            .where(AuditRecord.tenant_id == tenant_id)
            .order_by(AuditRecord.seq.desc())
            .limit(limit)
            .offset(offset)
        )
        return list(result)
