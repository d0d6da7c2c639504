"""The desk queues: 前台受理 (cases accepted at my unit) and 后台审批 (cases routed to my unit to decide).

Both are the API's case listing (its query and scope rules, via ``reads.case_queue``) narrowed to one desk,
with the same case representations (``reads.case_reads``: masked applicant, deadline clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases.schemas import CaseRead
from fuquan.platform.cases.services import reads
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.errors import BadRequest
from fuquan.platform.core.timeutil import local_time
from fuquan.platform.web.case.views import SignalView, signal_view, status_name
from fuquan.tenants.services import unit_names

Side = Literal["front", "back"]
PAGE_SIZE = 50
SUBMITTED_ACTIONS = ["submit", "resubmit"]


@dataclass(frozen=True, slots=True)
class QueueFilter:
    key: str
    label: str
    statuses: tuple[Status, ...]


FILTERS: dict[Side, tuple[QueueFilter, ...]] = {
    "front": (
        QueueFilter(
            "todo",
            "待办（待受理、待收补正材料、待出件）",
            (Status.SUBMITTED, Status.CORRECTING, Status.APPROVED, Status.DENIED),
        ),
        QueueFilter("submitted", "待受理", (Status.SUBMITTED,)),
        QueueFilter("to_issue", "待出件", (Status.APPROVED, Status.DENIED)),
        QueueFilter("awaiting_supplement", "待补正", (Status.AWAITING_SUPPLEMENT, Status.CORRECTING)),
        QueueFilter("in_progress", "审批中", (Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED)),
        QueueFilter("issued", "已出件待办结", (Status.ISSUED,)),
    ),
    "back": (
        QueueFilter(
            "todo",
            "待办（待领办、审批中、特别程序、待补正）",
            (Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED, Status.CORRECTING),
        ),
        QueueFilter("accepted", "待领办", (Status.ACCEPTED,)),
        QueueFilter("in_review", "审批中", (Status.IN_REVIEW,)),
        QueueFilter("suspended", "特别程序中", (Status.SUSPENDED,)),
        QueueFilter("correcting", "审查中待补正", (Status.CORRECTING,)),
        QueueFilter("decided", "已审批待出件", (Status.APPROVED, Status.DENIED)),
    ),
}
TITLES: dict[Side, tuple[str, str]] = {
    "front": ("前台受理", "本单位受理窗口：受理、补正、不予受理与出件"),
    "back": ("后台审批", "送本单位审批的办件：领办、准予或不予许可、特别程序"),
}


@dataclass(frozen=True, slots=True)
class FilterTab:
    key: str
    label: str
    count: int
    current: bool


@dataclass(frozen=True, slots=True)
class QueueRow:
    case: CaseRead
    status_name: str
    submitted_at: str
    signal: SignalView


@dataclass(frozen=True, slots=True)
class QueueView:
    side: Side
    title: str
    subtitle: str
    unit_name: str
    filters: list[FilterTab]
    current: QueueFilter
    rows: list[QueueRow]
    total: int
    page: int
    pages: int


async def queue(
    session: AsyncSession, actor: Actor, catalog: Catalog, calendar: WorkingCalendar, side: Side, status: str, page: int
) -> QueueView:
    """One desk's queue for ``actor``'s unit, filtered by a named group of statuses (with counts)."""
    filters = FILTERS[side]
    chosen = next((f for f in filters if f.key == status), None)
    if chosen is None:
        choices = "、".join(f"{f.key}（{f.label}）" for f in filters)
        raise BadRequest(f"没有这个筛选条件：{status}；可选：{choices}", rule="queue_filter")
    desk = {"accepting": actor.unit_code} if side == "front" else {"routed": actor.unit_code}
    counts = await reads.case_status_counts(session, actor.scope, **desk)
    rows, total = await reads.case_queue(
        session, actor.scope, statuses=[s.value for s in chosen.statuses], unit=None, item=None, limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE, **desk,
    )  # fmt: skip
    submitted = await reads.last_event_times(session, [case.id for case in rows], SUBMITTED_ACTIONS)
    tz = actor.scope.timezone
    names = await unit_names(session, actor.scope, [actor.unit_code])
    title, subtitle = TITLES[side]
    return QueueView(
        side=side, title=title, subtitle=subtitle, unit_name=names.get(actor.unit_code, actor.unit_code),
        filters=[
            FilterTab(f.key, f.label, sum(counts.get(s.value, 0) for s in f.statuses), f.key == chosen.key)
            for f in filters
        ],
        current=chosen,
        rows=[
            QueueRow(read, status_name(read.status), local_time(submitted.get(read.id), tz), signal_view(read.timing))
            for read in await reads.case_reads(session, actor, catalog, calendar, rows)
        ],
        total=total, page=page, pages=max(1, -(-total // PAGE_SIZE)),
    )  # fmt: skip
