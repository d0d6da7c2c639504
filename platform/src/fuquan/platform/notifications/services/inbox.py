"""The staff's inbox (站内消息): what needs me now, with the unread count every page header shows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.notifications.models import InboxItem
from fuquan.platform.notifications.repositories import NotificationRepository
from fuquan.platform.notifications.schemas import InboxItemRead, InboxPage


def item_read(item: InboxItem) -> InboxItemRead:
    return InboxItemRead(id=item.id, kind=item.kind, title=item.title, body=item.body, link=item.link,
                         case_id=item.case_id, created_at=item.created_at, read_at=item.read_at)  # fmt: skip


async def inbox(session: AsyncSession, actor: Actor, *, unread_only: bool, limit: int, offset: int) -> InboxPage:
    repository = NotificationRepository(session)
    total, items = await repository.inbox(actor.scope, actor.staff_id, unread_only=unread_only, limit=limit,
                                          offset=offset)  # fmt: skip
    unread = await repository.unread(actor.scope, actor.staff_id)
    return InboxPage(total=total, unread=unread, items=[item_read(item) for item in items])


async def unread(session: AsyncSession, actor: Actor) -> int:
    return await NotificationRepository(session).unread(actor.scope, actor.staff_id)


async def mark_read(session: AsyncSession, actor: Actor, item_id: int | None, now: datetime) -> int:
    """Reading one's own messages is not audited (it changes nothing of anyone else's)."""
    return await NotificationRepository(session).mark_read(actor.scope, actor.staff_id, item_id, now)
