"""The signed request and the response envelope every partner gateway speaks (DESIGN §8, §9).

Request headers::

    X-App-Key     the caller's application key (one per tenant and partner)
    X-Timestamp   Unix seconds; the receiver accepts ±300 s
    X-Nonce       single use within the timestamp window (replay protection)
    X-Request-Id  the caller's request id, echoed back
    X-Purpose     why the data is asked for: the case's receipt number (办件编号)
    X-User-Id     the staff member acting
    X-Signature   hex(HMAC-SM3(secret, METHOD\\npath\\napp_key\\ntimestamp\\nnonce\\nhex(SM3(body))))

Responses are ``{"code": "00", "msg": "...", "data": {...}}``; any other code is an error of one of
the kinds in ``ResultCode``.
"""

from __future__ import annotations

import hmac as std_hmac
import re
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import msgspec

from fuquan.platform.core.crypto import hmac_sm3_hex, sm3_hex

__all__ = [
    "HEADER_APP_KEY",
    "HEADER_NONCE",
    "HEADER_PURPOSE",
    "HEADER_REQUEST_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "HEADER_USER_ID",
    "TIMESTAMP_WINDOW_SECONDS",
    "Envelope",
    "Refused",
    "ResultCode",
    "SignedHeaders",
    "canonical_string",
    "new_nonce",
    "sign",
    "signature_matches",
    "verify_call",
]

HEADER_APP_KEY = "X-App-Key"
HEADER_TIMESTAMP = "X-Timestamp"
HEADER_NONCE = "X-Nonce"
HEADER_REQUEST_ID = "X-Request-Id"
HEADER_PURPOSE = "X-Purpose"
HEADER_USER_ID = "X-User-Id"
HEADER_SIGNATURE = "X-Signature"

TIMESTAMP_WINDOW_SECONDS = 300


class ResultCode(StrEnum):
    """``code`` of the response envelope, with the HTTP status the gateway answers with."""

    OK = "00"  # 200
    NOT_FOUND = "10"  # 404 查无此记录
    BAD_REQUEST = "20"  # 400 参数错误
    AUTH_FAILED = "30"  # 401 签名、应用密钥、时间戳或随机数无效
    FORBIDDEN = "31"  # 403 该应用无权访问此服务或用途
    RATE_LIMITED = "40"  # 429 调用过于频繁
    INTERNAL_ERROR = "50"  # 500 系统内部错误
    UNAVAILABLE = "51"  # 503 服务暂不可用


HTTP_STATUS: dict[ResultCode, int] = {
    ResultCode.OK: 200,
    ResultCode.NOT_FOUND: 404,
    ResultCode.BAD_REQUEST: 400,
    ResultCode.AUTH_FAILED: 401,
    ResultCode.FORBIDDEN: 403,
    ResultCode.RATE_LIMITED: 429,
    ResultCode.INTERNAL_ERROR: 500,
    ResultCode.UNAVAILABLE: 503,
}


class Envelope(msgspec.Struct, frozen=True):
    """``{"code", "msg", "data"}``; ``data`` is the service's result when ``code == "00"``."""

    code: str
    msg: str
    data: Any = None


class SignedHeaders(msgspec.Struct, frozen=True, kw_only=True):
    app_key: str
    timestamp: int
    nonce: str
    request_id: str
    purpose: str
    user_id: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            HEADER_APP_KEY: self.app_key,
            HEADER_TIMESTAMP: str(self.timestamp),
            HEADER_NONCE: self.nonce,
            HEADER_REQUEST_ID: self.request_id,
            HEADER_PURPOSE: self.purpose,
            HEADER_USER_ID: self.user_id,
            HEADER_SIGNATURE: self.signature,
        }


def canonical_string(method: str, path: str, app_key: str, timestamp: int | str, nonce: str, body: bytes) -> bytes:
    """``METHOD\\npath\\napp_key\\ntimestamp\\nnonce\\nhex(SM3(body))`` — what the signature covers."""
    return f"{method.upper()}\n{path}\n{app_key}\n{timestamp}\n{nonce}\n{sm3_hex(body)}".encode()


def new_nonce() -> str:
    return secrets.token_hex(16)


