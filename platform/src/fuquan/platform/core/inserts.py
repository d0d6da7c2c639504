"""Rows a request writes and never reads back, sent to the database together.

A step on a case writes its trace event and its audit record: two single-row INSERTs, two round trips, and
each round trip costs the serving process about as much CPU (the driver, the event loop, the socket calls) as
the rest of the statement. On PostgreSQL every row but the last is written by a data-modifying CTE of the
last row's INSERT, so they all go in one statement; SQLite has no DML in CTEs, and nothing but a function
call between it and the process: there each table's rows are one INSERT, executed for each row.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.upserts import column_defaults, compiled_upsert


@dataclass(frozen=True, slots=True)
class NewRow:
    """One row for ``table``; a column with a Python-side default may be left out."""

    table: Table
    values: Mapping[str, Any]


_SINGLE: dict[str, Any] = {}  # a plain INSERT per table, built once


async def insert_together(session: AsyncSession, rows: Sequence[NewRow]) -> None:
    """Write ``rows`` in the session's transaction, in one statement where the database allows it."""
    if not rows:  # e.g. nobody to tell
        return
    if session.bind.dialect.name != "postgresql" or len(rows) == 1:
        for table, same in groupby(rows, key=lambda row: row.table):  # a run of one table's rows: executemany
            single = _SINGLE.get(table.name)
            if single is None:
                single = _SINGLE[table.name] = insert(table)
            await session.execute(single, [column_defaults(table, row.values) for row in same])
        return
    filled = [column_defaults(row.table, row.values) for row in rows]
    shape: Hashable = tuple((row.table.name, frozenset(values)) for row, values in zip(rows, filled, strict=True))
    statement = compiled_upsert(session, ("together", shape), lambda dialect_insert: _together(dialect_insert, rows))
    parameters = {f"r{i}_{name}": value for i, values in enumerate(filled) for name, value in values.items()}
    await session.execute(statement.statement, parameters)


def _together(dialect_insert: Any, rows: Sequence[NewRow]) -> Any:
    """``WITH r0 AS (INSERT …), r1 AS (INSERT …) INSERT …``, every value a parameter named ``r{i}_{column}``."""

    def one(index: int, row: NewRow, build: Any) -> Any:
        values = column_defaults(row.table, row.values)
        return build(row.table).values({name: bindparam(f"r{index}_{name}") for name in values})

    *first, last = rows
    statement = one(len(first), last, dialect_insert)
    for index, row in enumerate(first):
        statement = statement.add_cte(one(index, row, insert).cte(f"r{index}"))
    return statement
