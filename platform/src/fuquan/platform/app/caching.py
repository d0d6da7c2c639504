"""The response cache of the public information pages (办事指南, 权力清单, 政策法规库 and their JSON): what a stored
answer is keyed by, and which answers are stored at all."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from litestar import Request
from litestar.config.response_cache import default_do_cache_predicate
from litestar.types import HTTPScope

from fuquan.platform.public.services.tenants import PublicDirectory


def public_cache_key(directory: PublicDirectory) -> Callable[[Request[Any, Any, Any]], str]:
    """The response cache's key of a public information page: its URL, and what its answer depends on (the
    tenant's policy version and catalogue edition as this process knows them, and the minute), so that a grant,
    a revocation or a new edition shows at once here and within the propagation time on every replica."""

    def key(request: Request[Any, Any, Any]) -> str:
        code = str(request.path_params.get("tenant") or request.path_params.get("unit") or "")
        params = sorted((name, value) for name, value in request.query_params.items() if name in KEYED_PARAMS)
        url = f"{request.url.path}?{params}"
        return "public:" + hashlib.sha256(f"{url}#{directory.freshness(code)}".encode()).hexdigest()

    return key


FREE_TEXT = frozenset({"place", "q"})  # a resident's typed words: unbounded, so their answers are never stored
CACHE_PARAMS = frozenset({"unit", "format"})  # the only query parameters a stored answer depends on
KEYED_PARAMS = CACHE_PARAMS | FREE_TEXT  # (an answer to typed words is never stored, so its key never matches)


def bounded_cache(scope: HTTPScope, status_code: int) -> bool:
    """Store a successful answer unless its query carries free text: what is cached is then bounded by the units,
    items and formats there are, and nobody can fill the cache by typing (unknown units are 404, not stored)."""
    typed = any(name in FREE_TEXT and value.strip() for name, value in parse_qsl(scope.get("query_string", b"").decode(
        "latin-1")))  # fmt: skip
    return default_do_cache_predicate(scope, status_code) and not typed
