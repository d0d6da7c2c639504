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
import secrets
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
    "ResultCode",
    "SignedHeaders",
    "canonical_string",
    "new_nonce",
    "sign",
    "signature_matches",
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
