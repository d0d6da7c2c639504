"""Web pages: 审计查阅 — the auditor searches the audit records of their subtree and downloads them as CSV.

Both go through ``auditing.services`` and are audited there, like the API's; a malformed filter shows the form
again with a message beside it (400).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Stream, Template
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.auditing import services
from fuquan.platform.auditing.controllers import csv_download
from fuquan.platform.auditing.schemas import OUTCOMES, AuditQuery
from fuquan.platform.core.errors import BadRequest, FuquanError
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import as_utc
from fuquan.platform.web.pages import PageController, page, render
from fuquan.platform.web.staff.schemas import unit_code

READ = page("audit.read")
PAGE_SIZE = 50
MAX_FILTER = 64


def local_time(instant: datetime, tz: str) -> str:
    return instant.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def audit_filters(
    tz: str, since: str, until: str, actor: str, unit: str, action: str, outcome: str
) -> tuple[AuditQuery, dict[str, str]]:
    """The query of the search form, and field → what is wrong with it."""
    errors: dict[str, str] = {}
    times: dict[str, datetime | None] = {}
    for name, text in (("since", since), ("until", until)):
        times[name] = None
        if text:
            try:
                times[name] = as_utc(datetime.fromisoformat(text), tz)
            except (ValueError, FuquanError):
                errors[name] = "时间格式不对，例如 2026-12-01T09:30（北京时间）"
    code = unit_code(unit) if unit else None
    if unit and code is None:
        errors["unit"] = "区划代码应为 2、4、6、9、12 或 15 位数字"
    if len(actor) > MAX_FILTER:
        errors["actor"] = f"用户名最长 {MAX_FILTER} 个字符"
    if len(action) > MAX_FILTER:
        errors["action"] = f"动作最长 {MAX_FILTER} 个字符"
    if outcome and outcome not in OUTCOMES:
        errors["outcome"] = "请选择列表中的结果"
    query = AuditQuery(
        since=times["since"], until=times["until"], actor=actor or None, unit=code, action=action or None,
        outcome=outcome or None,
    )  # fmt: skip
    return query, errors


class AuditPagesController(PageController):
    path = "/audit"

    @get("/", opt=READ)
    async def search(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        actor_name: Annotated[str, QueryParameter(name="actor")] = "",  # ``actor`` is the page's actor
        unit: FromQuery[str] = "",
        action: FromQuery[str] = "",
        outcome: FromQuery[str] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=100_000)] = 1,
    ) -> Template:
        form = {"since": since.strip(), "until": until.strip(), "actor": actor_name.strip(), "unit": unit.strip(),
                "action": action.strip(), "outcome": outcome.strip()}  # fmt: skip
        query, errors = audit_filters(page_actor.scope.timezone, **form)
        records = []
        problem = None
        if not errors:
            try:
                records = await services.search(
                    db_session, page_actor, query, limit=PAGE_SIZE + 1, offset=(page_number - 1) * PAGE_SIZE,
                    request_id=request_id_of(request),
                )  # fmt: skip
            except FuquanError as error:  # a unit outside the subtree (404), a backwards time range (422)
                problem = error
        shown = [services.record_read(record) for record in records[:PAGE_SIZE]]
        status = 400 if errors else problem.status if problem else 200
        query_string = urlencode({key: value for key, value in form.items() if value})
        return render(
            "audit/index.html", page_actor, status_code=status, form=form, errors=errors, problem=problem,
            records=shown, outcomes=OUTCOMES, role_names=ROLE_NAMES, tz=page_actor.scope.timezone,
            local_time=local_time, page_number=page_number, has_next=len(records) > PAGE_SIZE, query=query_string,
        )  # fmt: skip

    @get("/records.csv", opt=READ)
    async def export(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        session_maker: NamedDependency[async_sessionmaker[AsyncSession]],
        page_actor: NamedDependency[Actor],
        since: FromQuery[str] = "",
        until: FromQuery[str] = "",
        actor_name: Annotated[str, QueryParameter(name="actor")] = "",  # ``actor`` is the page's actor
        unit: FromQuery[str] = "",
        action: FromQuery[str] = "",
        outcome: FromQuery[str] = "",
    ) -> Stream:
        query, errors = audit_filters(
            page_actor.scope.timezone, since.strip(), until.strip(), actor_name.strip(), unit.strip(), action.strip(),
            outcome.strip(),
        )  # fmt: skip
        if errors:
            raise BadRequest("；".join(errors.values()), rule="audit_filter")
        await services.start_export(db_session, page_actor, query, request_id_of(request))
        return csv_download(services.export_csv(session_maker, page_actor.scope, query))
