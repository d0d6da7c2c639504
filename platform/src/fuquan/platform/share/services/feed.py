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
from fuquan.platform.share.services.directory import ShareDirectory
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


async def events(
    session: AsyncSession,
    scope: TenantScope,
    after: int,
    regions: tuple[str, ...] | None,
    limit: int,
    items: dict[str, str],
) -> list[dict[str, Any]]:
    """The events after ``after`` (settled), every field, each with its cursor."""
    rows = await FeedRepository(session).after(scope, after, utcnow() - SETTLE, regions, limit)
    units = await UnitRepository(session).names(scope, sorted({event.unit for event, _ in rows}))
    return [{"cursor": str(event.id), **_entry(event, case, items, units, scope.timezone)} for event, case in rows]


async def page(
    session: AsyncSession, catalogs: CatalogCache, directory: ShareDirectory, caller: Caller, cursor: str, limit: int
) -> tuple[dict[str, Any], str]:
    """One page of the feed after ``cursor``, with only the granted fields and the next cursor."""
    after = parse_cursor(cursor)
    if not 1 <= limit <= PAGE_LIMIT:
        raise BadRequest(f"limit 应在 1 到 {PAGE_LIMIT} 之间", rule="share_limit")
    allowed = await directory.access(caller.scope, caller.app, FEED_DATASET, caller.purpose)
    catalog = await catalogs.current(caller.scope)
    items = {code: item.name for code, item in catalog.items.items()}
    found = await events(session, caller.scope, after, allowed.regions, limit, items)
    shown = [{k: v for k, v in entry.items() if k == "cursor" or k in allowed.fields} for entry in found]
    next_cursor = shown[-1]["cursor"] if shown else str(after)
    return {"events": shown, "next_cursor": next_cursor, "more": len(found) == limit}, f"{len(shown)} 条办件过程信息"
