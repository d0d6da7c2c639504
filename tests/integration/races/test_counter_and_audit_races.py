"""Rows created on first use, from two connections at once: the receipt counter of a unit's day and
the head of an audit chain as two sealers reach it. Each transaction holds its row a moment, so on PostgreSQL the other
really waits on the uncommitted insert (SQLite serialises the two writers)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

import anyio
import pytest
from racing import (
    HOLD_SECONDS,
    ROUNDS,
    TOWN,
    at_once,
    no_server_errors,
    replicas,
    staggered,
    statuses,
    two_connections,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.cases.repositories import ReceiptCounterRepository
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.audit.services import AuditEntry, append, seal, seal_chain, verify
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.models import Tenant
from helpers import AUDIT_KEYS, NINGXIA

pytestmark = pytest.mark.anyio


async def test_first_receipt_of_the_day_from_two_connections(database_url: str) -> None:
    async def take(maker: async_sessionmaker[AsyncSession], day: date) -> int:
        async with maker() as session, session.begin():
            sequence = await ReceiptCounterRepository(session).take(NINGXIA, TOWN, day)
            await anyio.sleep(HOLD_SECONDS)
            return sequence

    async with two_connections(database_url) as (one, two):
        for attempt in range(ROUNDS):
            day = date(2030, 1, 1) + timedelta(days=attempt)  # a day no case has reached yet
            sequences = await staggered(take(one, day), take(two, day))
            assert set(sequences) == {1, 2}, sequences


async def test_first_records_of_an_audit_chain_sealed_from_two_connections(database_url: str) -> None:
    """A new chain's first records sealed by two processes' sealers at once: each record sealed once, in order
    (the second sealer waits for the head the first creates, then finds nothing left to seal)."""

    async def seal_holding(maker: async_sessionmaker[AsyncSession], chain: int) -> int:
        async with maker() as session, session.begin():
            sealed = await seal_chain(session, chain, AUDIT_KEYS)
            await anyio.sleep(HOLD_SECONDS)
            return sealed

    async with two_connections(database_url) as (one, two):
        for attempt in range(ROUNDS):
            async with session_scope(one) as session:
                tenant = Tenant(code=f"9{attempt}", name=f"测试租户{attempt}", created_at=utcnow())
                session.add(tenant)
            async with session_scope(two) as session:
                for action in ("test.first", "test.second"):
                    await append(session, AuditEntry(action=action, tenant_id=tenant.id, actor="test"))
            counts = await staggered(seal_holding(one, tenant.id), seal_holding(two, tenant.id))
            assert sorted(counts) == [0, 2], counts
            async with one() as session:
                chained = await session.execute(
                    select(AuditRecord.action, AuditRecord.seq).where(AuditRecord.chain == tenant.id)
                )
                assert sorted(chained.tuples(), key=lambda row: row[1]) == [("test.first", 1), ("test.second", 2)]
        async with one() as session:
            checked, breaks = await verify(session, AUDIT_KEYS)
    assert checked > 0 and breaks == []


async def test_failed_logins_at_two_replicas_start_the_anonymous_chain(settings: Settings, database_url: str) -> None:
    """Failed logins with unknown usernames are audited on chain 0, which the first one creates."""
    with replicas(settings) as (one, two):
        answers = []
        for attempt in range(ROUNDS):
            answers += await at_once(
                partial(one.post, "/api/v1/auth/token", json={"username": f"nobody{attempt}", "password": "x" * 12}),
                partial(two.post, "/api/v1/auth/token", json={"username": f"noone{attempt}", "password": "y" * 12}),
            )
    no_server_errors(answers)
    assert statuses(answers) == {401: 2 * ROUNDS}
    engine = create_engine(database_url)
    await seal(session_factory(engine), AUDIT_KEYS)
    async with session_factory(engine)() as session:
        rejected = await session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.chain == 0))
        assert rejected == 2 * ROUNDS
        assert (await verify(session, AUDIT_KEYS))[1] == []
    await engine.dispose()
