"""Every error leaves as RFC 9457 problem details (application/problem+json), in Chinese."""

from __future__ import annotations

import os
import re
import traceback
from typing import Annotated, Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sqlalchemy.orm.exc import StaleDataError

from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.validation_messages import in_chinese

log = structlog.get_logger()

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://fuquan.example/problems/"

_HTTP_TITLES = {
    400: "请求格式有误",
    401: "需要登录",
    403: "没有权限",
    404: "未找到",
    405: "不支持该请求方法",
    409: "状态冲突",
    413: "上传内容过大",
    415: "不支持的内容类型",
    429: "请求过于频繁",
}


def _problem(
    request: Request[Any, Any, Any], status: int, title: str, detail: str, slug: str, **extra: Any
) -> Response[Any]:
    body: dict[str, Any] = {
        "type": _TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    request_id = request_id_of(request)
    if request_id:
        body["request_id"] = request_id
    body.update({key: value for key, value in extra.items() if value is not None})
    return Response(body, status_code=status, media_type=PROBLEM_JSON)


# extra members of an error that a client may see (others, such as audit hints, stay on the server)
_PUBLIC_EXTRAS = frozenset({"allowed", "current_version", "missing", "index", "where"})


class FieldProblem(msgspec.Struct, frozen=True):
    """One parameter or field that was wrong (Litestar's validation report, passed on as it came)."""

    message: Annotated[str, msgspec.Meta(description="哪里不对")]
    key: Annotated[str | None, msgspec.Meta(description="参数或字段名")] = None
    source: Annotated[str | None, msgspec.Meta(description="位置：query、path、header、cookie 或 body")] = None


class Problem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """RFC 9457 problem details (``application/problem+json``): what every error answer of the API carries.

    The OpenAPI document names this one schema for every error status (fuquan.platform.app.openapi), so it lists
    exactly the members the handlers above and the commit guard (app.transactions) send."""

    type: Annotated[str, msgspec.Meta(description="问题类型（URI）")]
    title: Annotated[str, msgspec.Meta(description="问题类别的简短说明（中文）")]
    status: Annotated[int, msgspec.Meta(description="HTTP 状态码")]
    detail: Annotated[str, msgspec.Meta(description="这一次哪里不对、该怎么办（中文，可展示给办事人员）")]
    instance: Annotated[str | None, msgspec.Meta(description="请求的路径")] = None
    request_id: Annotated[str | None, msgspec.Meta(description="请求编号（X-Request-Id），联系运维时请提供")] = None
    rule: Annotated[
        str | None, msgspec.Meta(description="被违反的规则名（稳定的机器可读名称，如 role_permission）")
    ] = None
    errors: Annotated[list[FieldProblem] | None, msgspec.Meta(description="逐项列出的输入错误")] = None
    allowed: Annotated[list[str] | None, msgspec.Meta(description="当前状态下可办理的步骤")] = None
    current_version: Annotated[int | None, msgspec.Meta(description="办件的当前版本（乐观锁冲突时）")] = None
    missing: Annotated[list[str] | None, msgspec.Meta(description="仍缺的必需材料")] = None
    index: Annotated[int | None, msgspec.Meta(description="出错的条目序号")] = None
    where: Annotated[str | None, msgspec.Meta(description="含有无法保存字符的位置")] = None


def fuquan_error_handler(request: Request[Any, Any, Any], error: FuquanError) -> Response[Any]:
    extras = {key: value for key, value in error.extra.items() if key in _PUBLIC_EXTRAS}
    response = _problem(request, error.status, error.title, error.detail, error.type_slug, rule=error.rule, **extras)
    retry_after = error.extra.get("retry_after")
    if isinstance(retry_after, int):  # RFC 9110: when to try again (a throttled login)
        response.headers["Retry-After"] = str(retry_after)
    return response


_MISSING = re.compile(r"Missing required (\w+) parameter '([^']+)'")
_PLACES = {"query": "查询参数", "header": "请求头", "cookie": "Cookie", "path": "路径参数"}


def _validation_detail(message: str, extra: Any) -> tuple[str, list[dict[str, Any]]]:
    """What was wrong, naming each parameter or field (Litestar says it in English, or in ``extra``)."""
    errors = [
        {**e, "message": in_chinese(e["message"])} if isinstance(e.get("message"), str) else e
        for e in (extra or [])
        if isinstance(e, dict)
    ]
    if not errors:
        missing = _MISSING.search(message or "")
        if missing is None:
            return "请求内容不符合要求", []
        place, name = _PLACES.get(missing.group(1), "参数"), missing.group(2)
        return f"缺少必填的{place} {name}", [{"key": name, "source": missing.group(1), "message": "必填"}]
    parts = []
    for error in errors:
        where = error.get("key") or error.get("source") or "请求"
        parts.append(f"{where}：{error.get('message', '格式不正确')}")
    return "；".join(parts), errors


def http_error_handler(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    status = error.status_code
    if status >= 500:
        log.error("request_failed", error_type=type(error).__name__, error=str(error.detail))
    if isinstance(error, ValidationException):
        detail, errors = _validation_detail(error.detail, error.extra)
        return _problem(request, 400, "输入不符合要求", detail, "validation-failed", errors=errors or None)
    if isinstance(error, NotAuthorizedException):
        return _problem(request, 401, "需要登录", "请先登录（缺少或无效的访问令牌）", "unauthenticated")
    if isinstance(error, NotFoundException):
        return _problem(request, 404, "未找到", "请求的地址不存在", "not-found")
    title = _HTTP_TITLES.get(status, "请求未能完成")
    detail = error.detail if error.detail and not error.detail.isascii() else title
    headers = error.headers or {}
    response = _problem(request, status, title, detail, f"http-{status}")
    response.headers.update(headers)
    return response


def stale_data_handler(request: Request[Any, Any, Any], error: StaleDataError) -> Response[Any]:
    """Optimistic locking lost a race: someone else changed the row between our read and write."""
    return _problem(request, 409, "状态冲突", "该记录刚被他人更新，请刷新后重试", "conflict", rule="stale_version")


def unexpected_error_handler(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    log.exception("request_failed", error_type=type(error).__name__)
    return _problem(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "系统内部错误",
        "系统处理出错，已记录。请稍后重试或联系管理员，并提供请求编号。",
        "internal-error",
    )


def unreadable_input(error: Exception) -> ClientException | None:
    """A request the framework could not read, surfacing as a plain Python error instead of its own 400.

    Two are known: a multipart part with an empty file name and bytes that are not UTF-8 (Litestar
    decodes it as a text field: ``UnicodeDecodeError`` inside ``litestar``), and a JSON body nested
    deeper than the decoder's recursion limit (msgspec: ``RecursionError`` "… while deserializing").
    Anything else stays a 500: our own bugs must not pass for the client's."""
    if isinstance(error, UnicodeDecodeError) and _raised_in_litestar(error):
        return ClientException("提交的内容含有无法识别的字符（不是 UTF-8 文本）；上传文件请选择带文件名的文件后重试")
    if isinstance(error, RecursionError) and "deserializ" in str(error):
        return ClientException("提交的内容嵌套层级过深，无法解析")
    return None


def _raised_in_litestar(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and f"{os.sep}litestar{os.sep}" in frames[-1].filename


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    FuquanError: fuquan_error_handler,
    HTTPException: http_error_handler,
    StaleDataError: stale_data_handler,
    Exception: unexpected_error_handler,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "FieldProblem", "MediaType", "Problem"]
