"""审计查阅 endpoints (/api/v1/audit…): the auditor's search and CSV export of the audit records."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.auditing import services
from fuquan.platform.auditing.schemas import AuditQuery, AuditRecordRead, Outcome
from fuquan.platform.core.params import Offset
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import as_utc
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

READ = {"permission": "audit.read"}
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Since = Annotated[datetime | None, QueryParameter(description="起始时间（含）；不带时区时按租户本地时间")]
Until = Annotated[datetime | None, QueryParameter(description="截止时间（不含）；不带时区时按租户本地时间")]
# the query parameter "actor" (a username) is read into ``actor_name``: ``actor`` is the caller
ActorName = Annotated[
    str | None, QueryParameter(name="actor", min_length=1, max_length=64, description="操作人用户名（精确匹配）")
]
ActionName = Annotated[
    str | None,
    QueryParameter(min_length=1, max_length=64, description="动作：完整名称（如 staff.disable）或类别（如 staff）"),
]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def audit_query(
    tz: str,
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    unit: str | None,
    action: str | None,
    outcome: str | None,
) -> AuditQuery:
    """The filters of a request, times in UTC (a time without zone is the tenant's local time)."""
    return AuditQuery(
        since=None if since is None else as_utc(since, tz),
        until=None if until is None else as_utc(until, tz),
        actor=actor, unit=None if unit is None else normalise_unit_code(unit), action=action, outcome=outcome,
    )  # fmt: skip


class AuditController(Controller):
    path = "/api/v1/audit"
    tags = ["audit 审计查阅"]

    @get("/records", summary="审计记录（本级及下级；查阅本身也被审计）", opt=READ)
    async def records(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        since: Since = None,
        until: Until = None,
        actor_name: ActorName = None,
        unit: FromQuery[UnitCode | None] = None,
        action: ActionName = None,
        outcome: FromQuery[Outcome | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[AuditRecordRead]:
        """Newest first; ``unit`` narrows to its subtree (outside the caller's: 404)."""
        query = audit_query(actor.scope.timezone, since, until, actor_name, unit, action, outcome)
        found = await services.search(
            db_session, actor, query, limit=limit, offset=offset, request_id=request_id_of(request)
        )
        return [services.record_read(record) for record in found]

    @get("/records.csv", summary="导出审计记录（CSV，UTF-8）", opt=READ, media_type=CSV_MEDIA_TYPE)
    async def export(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        session_maker: NamedDependency[async_sessionmaker[AsyncSession]],
        actor: NamedDependency[Actor],
        since: Since = None,
        until: Until = None,
        actor_name: ActorName = None,
        unit: FromQuery[UnitCode | None] = None,
        action: ActionName = None,
        outcome: FromQuery[Outcome | None] = None,
    ) -> Stream:
        query = audit_query(actor.scope.timezone, since, until, actor_name, unit, action, outcome)
        await services.start_export(db_session, actor, query, request_id_of(request))
        return csv_download(services.export_csv(session_maker, actor.scope, query))


def csv_download(lines: Any) -> Stream:
    """The export as an attachment, streamed; never cached (it holds who did what)."""
    return Stream(
        lines,
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="audit-records.csv"', "Cache-Control": "no-store"},
    )
