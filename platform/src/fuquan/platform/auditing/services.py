"""审计查阅: the auditor (安全审计员) searches and exports the audit records of their tenant and subtree.

Reading is the auditor's alone (permission ``audit.read``; 三员分立: neither the system nor the security
administrator reads the trail of what they did), nobody changes a record here, and every search or export is
itself audited — so the auditor's reading shows in the log the next auditor reads.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.auditing.repositories import AuditReadRepository
from fuquan.platform.auditing.schemas import AuditQuery, AuditRecordRead
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import ValidationFailed
from fuquan.tenants.scope import TenantScope
from fuquan.tenants.services import get_unit

log = structlog.get_logger()

EXPORT_BATCH: Final = 1000
CSV_HEADER: Final = (
    "记录编号", "链序号", "时间", "操作人", "岗位", "单位", "动作", "对象", "目的", "结果", "请求编号", "详情",
)  # fmt: skip
# a spreadsheet runs a cell that starts with one of these as a formula (CSV injection): such a cell is quoted
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def record_read(record: AuditRecord) -> AuditRecordRead:
    return AuditRecordRead(
        id=record.id, seq=record.seq, occurred_at=record.occurred_at, actor=record.actor, role=record.role,
        unit=record.unit, action=record.action, resource=record.resource, purpose=record.purpose,
        outcome=record.outcome, request_id=record.request_id, detail=dict(record.detail or {}),
    )  # fmt: skip


def _filters(query: AuditQuery) -> dict[str, Any]:
    """The query as its audit record states it (only what was asked)."""
    shown = {
        "since": query.since.isoformat() if query.since else None,
        "until": query.until.isoformat() if query.until else None,
        "actor": query.actor,
        "unit": query.unit,
        "action": query.action,
        "outcome": query.outcome,
    }
    return {name: value for name, value in shown.items() if value is not None}


async def _checked(session: AsyncSession, actor: Actor, query: AuditQuery) -> None:
    if query.since is not None and query.until is not None and query.since >= query.until:
        raise ValidationFailed("开始时间应早于结束时间", rule="time_range")
    if query.unit is not None:
        await get_unit(session, actor.scope, query.unit)  # outside the auditor's subtree: 404


async def search(
    session: AsyncSession, actor: Actor, query: AuditQuery, *, limit: int, offset: int, request_id: str | None
) -> list[AuditRecord]:
    """One page of the matching records, newest first; the search is audited (``audit.search``)."""
    await _checked(session, actor, query)
    records = await AuditReadRepository(session).search(actor.scope, query, limit=limit, offset=offset)
    detail = {**_filters(query), "limit": limit, "offset": offset, "returned": len(records)}
    await append(session, actor.audit_entry("audit.search", request_id=request_id, detail=detail))
    log.info("audit_searched", returned=len(records))
    return records


async def start_export(session: AsyncSession, actor: Actor, query: AuditQuery, request_id: str | None) -> None:
    """导出 CSV: the export is audited (``audit.export``) in the request's transaction, before any row leaves."""
    await _checked(session, actor, query)
    await append(session, actor.audit_entry("audit.export", request_id=request_id, detail=_filters(query)))
    log.info("audit_exported")


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading ``= + - @`` (or tab, carriage return) gets a ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_row(record: AuditRecord, tz: ZoneInfo) -> list[str]:
    occurred: datetime = record.occurred_at
    detail = json.dumps(record.detail or {}, ensure_ascii=False, sort_keys=True)
    values: Iterable[object] = (
        record.id, record.seq, occurred.astimezone(tz).isoformat(timespec="seconds"), record.actor, record.role,
        record.unit, record.action, record.resource, record.purpose, record.outcome, record.request_id, detail,
    )  # fmt: skip
    return [safe_cell(value) for value in values]


def _lines(rows: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def export_csv(
    session_maker: async_sessionmaker[AsyncSession], scope: TenantScope, query: AuditQuery
) -> AsyncIterator[str]:
    """The matching records as CSV (UTF-8 with a BOM, so spreadsheet software reads the Chinese), newest first,
    a page at a time from a session of its own: the request's has committed the export's audit record by now."""
    tz = ZoneInfo(scope.timezone)
    yield "\ufeff" + _lines([CSV_HEADER])
    async with own_session(session_maker, writes=False) as session:
        repository = AuditReadRepository(session)
        after: tuple[datetime, int] | None = None
        while True:
            page = await repository.page_after(scope, query, after, EXPORT_BATCH)
            if page:
                yield _lines(csv_row(record, tz) for record in page)
                after = (page[-1].occurred_at, page[-1].id)
            if len(page) < EXPORT_BATCH:
                return
