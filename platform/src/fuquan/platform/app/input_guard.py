"""Text that cannot be stored is refused before anything reads it (DESIGN §10, "bad input gets a clear 4xx").

PostgreSQL's text cannot hold NUL (U+0000), and UTF-8 cannot hold lone surrogates (U+D800–U+DFFF) or bytes that
do not decode: such text reached the database driver and failed there as a 500. One place checks every way text
arrives — the path, the query string, every body whatever its declared type (the framework reads a JSON body it
is handed under any content type), URL-encoded forms, and the text fields and file names of multipart forms as
they stream past — for every route, and answers 400 with the place named. Over-long values are each schema's own
limits.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final, cast
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, HTTPScope, Receive, ReceiveMessage, Scope, Send
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header  # type: ignore[import-untyped]

from fuquan.platform.core.errors import BadRequest, FuquanError

_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")
_JSON: Final = re.compile(rb"^application/([\w.+-]+\+)?json\b")
_FORM: Final = b"application/x-www-form-urlencoded"
_MULTIPART: Final = b"multipart/form-data"
# the framework's own default limit: no route takes a larger body that is not a multipart upload
MAX_CHECKED_BODY: Final = 10_000_000
_BODILESS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


class UnstorableText(BadRequest):
    title = "内容包含无法保存的字符"
    type_slug = "unstorable-text"

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where} 含有无法保存的字符（空字符 U+0000、孤立代理项或无效的 UTF-8 编码），请删除后重新提交",
            rule="unstorable_text",
            where=where,
        )


class BodyTooLarge(FuquanError):
    status = 413
    title = "提交的内容过大"
    type_slug = "payload-too-large"


def _check_text(text: str, where: str) -> None:
    if _UNSTORABLE.search(text):
        raise UnstorableText(where)


def _check_bytes(raw: bytes, where: str) -> None:
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise UnstorableText(where) from None
    _check_text(text, where)


def _walk(value: Any) -> bool:
    """True when any string in a decoded JSON document (keys included) cannot be stored."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_walk(key) or _walk(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_walk(item) for item in value)
    return False


def _check_body(body: bytes, content_type: bytes) -> None:
    if not content_type.startswith(_FORM):  # JSON, or what a route may read as JSON whatever it was called
        try:
            document = msgspec.json.decode(body)
        except msgspec.DecodeError:
            # msgspec refuses a lone surrogate escape ("\ud800") as if the input were cut short; Python's decoder
            # reads it, which tells the two apart. Anything else that is not JSON: the route refuses it itself
            try:
                document = json.loads(body)
            except ValueError:
                return
        if _walk(document):
            raise UnstorableText("提交的内容")
    else:
        _check_bytes(body, "表单")
        try:  # a percent-escape can still decode to bytes that are not UTF-8
            pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise UnstorableText("表单") from None
        for name, value in pairs:
            _check_text(name, "表单")
            _check_text(value, f"表单字段 {name}")


class _MultipartText:
    """Checks a multipart body's field names, file names and text fields as its chunks pass to the route (files are
    bytes and pass unread). Malformed bodies are left to the framework's parser, which refuses them."""

    def __init__(self, boundary: bytes) -> None:
        self.parser = PushMultipartParser(boundary)
        self.segment: MultipartSegment | None = None
        self.text = bytearray()
        self.broken = False

    def feed(self, chunk: bytes) -> None:
        if self.broken or self.parser.closed:
            return
        try:
            for part in self.parser.parse(chunk):
                if isinstance(part, MultipartSegment):
                    self.segment = part
                    _check_text(part.name, "表单")
                    if part.filename:
                        _check_text(part.filename, f"表单字段 {part.name} 的文件名")
                elif part and self.segment is not None and not self.segment.filename:
                    self.text.extend(part)
                elif part is None and self.segment is not None:
                    if not self.segment.filename:
                        _check_bytes(bytes(self.text), f"表单字段 {self.segment.name}")
                    self.segment, self.text = None, bytearray()
        except MultipartError:  # malformed or past its limits: the framework's own parser refuses it
            self.broken = True


def input_guard(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: the path and query string of every request, and every body: a multipart one as it streams
    to the route, any other read whole (up to ``MAX_CHECKED_BODY``) and checked before the route sees it."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        _check_text(scope["path"], "网址路径")
        query = scope["query_string"]
        if query:
            _check_bytes(query, "查询参数")
            try:
                pairs = parse_qsl(query.decode(), keep_blank_values=True, errors="strict")
            except UnicodeDecodeError:
                raise UnstorableText("查询参数") from None
            for name, value in pairs:
                _check_text(name, "查询参数")
                _check_text(value, f"查询参数 {name}")
        if cast("HTTPScope", scope)["method"] in _BODILESS:
            await app(scope, receive, send)
            return
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"").lower()
        if content_type.startswith(_MULTIPART):
            await app(scope, _checking_multipart(receive, content_type), send)
            return
        messages: list[ReceiveMessage] = []
        size = 0
        while True:  # read the body once, keep it, and hand the same messages on
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message["body"])
            if size > MAX_CHECKED_BODY:
                raise BodyTooLarge(f"提交的内容超过 {MAX_CHECKED_BODY // 1_000_000} MB，请精简后重新提交",
                                   rule="body_too_large")  # fmt: skip
            if not message.get("more_body", False):
                break
        _check_body(b"".join(m["body"] for m in messages if m["type"] == "http.request"), content_type)

        async def replay() -> ReceiveMessage:
            return messages.pop(0) if messages else await receive()

        await app(scope, replay, send)

    return middleware


def _checking_multipart(receive: Receive, content_type: bytes) -> Receive:
    boundary = parse_options_header(content_type.decode("latin-1"))[1].get("boundary", "")
    checker = _MultipartText(boundary.encode("latin-1")) if boundary else None  # none: the framework refuses it

    async def checked() -> ReceiveMessage:
        message = await receive()
        if checker is not None and message["type"] == "http.request":
            checker.feed(message["body"])
        return message

    return checked
