"""The neutral shape both sides speak (../reference/sms_gateway_shape.yaml, ``neutral_shape``).

A send names an approved template by its vendor code and gives its parameters; the platform renders the text
with the approved signature (【签名】). ``message_id`` is the caller's idempotency key (Aliyun's ``OutId``,
Tencent's ``SessionContext``): a repeated id is answered with the first result and never sent again.
Requests are signed like the vendors' APIs: HMAC-SHA256 over the timestamp, the nonce and the exact body.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from enum import StrEnum
from typing import Annotated, Final

import msgspec
from msgspec import Meta

HEADER_KEY: Final = "X-Sms-Key"
HEADER_TIMESTAMP: Final = "X-Sms-Timestamp"
HEADER_NONCE: Final = "X-Sms-Nonce"
HEADER_SIGNATURE: Final = "X-Sms-Signature"
TIMESTAMP_WINDOW_SECONDS: Final = 300
SEND_PATH: Final = "/sms/send"

E164_CN = re.compile(r"^\+861[3-9]\d{9}$")
SIGN_NAME = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9]{2,12}$")  # 2–12 chars, 中文/英文/数字 (Aliyun, Tencent)
VENDOR_TEMPLATE = re.compile(r"^SMS_\d{6,12}$")
PARAM_MAX_LENGTH: Final = 35  # per variable: a receipt number (23) whole; the platforms cap variables at 20–35
_URL = re.compile(r"(https?://|www\.)", re.IGNORECASE)
_ID_NUMBER = re.compile(r"\d{17}[\dXx]")


class SmsCode(StrEnum):
    """The neutral error codes, each mapped from the vendors' (Aliyun ``isv.*``, Tencent ``FailedOperation.*``)."""

    OK = "OK"
    RATE_LIMITED = "RATE_LIMITED"
    INVALID_NUMBER = "INVALID_NUMBER"
    TEMPLATE_PARAM_MISSING = "TEMPLATE_PARAM_MISSING"
    TEMPLATE_PARAM_INVALID = "TEMPLATE_PARAM_INVALID"
    TEMPLATE_NOT_APPROVED = "TEMPLATE_NOT_APPROVED"
    SIGNATURE_NOT_APPROVED = "SIGNATURE_NOT_APPROVED"
    CONTENT_BLOCKED = "CONTENT_BLOCKED"
    AUTH_FAILED = "AUTH_FAILED"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    TIMEOUT_UNKNOWN = "TIMEOUT_UNKNOWN"


# worth another try later, with the same message id (the platform de-duplicates it)
RETRYABLE: Final = frozenset({SmsCode.RATE_LIMITED, SmsCode.PROVIDER_ERROR, SmsCode.TIMEOUT_UNKNOWN})


class SmsSend(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message_id: Annotated[str, Meta(min_length=8, max_length=64)]
    to: Annotated[str, Meta(max_length=16)]  # one E.164 number: each resident's parameters differ
    sign_name: str
    template: str  # the vendor's approved template code
    params: dict[str, str]


class SmsAnswer(msgspec.Struct, kw_only=True):
    code: SmsCode
    message: str = ""
    provider_msg_id: str | None = None
    duplicate: bool = False  # the message id was seen before: this is the first answer again


def param_problem(name: str, value: str) -> str | None:
    """Why a parameter value may not go out, or None: too long, a link, or a full ID number (never in an SMS)."""
    if len(value) > PARAM_MAX_LENGTH:
        return f"{name} 超过 {PARAM_MAX_LENGTH} 个字符"
    if _URL.search(value):
        return f"{name} 不能含网址"
    if _ID_NUMBER.search(value):
        return f"{name} 不能含完整身份证号码"
    return None


def signature(secret: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def to_e164(phone: str) -> str | None:
    """A mainland mobile number as E.164 (+86…), or None when it is not one."""
    digits = re.sub(r"[\s-]", "", phone)
    digits = digits.removeprefix("+86").removeprefix("0086").removeprefix("86") if len(digits) > 11 else digits
    number = f"+86{digits}"
    return number if E164_CN.match(number) else None
