"""What the inbox page shows of each message."""

from __future__ import annotations

from dataclasses import dataclass

from fuquan.platform.core.timeutil import local_time
from fuquan.platform.notifications.schemas import InboxItemRead
from fuquan.platform.web.auth import safe_next

KIND_LABELS = {
    "warning": "时限预警", "overdue": "逾期", "acceptance_overdue": "受理期限届满",
    "deferral_overdue": "容缺材料逾期", "suspension_overdue": "特别程序超期", "supervision_order": "督办",
    "escalation": "办不成事", "follow_up": "差评回访", "accountability": "责任追究", "ranking": "评比",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class InboxRow:
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    created: str
    unread: bool


def inbox_rows(items: list[InboxItemRead], tz: str) -> list[InboxRow]:
    return [
        InboxRow(
            item.id,
            KIND_LABELS.get(item.kind, item.kind),
            item.title,
            item.body,
            item.link if item.link and safe_next(item.link) == item.link else None,  # only our own pages
            local_time(item.created_at, tz),
            item.read_at is None,
        )
        for item in items
    ]
