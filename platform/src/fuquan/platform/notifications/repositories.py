"""All SQL of the outbox: templates, the SMS outbox's leases and outcomes, and the inbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.db import conflict_insert
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.upserts import column_defaults
from fuquan.platform.notifications.models import InboxItem, SmsMessage, SmsTemplate
from fuquan.tenants.scope import TenantScope

_DUE = (
    select(SmsMessage.id)
    .where(
        SmsMessage.state == "pending",
        SmsMessage.next_attempt_at <= bindparam("now"),
        or_(SmsMessage.lease_until.is_(None), SmsMessage.lease_until < bindparam("now")),
    )
    .order_by(SmsMessage.next_attempt_at, SmsMessage.id)
    .limit(bindparam("limit"))
)
_LEASE = (
    update(SmsMessage)
    .where(
        SmsMessage.id.in_(bindparam("ids", expanding=True)),
        SmsMessage.state == "pending",
        or_(SmsMessage.lease_until.is_(None), SmsMessage.lease_until < bindparam("now")),
    )
    .values(lease_until=bindparam("until"))
    .returning(SmsMessage)
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one leased message: sent, to be retried at ``retry_at``, or failed for good."""

    id: int
    state: str  # sent | pending | failed | skipped
    code: str
    provider_msg_id: str | None = None
    retry_at: datetime | None = None


class NotificationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- templates --

    async def templates(self, tenant_ids: Sequence[int]) -> dict[tuple[int, str], SmsTemplate]:
        found = await self.session.scalars(select(SmsTemplate).where(SmsTemplate.tenant_id.in_(tenant_ids)))
        return {(t.tenant_id, t.kind): t for t in found}

    async def template(self, scope: TenantScope, kind: str) -> SmsTemplate | None:
        return await self.session.scalar(
            select(SmsTemplate).where(SmsTemplate.tenant_id == scope.tenant_id, SmsTemplate.kind == kind)
        )

    def add_template(self, template: SmsTemplate) -> None:
        self.session.add(template)

    # -- the SMS outbox --

    async def lease_due(self, now: datetime, until: datetime, limit: int) -> list[SmsMessage]:
        """Up to ``limit`` due messages, leased until ``until``: a message another run holds is not taken, and one
        whose run died is taken again once its lease ends (then its message id keeps it from going out twice)."""
        ids = list(await self.session.scalars(_DUE, {"now": now, "limit": limit}))
        if not ids:
            return []
        leased = await self.session.scalars(_LEASE, {"ids": ids, "now": now, "until": until})
        return sorted(leased, key=lambda message: message.id)

    async def settle(self, outcomes: Sequence[Outcome], now: datetime) -> None:
        """Record outcomes: a settled message (sent, failed, skipped) forgets its number; a retried one is released."""
        for outcome in outcomes:
            values: dict[str, Any] = {
                "last_code": outcome.code,
                "lease_until": None,
                "attempts": SmsMessage.attempts + 1,
            }
            if outcome.state == "pending":
                values["next_attempt_at"] = outcome.retry_at
            else:
                values.update(state=outcome.state, settled_at=now, phone_cipher=None,
                              provider_msg_id=outcome.provider_msg_id)  # fmt: skip
            await self.session.execute(update(SmsMessage).where(SmsMessage.id == outcome.id).values(values))

    async def sms_page(
        self, scope: TenantScope, state: str | None, limit: int, offset: int
    ) -> tuple[int, list[SmsMessage]]:
        where = [SmsMessage.tenant_id == scope.tenant_id]
        if state:
            where.append(SmsMessage.state == state)
        total = await self.session.scalar(select(func.count()).select_from(SmsMessage).where(*where)) or 0
        rows = await self.session.scalars(
            select(SmsMessage).where(*where).order_by(SmsMessage.id.desc()).limit(limit).offset(offset)
        )
        return int(total), list(rows)

    async def sms_counts(self, scope: TenantScope) -> dict[str, int]:
        rows = await self.session.execute(
            select(SmsMessage.state, func.count())
            .where(SmsMessage.tenant_id == scope.tenant_id)
            .group_by(SmsMessage.state)
        )
        return {state: int(count) for state, count in rows.tuples()}

    # -- the inbox --

    async def add_once(self, rows: Sequence[NewRow], chunk: int = 500) -> int:
        """Notices whose dedupe key is new, in multi-row INSERTs; those already there stay as they are (a periodic
        job finding the same overdue case again notifies nobody twice). Returns how many were written."""
        written = 0
        for table, same in groupby(rows, key=lambda row: row.table):
            conflict = [name for name in ("tenant_id", "staff_id", "dedupe_key") if name in table.c]
            values = [column_defaults(table, row.values) for row in same]
            for start in range(0, len(values), chunk):
                statement = (
                    conflict_insert(self.session, table)
                    .values(values[start : start + chunk])
                    .on_conflict_do_nothing(index_elements=conflict)
                    .returning(table.c.id)
                )
                written += len((await self.session.execute(statement)).all())
        return written

    async def inbox(
        self, scope: TenantScope, staff_id: int, *, unread_only: bool, limit: int, offset: int
    ) -> tuple[int, list[InboxItem]]:
        where = [InboxItem.tenant_id == scope.tenant_id, InboxItem.staff_id == staff_id]
        if unread_only:
            where.append(InboxItem.read_at.is_(None))
        total = await self.session.scalar(select(func.count()).select_from(InboxItem).where(*where)) or 0
        rows = await self.session.scalars(
            select(InboxItem).where(*where).order_by(InboxItem.id.desc()).limit(limit).offset(offset)
        )
        return int(total), list(rows)

    async def unread(self, scope: TenantScope, staff_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(InboxItem)
            .where(InboxItem.tenant_id == scope.tenant_id, InboxItem.staff_id == staff_id, InboxItem.read_at.is_(None))
        )
        return int(count or 0)

    async def mark_read(self, scope: TenantScope, staff_id: int, item_id: int | None, now: datetime) -> int:
        """One item (``item_id``) or all of them read; another's item, or one that is not there, is ``NotFound``."""
        where = [InboxItem.tenant_id == scope.tenant_id, InboxItem.staff_id == staff_id, InboxItem.read_at.is_(None)]
        if item_id is not None:
            exists = await self.session.scalar(
                select(InboxItem.id).where(
                    InboxItem.id == item_id, InboxItem.tenant_id == scope.tenant_id, InboxItem.staff_id == staff_id
                )
            )
            if exists is None:
                raise NotFound(f"消息 {item_id} 不存在")
            where.append(InboxItem.id == item_id)
        result = await self.session.execute(update(InboxItem).where(and_(*where)).values(read_at=now))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
