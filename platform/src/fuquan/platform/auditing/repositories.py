"""All SQL of 审计查阅: audit records of a scope, read only (the audit log itself is written by core.audit)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.auditing.schemas import AuditQuery
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.tenants.scope import TenantScope


def _matching(scope: TenantScope, query: AuditQuery) -> Select[tuple[AuditRecord]]:
    """The scope's tenant, records of its subtree (the whole tenant's, units or none, for a tenant-wide scope)."""
    statement = select(AuditRecord).where(AuditRecord.tenant_id == scope.tenant_id)
    if not scope.is_tenant_wide:
        statement = statement.where(AuditRecord.unit.startswith(scope.root_code))
    if query.since is not None:
        statement = statement.where(AuditRecord.occurred_at >= query.since)
    if query.until is not None:
        statement = statement.where(AuditRecord.occurred_at < query.until)
    if query.actor is not None:
        statement = statement.where(AuditRecord.actor == query.actor)
    if query.unit is not None:
        statement = statement.where(AuditRecord.unit.startswith(query.unit))
    if query.action is not None:
        if "." in query.action:
            statement = statement.where(AuditRecord.action == query.action)
        else:
            family = query.action + "."
            statement = statement.where(
                or_(AuditRecord.action == query.action, AuditRecord.action.startswith(family, autoescape=True))
            )
    if query.outcome is not None:
        statement = statement.where(AuditRecord.outcome == query.outcome)
    return statement


_NEWEST_FIRST = (AuditRecord.occurred_at.desc(), AuditRecord.id.desc())


class AuditReadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def search(self, scope: TenantScope, query: AuditQuery, *, limit: int, offset: int) -> list[AuditRecord]:
        """Newest first."""
        statement = _matching(scope, query).order_by(*_NEWEST_FIRST).limit(limit).offset(offset)
        return list(await self.session.scalars(statement))

    async def page_after(
        self, scope: TenantScope, query: AuditQuery, after: tuple[datetime, int] | None, limit: int
    ) -> list[AuditRecord]:
        """Newest first, the ``limit`` records after (older than) ``after`` = (occurred_at, id): an export walks
        the whole result this way, each page found by the index rather than by skipping rows."""
        statement = _matching(scope, query)
        if after is not None:
            at, record_id = after
            statement = statement.where(
                or_(AuditRecord.occurred_at < at, (AuditRecord.occurred_at == at) & (AuditRecord.id < record_id))
            )
        return list(await self.session.scalars(statement.order_by(*_NEWEST_FIRST).limit(limit)))
