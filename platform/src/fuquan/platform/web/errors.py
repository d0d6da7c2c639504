"""Errors that a person at a browser meets: outside the API, an error is a Chinese page, not a JSON problem."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.response import Template

from fuquan.platform.web.sessions import NOT_WEB

CSRF_FAILED = "CSRF token verification failed"  # Litestar's CSRF middleware says this, and only this
CSRF_MESSAGE = "表单安全校验未通过（缺少或无效的 CSRF 令牌）。页面可能已过期，请返回、刷新页面后重新提交。"
_NOT_WEB = re.compile("|".join(NOT_WEB))
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_PAGES: dict[int, tuple[str, str]] = {
    400: ("填写有误", "提交的内容不完整或格式不对，请返回检查后重新提交。"),
    403: ("无权操作", "您的岗位没有这项操作的权限。"),
    404: ("未找到", "没有找到这个页面或记录，或者它不在您的管辖范围内。"),
    405: ("无法这样操作", "这个页面不支持这种操作，请从页面上的按钮或链接进入。"),
    409: ("数据已被他人修改", "提交时这条记录正被他人同时修改，本次操作未保存。请刷新页面后重新提交。"),
    413: ("文件太大", "上传的文件太大，请压缩或分页后重新上传。"),
    429: ("操作过于频繁", "操作过于频繁，请稍等一分钟后再试。"),
    503: ("系统暂时无法处理", "数据库暂时不可用，本次操作未保存。请稍后重试。"),
}
_UNEXPECTED = ("系统暂时无法处理", "系统暂时无法处理您的请求，数据未被修改。请稍后重试；如仍有问题，请联系系统管理员。")


def is_page_request(request: Request[Any, Any, Any]) -> bool:
    """A request for a web page (not the API, the OpenAPI pages, assets or probes)."""
    return not _NOT_WEB.match(request.url.path)


def _page(title: str, message: str, status: int, headers: dict[str, str] | None = None) -> Response[Any]:
    context = {"title": title, "message": message, "user": None}
    return Template("error.html", context=context, status_code=status, headers=headers)


def page_for_http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any] | None:
    """The page for a framework error on a web path (CSRF refusal, unknown page, rate limit…); None on the API."""
    if isinstance(error, PermissionDeniedException) and error.detail == CSRF_FAILED:
        return _page("无法提交表单", CSRF_MESSAGE, error.status_code)
    if not is_page_request(request):
        return None
    title, message = _PAGES.get(error.status_code, _UNEXPECTED)
    if _CHINESE.search(error.detail or ""):  # ours, written for the clerk (the framework's own are English)
        message = error.detail
    return _page(title, message, error.status_code, dict(error.headers or {}))


def page_for_unexpected(request: Request[Any, Any, Any]) -> Response[Any] | None:
    """The page for an unexpected error on a web path (logged by the caller); None on the API."""
    return _page(*_UNEXPECTED, 500) if is_page_request(request) else None
