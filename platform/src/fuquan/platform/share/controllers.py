"""数据共享接口 /api/share/v1: partner departments' signed calls (DESIGN §9), answered ``{code, msg, data}``.

No bearer token, session or CSRF here: each call is signed (HMAC-SM3) by the partner's application key and
admitted by ``services.calls``. The API has its own OpenAPI document (``/api/share/v1/openapi.json``, read with
``/api/share/v1/docs``), apart from the staff API's; every answer, refusals included, is an envelope.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.integrations.gateway.protocol import HTTP_STATUS, Envelope, ResultCode
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.config import Settings
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.share.openapi import share_document
from fuquan.platform.share.services import datasets, feed, uses
from fuquan.platform.share.services.calls import Answered, Caller, CallRecord, Inbound, Limits, serve
from fuquan.platform.share.services.directory import ShareDirectory

SHARE_PREFIX: Final = "/api/share/v1"
MAX_BODY: Final = 64 * 1024  # a batch of 100 subjects is about 6 KB
_OPEN: Final = {"public": True, "exclude_from_auth": True}  # no bearer token: each call is signed

_DOCS_PAGE: Final = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>赋权 数据共享接口 /api/share/v1</title>
<link rel="stylesheet" href="/static/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="swagger-ui" data-spec="{SHARE_PREFIX}/openapi.json"></div>
<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/static/share/docs.js"></script></body></html>
"""
_STATUS_CODES: Final = {status: code for code, status in HTTP_STATUS.items()}


def envelope_response(status: int, code: ResultCode | str, msg: str, data: Any = None,
                      headers: dict[str, str] | None = None) -> Response[bytes]:  # fmt: skip
    return Response(
        msgspec.json.encode(Envelope(str(code), msg, data)), status_code=status, media_type=MediaType.JSON,
        headers=headers,
    )  # fmt: skip


def share_refusal(request: Request[Any, Any, Any], status: int, detail: str | None) -> Response[bytes] | None:
    """An error answered outside the share routes (the input guard, the rate limit, an unknown path, a body too
    large) to a call on /api/share: an envelope too, with the status's code. None for any other path."""
    if not request.url.path.startswith(SHARE_PREFIX):
        return None
    code = _STATUS_CODES.get(status, ResultCode.BAD_REQUEST if status < 500 else ResultCode.INTERNAL_ERROR)
    if status == 413:
        detail = f"请求体过大（不超过 {MAX_BODY // 1024} KB）"
    elif status == 429:
        detail = "调用过于频繁，请按 Retry-After 头（秒）稍后重试"
    elif status == 404 and not (detail and not detail.isascii()):
        detail = "接口地址不存在"
    elif status == 405:
        detail = "接口不支持该请求方法"
    return envelope_response(status, code, detail or "请求有误")


def _answer(answered: Answered) -> Response[bytes]:
    headers = None if answered.retry_after is None else {"Retry-After": str(answered.retry_after)}
    envelope = answered.envelope
    return envelope_response(answered.status, envelope.code, envelope.msg, envelope.data, headers)


