"""The OpenAPI document names every problem an operation can answer (RFC 9457, ``application/problem+json``).

Litestar documents an operation's success and, for a route with parameters, a 400 in its own JSON shape — which
this app never sends. What a route can answer besides follows from how it is reached, and is written down here,
in one place, for every route, from the route table:

- 400 everywhere: the input guard reads the path and query string of every request (and JSON and form bodies);
- 401 where a bearer token is needed; 403 where a permission beyond the caller's own session is;
- 404 where a path names a record, and where a logged-in caller names a unit, item, grant or case in the query
  or body (outside the caller's scope is "not found", DESIGN §5);
- 409 for writes (a conflicting change, a commit that raced another);
- 413 and 422 for routes reading a body, 422 also for a query (a domain rule on the values) and for any write a
  permission allows (a domain rule on the record, e.g. a staff member's last role);
- 401 and 429 where a password is checked (``login``: the login limit counts it), 429 where the residents'
  lookups are counted (``lookup``);
- 503 where the database is reached (every login-checked route, and routes with dependencies).

What a route's shape cannot tell is listed below: an answer (``_ALSO``), a success in several media types
(``_MEDIA_TYPES``), a body the route reads itself (``_BODIES``). Anyone may call a public operation: it says so
with ``security: []``. The contract test (tests/contract/test_openapi_contract.py) fails on any answer the
document does not describe.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, cast

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

from fuquan.platform.accounts.actor import SELF
from fuquan.platform.app.problems import PROBLEM_JSON, Problem
from fuquan.platform.app.security import PUBLIC
from fuquan.platform.cases.schemas import MaterialRequest

_SAFE: Final = frozenset({"GET", "HEAD", "OPTIONS"})

_DESCRIPTIONS: Final = {
    400: "请求格式有误：参数或请求体不符合要求，或含有无法保存的字符（rule: unstorable_text）",
    401: "需要登录：缺少访问令牌，或令牌已失效（rule: token）",
    403: "没有权限：岗位没有所需权限（rule: role_permission），或业务规则限定了办理单位、岗位",
    404: "未找到：对象不存在，或不在您的租户、管辖范围内（二者答复相同）",
    409: "状态冲突：与对象当前状态不符，或与同时进行的修改冲突；本次未保存，请刷新后重试",
    413: "请求内容过大",
    422: "输入不符合业务规则：rule 给出规则名，detail 说明原因",
    429: "请求过于频繁：请按 Retry-After 头（秒）稍后重试",
    503: "依赖的系统暂不可用（数据库、共享数据部门）：本次未保存，请稍后重试",
}

# (method, path) → answers a route gives that its shape does not show
_ALSO: Final[dict[tuple[str, str], frozenset[int]]] = {
    # reads its body itself (a multipart upload, or JSON): the upload's size and kind, the choice made
    ("POST", "/api/v1/cases/{case_id}/materials/{index}"): frozenset({413, 422}),
    # checks the current password, counted like a login's (rule: login_throttled)
    ("POST", "/api/v1/auth/password"): frozenset({429}),
    # a document the case's state does not have yet (rule: document_not_available)
    ("GET", "/api/v1/cases/{case_id}/documents/{document}"): frozenset({409}),
}


@dataclass(frozen=True, slots=True)
class _Shape:
    method: str
    path: str
    public: bool
    permission: str | None
    path_params: bool
    query_params: bool
    body: bool
    dependencies: bool


Counted = Callable[[str, str], bool]  # (method, path) → whether a per-client limit counts the route


def problem_statuses(shape: _Shape, login: Counted, lookup: Counted) -> frozenset[int]:
    """The error statuses a route of this shape can answer."""
    statuses = {400}
    if not shape.public:
        statuses |= {401, 503}
        if shape.permission not in (None, SELF):  # a route about the caller's own session names nothing else
            statuses.add(403)
            if shape.query_params or shape.body:
                statuses.add(404)
    if shape.path_params:
        statuses.add(404)
    if shape.method not in _SAFE:
        statuses.add(409)
        if shape.permission not in (None, SELF):
            statuses.add(422)
    if shape.body:
        statuses |= {413, 422}
    if shape.query_params:
        statuses.add(422)
    if login(shape.method, shape.path):
        statuses |= {401, 429}
    if lookup(shape.method, shape.path):
        statuses.add(429)
    if shape.dependencies:
        statuses.add(503)
    return frozenset(statuses | _ALSO.get((shape.method, shape.path), frozenset()))


# (method, path) → the media types a success answer comes in, when there are several (the stored file's own)
_MEDIA_TYPES: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("GET", "/api/v1/cases/{case_id}/materials/{index}/file"): ("image/*", "application/pdf", "application/octet-stream"),  # noqa: E501
}  # fmt: skip


def _material_body() -> RequestBody:
    """The material route reads its body itself, in either of two forms, so Litestar cannot see it."""
    pledge_or_deferral = msgspec.json.schema(MaterialRequest)["$defs"]["MaterialRequest"]
    upload = Schema(
        type=OpenAPIType.OBJECT,
        properties={"file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="照片或 PDF")},
        required=["file"],
    )
    return RequestBody(
        required=True,
        description="上传材料（multipart，字段 file），或以 JSON 选择告知承诺（pledge: true）或容缺（defer_until）",
        content={
            "multipart/form-data": OpenAPIMediaType(schema=upload),
            # msgspec's own JSON Schema of the struct the route decodes with: the document cannot drift from it
            "application/json": OpenAPIMediaType(schema=cast("Schema", pledge_or_deferral)),
        },
    )


# (method, path) → the request body of a route that reads its body itself
_BODIES: Final[dict[tuple[str, str], Callable[[], RequestBody]]] = {
    ("POST", "/api/v1/cases/{case_id}/materials/{index}"): _material_body,
}


def _operation_class(public: bool, media_types: tuple[str, ...], body: RequestBody | None) -> type[Operation]:
    """Litestar's operation, with ``security: []`` when anyone may call it (overriding the document's default
    bearer token), its success answers in each of ``media_types``, and the ``body`` it reads itself."""

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if public:
                self.security = []
            if body is not None:
                self.request_body = body
            for status, response in (self.responses or {}).items():
                if media_types and status.startswith("2") and isinstance(response, OpenAPIResponse):
                    schema = next(iter((response.content or {}).values())).schema
                    response.content = {media_type: OpenAPIMediaType(schema=schema) for media_type in media_types}

    return DocumentedOperation


def _shapes(app: Litestar) -> list[tuple[HTTPRouteHandler, _Shape]]:
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, kwargs) in route.route_handler_map.items():
            if method == "OPTIONS" or not handler.resolve_include_in_schema():
                continue
            shape = _Shape(
                method=method,
                path=route.path_format,
                public=bool(handler.opt.get(PUBLIC)),
                permission=handler.opt.get("permission"),
                path_params=bool(route.path_parameters),
                query_params=bool(kwargs.expected_query_params),
                body="data" in kwargs.expected_reserved_kwargs,
                dependencies=bool(kwargs.dependency_batches),
            )
            found.append((handler, shape))
    return found


def document_problems(app: Litestar, *, login: Counted, lookup: Counted) -> None:
    """Add each route's problem answers to its handler's ``responses`` (a route's own declaration wins), before
    the document is first built. ``login`` and ``lookup``: the routes the per-client limits count."""
    for handler, shape in _shapes(app):
        declared: dict[int, Any] = dict(handler.responses or {})
        for status in sorted(problem_statuses(shape, login, lookup)):
            declared.setdefault(
                status,
                ResponseSpec(
                    Problem, description=_DESCRIPTIONS[status], media_type=PROBLEM_JSON, generate_examples=False
                ),
            )
        handler.responses = declared
        media_types = _MEDIA_TYPES.get((shape.method, shape.path), ())
        body = _BODIES.get((shape.method, shape.path))
        if shape.public or media_types or body:
            handler.operation_class = _operation_class(shape.public, media_types, body() if body else None)
