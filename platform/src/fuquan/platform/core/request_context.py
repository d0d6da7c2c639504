"""The request id the request-id middleware put into the ASGI scope, for audit records and problems."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection

REQUEST_ID_KEY = "request_id"


def request_id_of(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    value = connection.scope.get("state", {}).get(REQUEST_ID_KEY)
    return value if isinstance(value, str) else None