def _signed_path(request: Request[Any, Any, Any]) -> str:
    """What the signature covers as ``path``: the path as sent, with its query string if it has one."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


async def _inbound(request: Request[Any, Any, Any], dataset: str) -> Inbound:
    body = await request.body()
    client = request.client.host if request.client else ""
    return Inbound(request.headers, request.method, _signed_path(request), body, client, dataset)


class ShareApiController(Controller):
    """Signed calls of partner departments' applications."""

    path = SHARE_PREFIX
    include_in_schema = False  # documented apart: share_document()
    opt = _OPEN
    request_max_body_size = MAX_BODY

    async def _verify(
        self, request: Request[Any, Any, Any], domain: str, name: str, session_maker: async_sessionmaker[AsyncSession],
        key_ring: KeyRing, share_directory: ShareDirectory, settings: Settings, *, batch: bool,
    ) -> Response[bytes]:  # fmt: skip
        dataset = f"{domain}/{name}"
        call = await _inbound(request, dataset)

        async def work(session: AsyncSession, caller: Caller, record: CallRecord) -> tuple[Any, str]:
            return await datasets.verify(
                session, key_ring, share_directory, caller, record, datasets.dataset_or_404(dataset), call.body,
                batch=batch,
            )  # fmt: skip

        return _answer(await serve(session_maker, share_directory, call, Limits(settings.share_calls_per_day), work))

    @post("/{domain:str}/{name:str}", status_code=200)
    async def verify_one(
        self, request: Request[Any, Any, Any], domain: FromPath[str], name: FromPath[str],
        session_maker: NamedDependency[async_sessionmaker[AsyncSession]], key_ring: NamedDependency[KeyRing],
        share_directory: NamedDependency[ShareDirectory], settings: NamedDependency[Settings],
    ) -> Response[bytes]:  # fmt: skip
        """单个核验."""
        return await self._verify(request, domain, name, session_maker, key_ring, share_directory, settings,
                                  batch=False)  # fmt: skip

    @post("/{domain:str}/{name:str}/batch", status_code=200)
    async def verify_batch(
        self, request: Request[Any, Any, Any], domain: FromPath[str], name: FromPath[str],
        session_maker: NamedDependency[async_sessionmaker[AsyncSession]], key_ring: NamedDependency[KeyRing],
        share_directory: NamedDependency[ShareDirectory], settings: NamedDependency[Settings],
    ) -> Response[bytes]:  # fmt: skip
        """批量核验 (up to 100 subjects)."""
        return await self._verify(request, domain, name, session_maker, key_ring, share_directory, settings,
                                  batch=True)  # fmt: skip

    @get("/feeds/cases")
    async def case_feed(
        self, request: Request[Any, Any, Any], session_maker: NamedDependency[async_sessionmaker[AsyncSession]],
        share_directory: NamedDependency[ShareDirectory], settings: NamedDependency[Settings],
        catalogs: NamedDependency[CatalogCache],
    ) -> Response[bytes]:  # fmt: skip
        """办件流: case events after ``cursor``, ``limit`` at a time."""
        call = await _inbound(request, "cases/feed")
        cursor = request.query_params.get("cursor", "")
        limit_text = request.query_params.get("limit", "100")

        async def work(session: AsyncSession, caller: Caller, record: CallRecord) -> tuple[Any, str]:
            limit = int(limit_text) if limit_text.isascii() and limit_text.isdigit() and len(limit_text) < 5 else 0
            return await feed.page(session, catalogs, share_directory, caller, cursor, limit)

        return _answer(await serve(session_maker, share_directory, call, Limits(settings.share_calls_per_day), work))

    @get("/openapi.json", media_type=MediaType.JSON)
    async def document(self) -> dict[str, Any]:
        """The partners' OpenAPI document."""
        return share_document()

    @get("/docs", media_type=MediaType.HTML)
    async def docs(self) -> str:
        """The document read in Swagger UI (vendored assets, no inline script)."""
        return _DOCS_PAGE


class DataUseRead(msgspec.Struct, frozen=True, kw_only=True):
    at: str
    department: str
    application: str
    dataset: str
    purpose: str
    operator: str


class PublicDataUseController(Controller):
    """The resident's side: which department asked what about them, when and why (12 months)."""

    path = "/api/v1/public/cases"
    tags = ["public 公众查询"]

    @get("/{receipt_no:str}/data-uses", summary="本人信息被共享使用的记录（近 12 个月）",
         opt={"public": True, "exclude_from_auth": True})  # fmt: skip
    async def data_uses(
        self, receipt_no: FromPath[str], db_session: NamedDependency[AsyncSession], code: FromQuery[str] = ""
    ) -> list[DataUseRead]:
        return [DataUseRead(**dataclasses.asdict(use)) for use in await uses.data_uses(db_session, receipt_no, code)]


def counts_share_call(_method: str, path: str) -> bool:
    """What the per-key limit counts: the signed calls (not the document)."""
    return path.startswith(SHARE_PREFIX) and not path.startswith((f"{SHARE_PREFIX}/openapi", f"{SHARE_PREFIX}/docs"))


def calling_key(request: Request[Any, Any, Any]) -> str:
    """Per key *and* calling address: a stranger sending a known key id with bad signatures from elsewhere does
    not use up the department's own minute."""
    key = request.headers.get("x-app-key", "")[:40]
    return f"{key}|{request.client.host if request.client else ''}"
