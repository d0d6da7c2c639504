"""A request id for every request: taken from X-Request-Id when sane, bound into every log line and put on every
answer — errors answered outside any route included (``request_id_header``, a ``before_send`` hook)."""

from __future__ import annotations

import re
import uuid

import structlog
from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from fuquan.platform.core.request_context import REQUEST_ID_KEY

_SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def request_id_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = next((v.decode() for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = incoming if _SANE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        await app(scope, receive, send)

    return middleware


async def request_id_header(message: Message, scope: Scope) -> None:
    """Litestar ``before_send``: it sees every answer's start, even one made by an exception handler after the
    exception left this middleware (a refusal of the input guard), so the id the log lines carry is on it."""
    request_id = scope.get("state", {}).get(REQUEST_ID_KEY)
    if message["type"] == "http.response.start" and isinstance(request_id, str):
        MutableScopeHeaders.from_message(message)["X-Request-Id"] = request_id
