"""The request's transaction ends before its answer leaves — and a failed commit never answers success.

advanced-alchemy's ``autocommit`` before-send handler commits when the answer starts (2xx, and 3xx for the
pages' POST-redirect-GET), but it only logs a failing commit at DEBUG and lets the 2xx go out: a case, its
trace event and its audit record could be lost behind a 201. This handler commits the same way and, when the
commit fails, rolls back and turns the answer into a problem the client can act on: 409 when the data changed
under the request (a unique or serialisation conflict: send again), 503 when the database could not be
reached (nothing was saved: try again later).
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
import structlog
from advanced_alchemy.extensions.litestar._utils import delete_aa_scope_state, get_aa_scope_state
from advanced_alchemy.extensions.litestar.plugins.init.config.common import SESSION_TERMINUS_ASGI_EVENTS
from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, BeforeMessageSendHookHandler, Message, Receive, Scope, Send
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.db import writing
from fuquan.platform.core.request_context import REQUEST_ID_KEY

log = structlog.get_logger()

_FAILED_ANSWER = "fuquan.commit_failed_answer"
_TYPE_BASE = "https://fuquan.example/problems/"


def _conflicting(error: Exception) -> bool:
    """The data changed under the request: a unique key taken, a serialisation failure or deadlock
    (PostgreSQL), or SQLite's write lock taken by another connection after this one read."""
    if isinstance(error, IntegrityError):
        return True
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) in ("40001", "40P01"):  # serialization_failure, deadlock_detected
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(orig)


def _problem_for(error: Exception, scope: Scope) -> tuple[int, bytes]:
    if _conflicting(error):
        status, slug, title = 409, "commit-conflict", "保存冲突"
        detail = "保存时发现数据已被同时修改，本次办理未保存。请刷新后重新提交。"
    elif isinstance(error, OperationalError | DBAPIError):
        status, slug, title = 503, "database-unavailable", "数据库暂时不可用"
        detail = "数据库暂时不可用，本次办理未保存。请稍后重试。"
    else:
        status, slug, title = 500, "commit-failed", "保存失败"
        detail = "保存时出现内部错误，本次办理未保存。请稍后重试；如仍失败请联系运维人员。"
    body: dict[str, Any] = {"type": _TYPE_BASE + slug, "title": title, "status": status, "detail": detail}
    if status == 409:
        body["rule"] = "concurrent_change"
    request_id = scope.get("state", {}).get(REQUEST_ID_KEY)
    if request_id:
        body["request_id"] = request_id
    return status, msgspec.json.encode(body)


_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writing_requests(app: ASGIApp) -> ASGIApp:
    """A POST writes: its transaction takes SQLite's write lock up front; a GET only reads (see ``writing``)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        said = writing(scope["method"] not in _SAFE_METHODS)  # type: ignore[typeddict-item]
        try:
            await app(scope, receive, send)
        finally:
            said.var.reset(said)

    return middleware


def database_error(request: Request[Any, Any, Any], error: DBAPIError) -> Response[bytes]:
    """A database error while the request ran (not at commit): 409 when it raced another writer, 503 when the
    database could not be reached — never a 500 for two clerks at once. The transaction is rolled back."""
    status, body = _problem_for(error, request.scope)
    log.warning("request_database_error", error_type=type(error).__name__, answered=status)
    return Response(body, status_code=status, media_type="application/problem+json")


def commit_before_answer(session_scope_key: str) -> BeforeMessageSendHookHandler:
    """Litestar ``before_send`` for the request sessions stored under ``session_scope_key`` (advanced-alchemy
    makes the key unique per app: a second app in one process has its own)."""

    async def handler(message: Message, scope: Scope) -> None:
        await _end_transaction(message, scope, session_scope_key)

    return handler


async def _end_transaction(message: Message, scope: Scope, session_scope_key: str) -> None:
    """Commit (2xx/3xx) or roll back (4xx/5xx) as the answer starts; close the session when it is sent."""
    session = cast("AsyncSession | None", get_aa_scope_state(scope, session_scope_key))
    try:
        if message["type"] == "http.response.start" and session is not None:
            if 200 <= message["status"] < 400:
                try:
                    await session.commit()
                except Exception as error:
                    await _rollback_quietly(session)
                    status, body = _problem_for(error, scope)
                    log.error("request_commit_failed", error_type=type(error).__name__, answered=status)
                    message["status"] = status
                    headers = MutableScopeHeaders.from_message(message)
                    headers["content-type"] = "application/problem+json"
                    headers["content-length"] = str(len(body))
                    scope.setdefault("state", {})[_FAILED_ANSWER] = body
            else:
                await session.rollback()
        elif message["type"] == "http.response.body" and _FAILED_ANSWER in scope.get("state", {}):
            message["body"] = scope["state"].pop(_FAILED_ANSWER)
            message["more_body"] = False
    finally:
        if session is not None and message["type"] in SESSION_TERMINUS_ASGI_EVENTS:
            try:
                await session.close()
            except Exception:  # a broken connection is discarded by the pool
                log.warning("request_session_close_failed", exc_info=True)
            delete_aa_scope_state(scope, session_scope_key)


async def _rollback_quietly(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # the connection itself is gone: nothing left to undo
        log.warning("request_rollback_failed", exc_info=True)
