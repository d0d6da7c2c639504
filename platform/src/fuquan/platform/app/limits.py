"""Per-minute limits (Litestar's ``RateLimitMiddleware``) only on the requests each one counts: the login, the
public lookups and the partners' calls. One layer that picks the limit by method and path, so the rest of the
requests — the staff's work — pass no limiter at all (three layers that each built a request to say "not mine"
cost every case step)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast

from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import ASGIApp, HTTPScope, Receive, Scope, Send

Counts = Callable[[str, str], bool]  # (method, path) → whether this limit counts the request


def limits(rules: Sequence[tuple[Counts, RateLimitConfig]]) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware: the first rule that counts a request applies its limit; no rule, no limiter."""

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        # made on a route's first counted request: most routes count none, and an app has hundreds of routes
        limiters: dict[int, RateLimitMiddleware] = {}

        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                request = cast("HTTPScope", scope)
                for index, (counts, config) in enumerate(rules):
                    if counts(request["method"], request["path"]):
                        limiter = limiters.get(index) or limiters.setdefault(index, RateLimitMiddleware(app, config))
                        await limiter(scope, receive, send)
                        return
            await app(scope, receive, send)

        return middleware

    return middleware_factory