def sign(
    secret: str,
    method: str,
    path: str,
    body: bytes,
    *,
    app_key: str,
    timestamp: int,
    nonce: str,
    request_id: str,
    purpose: str,
    user_id: str,
) -> SignedHeaders:
    signature = hmac_sm3_hex(secret.encode(), canonical_string(method, path, app_key, timestamp, nonce, body))
    return SignedHeaders(
        app_key=app_key,
        timestamp=timestamp,
        nonce=nonce,
        request_id=request_id,
        purpose=purpose,
        user_id=user_id,
        signature=signature,
    )


def signature_matches(
    secret: str, method: str, path: str, body: bytes, *, app_key: str, timestamp: str, nonce: str, signature: str
) -> bool:
    """Constant-time comparison of the presented signature with the expected one."""
    expected = hmac_sm3_hex(secret.encode(), canonical_string(method, path, app_key, timestamp, nonce, body))
    return std_hmac.compare_digest(expected, signature.strip().lower())


class Refused(Exception):
    """A signed call refused before its body is read as a query: ``reason`` (for statistics and the audit
    trail), the envelope's ``code`` and the message for the caller."""

    def __init__(self, reason: str, code: ResultCode, msg: str) -> None:
        super().__init__(msg)
        self.reason, self.code, self.msg = reason, code, msg


@dataclass(frozen=True, slots=True)
class VerifiedCall:
    app_key: str
    request_id: str
    purpose: str
    user_id: str


_TIMESTAMP = re.compile(r"-?[0-9]{1,12}")
_SIGNING_HEADERS = (HEADER_APP_KEY, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE)


async def verify_call(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    now: float,
    secret_of: Callable[[str], Awaitable[str | None]],
    use_nonce: Callable[[str, str], Awaitable[bool]],
) -> VerifiedCall:
    """The receiving side of the protocol — the simulators' and Fuquan's own data-sharing API alike, so the two
    agree byte for byte. In order: the signing headers are there, the request id is, the app key is known
    (``secret_of``), the timestamp is within ±300 s of ``now``, the signature covers this method, path and exact
    body, the nonce was not used before (``use_nonce`` remembers it, in a store every replica shares), and the
    purpose and the acting user are given. Raises ``Refused``."""
    missing = [name for name in _SIGNING_HEADERS if not headers.get(name, "").strip()]
    if missing:
        raise Refused("missing_header", ResultCode.AUTH_FAILED, f"缺少签名请求头：{'、'.join(missing)}")
    request_id = headers.get(HEADER_REQUEST_ID, "").strip()
    if not request_id:
        raise Refused("missing_header", ResultCode.BAD_REQUEST, f"缺少请求头：{HEADER_REQUEST_ID}")
    app_key = headers[HEADER_APP_KEY].strip()
    secret = await secret_of(app_key)
    if secret is None:
        raise Refused("unknown_app_key", ResultCode.AUTH_FAILED, "应用密钥（X-App-Key）无效")
    timestamp = headers[HEADER_TIMESTAMP].strip()
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Refused("bad_timestamp", ResultCode.AUTH_FAILED, "时间戳格式不正确（应为 Unix 秒）")
    if abs(int(timestamp) - now) > TIMESTAMP_WINDOW_SECONDS:
        raise Refused("stale_timestamp", ResultCode.AUTH_FAILED, "时间戳超出允许范围")
    nonce = headers[HEADER_NONCE].strip()
    signature = headers[HEADER_SIGNATURE]
    if not signature_matches(secret, method, path, body, app_key=app_key, timestamp=timestamp, nonce=nonce,
                             signature=signature):  # fmt: skip
        raise Refused("bad_signature", ResultCode.AUTH_FAILED, "签名无效")
    if not await use_nonce(app_key, nonce):
        raise Refused("replayed_nonce", ResultCode.AUTH_FAILED, "重复的请求（nonce 已使用）")
    purpose = headers.get(HEADER_PURPOSE, "").strip()
    if not purpose:
        raise Refused("missing_purpose", ResultCode.BAD_REQUEST, "缺少用途 X-Purpose")
    user_id = headers.get(HEADER_USER_ID, "").strip()
    if not user_id:
        raise Refused("missing_user", ResultCode.BAD_REQUEST, "缺少经办人 X-User-Id")
    return VerifiedCall(app_key, request_id, purpose, user_id)
