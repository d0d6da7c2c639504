"""办件编号 and the public query code.

Format: ``{accepting unit code}-{YYYYMMDD}-{sequence, 4+ digits}``, e.g. ``640202001001-20261122-0007``:
the unit and the local date say where and when a case entered; the sequence counts that
unit's cases of the day. The query code (查询码) printed on the receipt is 6 characters from
an alphabet without look-alikes (no 0/O, 1/I/L), so a resident can read it out on the phone.
"""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import ReceiptCounter

QUERY_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
QUERY_CODE_LENGTH = 6


def receipt_no(unit_code: str, day: date, sequence: int) -> str:
    return f"{unit_code}-{day:%Y%m%d}-{sequence:04d}"


def new_query_code() -> str:
    return "".join(secrets.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


async def next_sequence(session: AsyncSession, tenant_id: int, unit_code: str, day: date) -> int:
    """The next sequence for (unit, day): race-safe — the counter row is created at most once and
    every increment happens under its row lock (PostgreSQL) or the database write lock (SQLite)."""
    key = {"tenant_id": tenant_id, "unit_code": unit_code, "day": day}
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(ReceiptCounter).values(**key, last=0).on_conflict_do_nothing())
    result = await session.execute(
        update(ReceiptCounter)
        .where(ReceiptCounter.tenant_id == tenant_id, ReceiptCounter.unit_code == unit_code, ReceiptCounter.day == day)
        .values(last=ReceiptCounter.last + 1)
        .returning(ReceiptCounter.last)
    )
    return int(result.scalar_one())
