"""Text that cannot be stored is refused before anything reads it (DESIGN §10, "bad input gets a clear 4xx").

PostgreSQL's text cannot hold NUL (U+0000), and UTF-8 cannot hold lone surrogates (U+D800–U+DFFF) or bytes that
do not decode: such text reached the database driver and failed there as a 500. One place checks every way text
arrives — the path, the query string, JSON bodies and URL-encoded forms — for every route, and answers 400 with
the place named. Multipart bodies are uploads: their files are bytes, and their few text fields are checked where
they are read. Over-long values are each schema's own limits.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final
from urllib.parse import parse_qsl

import msgspec
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from fuquan.platform.core.errors import BadRequest

_UNSTORABLE: Final = re.compile("[\x00\ud800-\udfff]")
_JSON: Final = re.compile(rb"^application/([\w.+-]+\+)?json\b")
_FORM: Final = b"application/x-www-form-urlencoded"
MAX_CHECKED_BODY: Final = 1 << 20  # larger JSON or form bodies are refused by the routes' own size limits


class UnstorableText(BadRequest):
    title = "内容包含无法保存的字符"
    type_slug = "unstorable-text"

    def __init__(self, where: str) -> None:
        super().__init__(
            f"{where} 含有无法保存的字符（空字符 U+0000、孤立代理项或无效的 UTF-8 编码），请删除后重新提交",
            rule="unstorable_text",
            where=where,
        )


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
    if _JSON.match(content_type):
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
    elif content_type.startswith(_FORM):
        _check_bytes(body, "表单")
        try:  # a percent-escape can still decode to bytes that are not UTF-8
            pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            raise UnstorableText("表单") from None
        for name, value in pairs:
            _check_text(name, "表单")
            _check_text(value, f"表单字段 {name}")


def input_guard(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: the path and query string of every request, and the body of JSON and form requests."""

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
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"").lower()
        if not (_JSON.match(content_type) or content_type.startswith(_FORM)):
            await app(scope, receive, send)
            return
        messages: list[ReceiveMessage] = []
        size = 0
        while True:  # read the body once, keep it, and hand the same messages on
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message["body"])
            if size > MAX_CHECKED_BODY or not message.get("more_body", False):
                break
        if size <= MAX_CHECKED_BODY:
            _check_body(b"".join(m["body"] for m in messages if m["type"] == "http.request"), content_type)

        async def replay() -> ReceiveMessage:
            return messages.pop(0) if messages else await receive()

        await app(scope, replay, send)

    return middleware
