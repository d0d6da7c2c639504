"""Errors that a person at a browser meets: a rejected form gets a Chinese page, not a JSON problem."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Template

CSRF_FAILED = "CSRF token verification failed"  # Litestar's CSRF middleware says this, and only this
CSRF_MESSAGE = "表单安全校验未通过（缺少或无效的 CSRF 令牌）。页面可能已过期，请返回、刷新页面后重新提交。"


def csrf_failure_page(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any] | None:
    """The page for a form post the CSRF middleware refused; None for any other error."""
    if not isinstance(error, PermissionDeniedException) or error.detail != CSRF_FAILED:
        return None
    context = {"title": "无法提交表单", "message": CSRF_MESSAGE, "user": None}
    return Template("error.html", context=context, status_code=error.status_code)
