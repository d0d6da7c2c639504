"""Receipt numbers stay unique when many front desks open cases at the same moment."""

from __future__ import annotations

from datetime import date

import anyio
import pytest
from sqlalchemy import select

from fuquan.platform.cases.repositories import ReceiptCounterRepository
from fuquan.platform.cases.services.receipts import QUERY_CODE_ALPHABET, new_query_code, receipt_no
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.tenants.models import Tenant

pytestmark = pytest.mark.anyio


async def test_concurrent_sequences_are_unique_and_gapless(database_url: str) -> None:
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with maker() as session:
        tenant_id = (await session.scalars(select(Tenant.id).where(Tenant.code == "64"))).one()
    day, got = date(2026, 11, 22), []

    async def open_one() -> None:
        async with session_scope(maker) as session:  # each in its own transaction, as requests would be
            got.append(await ReceiptCounterRepository(session).take(tenant_id, "640202001", day))

    async with anyio.create_task_group() as group:
        for _ in range(20):
            group.start_soon(open_one)
    async with session_scope(maker) as session:
        other_unit = await ReceiptCounterRepository(session).take(tenant_id, "640202002", day)
    await engine.dispose()
    assert sorted(got) == list(range(1, 21)) and other_unit == 1


def test_formats() -> None:
    assert receipt_no("640202001001", date(2026, 3, 2), 7) == "640202001001-20260302-0007"
    code = new_query_code()
    assert len(code) == 6 and set(code) <= set(QUERY_CODE_ALPHABET) and not set(code) & set("01OIL")
