"""Receipt numbers stay unique when many front desks open cases at the same moment."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import cast

import anyio
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.repositories import ReceiptCounterRepository
from fuquan.platform.cases.services.context import CaseContext
from fuquan.platform.cases.services.partners import reserve_sequence
from fuquan.platform.cases.services.receipts import QUERY_CODE_ALPHABET, new_query_code, receipt_no
from fuquan.platform.core.db import create_engine, own_session, session_factory, session_scope
from fuquan.tenants.models import Tenant
from fuquan.tenants.scope import whole_tenant

pytestmark = pytest.mark.anyio


async def test_concurrent_sequences_are_unique_and_gapless(database_url: str) -> None:
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with maker() as session:
        scope = whole_tenant((await session.scalars(select(Tenant).where(Tenant.code == "64"))).one())
    day, got = date(2026, 11, 22), []

    async def open_one() -> None:
        async with session_scope(maker) as session:  # each in its own transaction, as requests would be
            got.append(await ReceiptCounterRepository(session).take(scope, "640202001", day))

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(open_one)
    async with session_scope(maker) as session:
        other_unit = await ReceiptCounterRepository(session).take(scope, "640202002", day)
    await engine.dispose()
    assert sorted(got) == list(range(1, 21)) and other_unit == 1


async def test_an_open_intake_does_not_hold_up_the_next_receipt_number(database_url: str, backend: str) -> None:
    """On PostgreSQL the number is taken in a short transaction of its own: an intake whose transaction is still
    open (asking, writing, committing) does not make the unit's next intake wait for its commit, and a number
    whose intake then fails stays used, like a spoiled slip. On SQLite the request holds the write lock anyway,
    so the number is taken in its own transaction and goes back with it."""
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with maker() as session:
        scope = whole_tenant((await session.scalars(select(Tenant).where(Tenant.code == "64"))).one())
    day = date(2026, 11, 23)

    def context(session: AsyncSession) -> CaseContext:
        partners = SimpleNamespace(session_maker=maker)
        return cast(
            CaseContext,
            SimpleNamespace(
                session=session, actor=SimpleNamespace(scope=scope), session_maker=maker, partners=partners
            ),
        )

    async with own_session(maker, writes=True) as first, first.begin():
        taken = await reserve_sequence(context(first), "640202001", day, before_calls=False)
        if backend == "postgresql":
            with anyio.fail_after(5):  # held up, this would wait until the first transaction ends
                async with own_session(maker, writes=True) as second, second.begin():
                    following = await reserve_sequence(context(second), "640202001", day, before_calls=False)
            assert (taken, following) == (1, 2)
        await first.rollback()  # the first intake fails
    async with own_session(maker, writes=True) as third, third.begin():
        after = await reserve_sequence(context(third), "640202001", day, before_calls=False)
    await engine.dispose()
    assert after == (3 if backend == "postgresql" else 1)


def test_formats() -> None:
    assert receipt_no("640202001001", date(2026, 3, 2), 7) == "640202001001-20260302-0007"
    code = new_query_code()
    assert len(code) == 6 and set(code) <= set(QUERY_CODE_ALPHABET) and not set(code) & set("01OIL")
