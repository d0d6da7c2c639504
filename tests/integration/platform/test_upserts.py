"""INSERT … ON CONFLICT on the intake path is compiled once and then served from SQLAlchemy's statement cache
(the dialects' own ON CONFLICT construct has no cache key, so it was compiled on every request), and still
does what it did: the receipt counter counts on, an applicant comes back as a loaded row with its defaults."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, event, func, select
from sqlalchemy.engine.interfaces import CacheStats

from fuquan.platform.cases.models import Applicant, Case, ReceiptCounter
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository, ReceiptCounterRepository
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.inserts import NewRow, insert_together
from fuquan.platform.core.upserts import column_defaults
from fuquan.tenants.models import Tenant
from fuquan.tenants.scope import whole_tenant

pytestmark = pytest.mark.anyio


def _applicant(tenant_id: int, number: int) -> Applicant:
    return Applicant(
        tenant_id=tenant_id, id_index=f"index-{number}", id_cipher=b"c", id_masked="6401**********0011",
        name_cipher=b"n", name_masked="张*", created_at=datetime(2026, 12, 6, tzinfo=UTC),
    )  # fmt: skip


async def test_upserts_are_compiled_once_and_still_count(database_url: str) -> None:
    engine = create_engine(database_url)
    inserts: list[Any] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _seen(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            inserts.append(context.cache_hit is CacheStats.CACHE_HIT)

    try:
        async with session_factory(engine)() as session, session.begin():
            tenant = (await session.scalars(select(Tenant).order_by(Tenant.id))).first()
            assert tenant is not None
            scope, tenant_id = whole_tenant(tenant), tenant.id
            counter = ReceiptCounterRepository(session)
            day = date(2026, 12, 7)
            taken = [await counter.take(scope, "640202001", day) for _ in range(3)]
            applicants = ApplicantRepository(session)
            first = await applicants.add(scope, _applicant(tenant_id, 1))
            second = await applicants.add(scope, _applicant(tenant_id, 2))
            again = await applicants.add(scope, _applicant(tenant_id, 1))  # taken: the row that holds the number
            stored = await session.scalar(select(ReceiptCounter.last).where(ReceiptCounter.day == day))
    finally:
        await engine.dispose()

    assert taken == [1, 2, 3] and stored == 3
    assert isinstance(first, Applicant) and first.id and first.name_masked == "张*"
    assert second.id != first.id and again.id == first.id
    # the first of each statement is compiled, every later one comes from the cache (not "no key")
    assert inserts == [False, True, True, False, True, True]


async def test_a_case_inserted_through_the_compiled_statement_gets_its_column_defaults(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            tenant = (await session.scalars(select(Tenant).order_by(Tenant.id))).first()
            assert tenant is not None
            scope, tenant_id = whole_tenant(tenant), tenant.id
            applicant = await ApplicantRepository(session).add(scope, _applicant(tenant_id, 9))
            case = Case(
                tenant_id=tenant_id, receipt_no="640202001-20261207-0001", query_code="ABCDEF", item_code="HRSS-01",
                catalog_edition=1, applicant_id=applicant.id, accepting_unit="640202001", status="draft",
                created_by=1, created_at=datetime(2026, 12, 7, tzinfo=UTC),
            )  # fmt: skip
            file, created = await CaseRepository(session).add(scope, case, applicant, [], None)
    finally:
        await engine.dispose()
    assert created
    assert (file.case.version, file.case.trace_length, file.case.form, file.case.promised_days) == (1, 1, {}, 0)


async def test_rows_inserted_together_get_their_column_defaults_and_a_sql_default_must_be_given(
    database_url: str,
) -> None:
    """``insert_together``: on PostgreSQL one statement for an audit record and a staff row's worth of columns;
    a column left out gets its Python-side default (``detail``), and one whose default is SQL is refused."""
    engine = create_engine(database_url)
    now = datetime(2026, 12, 7, tzinfo=UTC)
    record = {"chain": 0, "tenant_id": None, "occurred_at": now, "actor": "t", "actor_id": None, "role": None,
              "unit": None, "action": "test.together", "resource": None, "purpose": None, "outcome": "success",
              "request_id": None}  # fmt: skip
    audit_log = cast(Table, AuditRecord.__table__)
    try:
        async with session_factory(engine)() as session, session.begin():
            await insert_together(session, [NewRow(audit_log, {**record, "actor": "first"}),
                                             NewRow(audit_log, {**record, "actor": "second"})])  # fmt: skip
            rows = (await session.execute(
                select(AuditRecord.actor, AuditRecord.detail).where(AuditRecord.action == "test.together")
            )).all()  # fmt: skip
    finally:
        await engine.dispose()
    assert sorted(rows) == [("first", {}), ("second", {})]

    with_sql_default = Table("t", MetaData(), Column("id", Integer, primary_key=True),
                             Column("at", DateTime, default=func.now()))  # fmt: skip
    with pytest.raises(ValueError, match=r"give t\.at explicitly"):
        column_defaults(with_sql_default, {"id": 1})
