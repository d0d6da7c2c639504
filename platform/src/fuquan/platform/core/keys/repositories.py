"""All SQL about data keys, and the batched reads and compare-and-set writes of re-encryption."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, Table, and_, bindparam, case, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.db import conflict_insert
from fuquan.platform.core.keys.models import DataKey
from fuquan.platform.core.tenancy import OfTenant


class DataKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_tenant(self, scope: OfTenant) -> list[DataKey]:
        found = await self.session.scalars(
            select(DataKey).where(DataKey.tenant_id == scope.tenant_id).order_by(DataKey.key_id)
        )
        return list(found)

    async def all(self) -> list[DataKey]:
        return list(await self.session.scalars(select(DataKey).order_by(DataKey.tenant_id, DataKey.key_id)))

    async def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Keys whose (tenant, key id) is already taken are left as they are: of two processes creating a tenant's
        first keys at once, one set wins and both then read it."""
        statement = conflict_insert(self.session, DataKey).on_conflict_do_nothing(
            index_elements=["tenant_id", "key_id"]
        )
        await self.session.execute(statement, list(rows))

    async def set_state(self, scope: OfTenant, key_id: int, state: str, now: datetime) -> None:
        await self.session.execute(
            update(DataKey)
            .where(DataKey.tenant_id == scope.tenant_id, DataKey.key_id == key_id)
            .values(state=state, changed_at=now)
        )

    async def rewrap(self, key: DataKey, master_id: str, wrapped: bytes, now: datetime) -> bool:
        """Store ``key`` wrapped anew, unless another rotation got there first (then False)."""
        result = await self.session.execute(
            update(DataKey)
            .where(DataKey.tenant_id == key.tenant_id, DataKey.key_id == key.key_id, DataKey.master_id == key.master_id)
            .values(master_id=master_id, wrapped=wrapped, changed_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    # -- the encrypted columns of other features' tables (re-encryption) -------------------------------------

    async def holds_rows(self, table: Table, scope: OfTenant) -> bool:
        return bool(await self.session.scalar(select(exists().where(table.c.tenant_id == scope.tenant_id))))

    async def batch(
        self, table: Table, scope: OfTenant, columns: Sequence[str], after_id: int, size: int
    ) -> list[Mapping[str, Any]]:
        """The next ``size`` rows of the tenant after ``after_id``, by id: their id and ``columns``."""
        wanted = [table.c.id, *(table.c[name] for name in columns)]
        rows = await self.session.execute(
            select(*wanted)
            .where(table.c.tenant_id == scope.tenant_id, table.c.id > after_id)
            .order_by(table.c.id)
            .limit(size)
        )
        return [dict(row._mapping) for row in rows]

    async def replace(self, table: Table, columns: Sequence[str], changes: Sequence[Mapping[str, Any]]) -> None:
        """Each row's ``columns`` set to ``new_<column>`` where they still hold ``old_<column>``: a row the app
        changed in the meantime is left alone, and the next pass finds it."""
        if not changes:
            return
        unchanged = [table.c[name].is_not_distinct_from(bindparam(f"old_{name}")) for name in columns]  # NULLs too
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"), and_(*unchanged))
            .values({name: bindparam(f"new_{name}") for name in columns})
        )
        await self.session.execute(statement, list(changes))

    async def by_key(self, table: Table, scope: OfTenant, column: str) -> dict[int | None, int]:
        """How many of the tenant's values in ``column`` each data key encrypted (None: format 1), counted from the
        ciphertexts' headers in SQL; NULLs are not counted."""
        value = table.c[column]
        format_2 = func.substr(value, 1, 1) == literal(b"\x02", LargeBinary)
        header = case((format_2, func.substr(value, 1, 5)), else_=func.substr(value, 1, 1))
        formats = await self.session.execute(
            select(header, func.count())
            .where(table.c.tenant_id == scope.tenant_id, value.is_not(None))
            .group_by(header)
        )
        counts: dict[int | None, int] = {}
        for head, count in formats.tuples():
            key = int.from_bytes(bytes(head)[1:5], "big") if len(bytes(head)) == 5 else None
            counts[key] = counts.get(key, 0) + int(count)
        return counts
