"""办件流: every case's events for the provincial platform and the 电子监察 system, pulled with a cursor.

The cursor is the last event's id: the same cursor gives the same events again (replayable), each event carrying
only what was true when it was written. An event appears once it is a few seconds old, so one written by a
transaction that commits late is never passed over by a cursor that has already moved beyond it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import Case, CaseEvent
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.errors import BadRequest
from fuquan.platform.core.timeutil import local_date, local_time, utcnow
from fuquan.platform.share.repositories import FeedRepository
from fuquan.platform.share.schemas import FEED_DATASET
from fuquan.platform.share.services.answers import DECISION_NAMES
from fuquan.platform.share.services.calls import Caller
from fuquan.platform.share.services.grants import access
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

SETTLE: Final = timedelta(seconds=5)  # longer than a case's transaction takes to commit
PAGE_LIMIT: Final = 500


def parse_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        raise BadRequest("cursor 应为上一页返回的 next_cursor（数字）", rule="share_cursor")
    return int(cursor)


def _entry(event: CaseEvent, case: Case, items: dict[str, str], units: dict[str, str], tz: str) -> dict[str, Any]:
    accepted = None if case.accepted_on is None or case.accepted_on > local_date(event.at, tz) else case.accepted_on
    return {
        "item_code": case.item_code, "item_name": items.get(case.item_code, case.item_code), "case_no": case.receipt_no,
        "event": event.action, "event_at": local_time(event.at, tz), "status": event.to_status,
        "unit_code": event.unit, "unit_name": units.get(event.unit, event.unit),
        "accepted_on": None if accepted is None else accepted.isoformat(),
        "promised_days": case.promised_days if accepted is not None else None,
        "deadline": None if accepted is None or case.deadline is None else case.deadline.isoformat(),
        "result": DECISION_NAMES.get(event.action),
    }  # fmt: skip


async def page(
    session: AsyncSession, catalogs: CatalogCache, caller: Caller, cursor: str, limit: int
) -> tuple[dict[str, Any], str]:
    """One page of the feed after ``cursor``, with only the granted fields and the next cursor."""
    after = parse_cursor(cursor)
    if not 1 <= limit <= PAGE_LIMIT:
        raise BadRequest(f"limit 应在 1 到 {PAGE_LIMIT} 之间", rule="share_limit")
    allowed = await access(session, caller.app, FEED_DATASET, caller.purpose)
    scope: TenantScope = caller.scope
    rows = await FeedRepository(session).after(scope, after, utcnow() - SETTLE, allowed.regions, limit)
    units = await UnitRepository(session).names(scope, sorted({event.unit for event, _ in rows}))
    catalog = await catalogs.current(scope)
    items = {code: item.name for code, item in catalog.items.items()}
    events = []
    for event, case in rows:
        entry = _entry(event, case, items, units, scope.timezone)
        events.append({"cursor": str(event.id), **{k: v for k, v in entry.items() if k in allowed.fields}})
    next_cursor = events[-1]["cursor"] if events else str(after)
    return {"events": events, "next_cursor": next_cursor, "more": len(rows) == limit}, f"{len(events)} 条办件过程信息"
