"""Security headers on every answer (DESIGN §10; GB/T 22239 level 3): pages, API answers and errors alike.

- A Content-Security-Policy with no inline or foreign scripts: the pages load htmx, ECharts and their own scripts
  from /static only, and pass data to scripts as JSON blocks. Inline *styles* stay allowed: htmx adds its indicator
  style and ECharts' SVG renderer styles its elements. Swagger UI (/schema) starts itself with an inline script,
  so that page alone may run one.
- No framing (``frame-ancestors 'none'`` and X-Frame-Options), no MIME sniffing, the referrer kept on this site.
- ``Cache-Control: no-store`` on everything but the static assets: pages and answers carry case and personal data,
  and a shared office computer's cache must not keep them.
- HSTS when served over TLS (``FUQUAN_SECURE_COOKIES=1``).
"""

from __future__ import annotations

from typing import Final

from litestar.datastructures import MutableScopeHeaders
from litestar.types import BeforeMessageSendHookHandler, Message, Scope

_POLICY: Final = (
    "default-src 'self'; script-src 'self'{inline}; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PAGE_POLICY: Final = _POLICY.format(inline="")
SWAGGER_POLICY: Final = _POLICY.format(inline=" 'unsafe-inline'")
HSTS: Final = "max-age=31536000; includeSubDomains"


def security_headers(*, tls: bool) -> BeforeMessageSendHookHandler:
    """Litestar ``before_send``: it sees every answer's start, errors answered outside any route included."""

    async def hook(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        path = scope.get("path", "")
        headers["Content-Security-Policy"] = SWAGGER_POLICY if path.startswith("/schema") else PAGE_POLICY
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        if not path.startswith("/static/") and path != "/favicon.ico":
            headers["Cache-Control"] = "no-store"
        if tls:
            headers["Strict-Transport-Security"] = HSTS

    return hook
