"""One call to the data-sharing API (/api/share/v1), from its signed headers to its logged answer.

Admission follows DESIGN §8 on the receiving side (``verify_call``, the code the simulators run): the key signs
the exact bytes, the timestamp is fresh, the nonce new on every replica. Then the application's own limits: the
addresses it calls from, the purpose and the caller's file number (``X-Purpose: dibao_eligibility:MZ2026-0153``),
the day's quota. Every call — answered or refused at any step — leaves one row in the call log in the same
transaction as its nonce, with the residents it asked about by blind index only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.integrations.gateway.protocol import (
    HEADER_APP_KEY,
    HEADER_REQUEST_ID,
    HEADER_USER_ID,
    HTTP_STATUS,
    Envelope,
    Refused,
    ResultCode,
    verify_call,
)
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import FuquanError, TooManyRequests
from fuquan.platform.core.timeutil import local_date, local_midnight, utcnow
from fuquan.platform.share.models import ShareApp
from fuquan.platform.share.repositories import ShareCallRepository
from fuquan.platform.share.schemas import PURPOSES
from fuquan.platform.share.services.apps import SigningKey
from fuquan.platform.share.services.directory import ShareDirectory
from fuquan.platform.share.services.nonces import use_nonce
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/()\-]{0,63}")


@dataclass(frozen=True, slots=True)
class Caller:
    """An admitted call: the application and its tenant, the key, why it asks and who asks."""

    app: ShareApp
    scope: TenantScope
    key_id: str
    purpose: str
    reference: str
    operator: str
    request_id: str


@dataclass(slots=True)
class CallRecord:
    """What the call log will say of this call; filled in as the call goes (a refused call keeps what was known)."""

    key_id: str
    dataset: str
    client: str
    request_id: str
    operator: str
    purpose: str = ""
    reference: str = ""
    app: ShareApp | None = None
    subjects: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Inbound:
    """The call as it arrived: its headers, method, path (what was signed), exact body bytes and peer address."""

    headers: Mapping[str, str]
    method: str
    path: str
    body: bytes
    client: str
    dataset: str


@dataclass(frozen=True, slots=True)
class Limits:
    calls_per_day: int


Work = Callable[[AsyncSession, Caller, CallRecord], Awaitable[tuple[Any, str]]]  # → (data, message)

_CODES: dict[int, ResultCode] = {404: ResultCode.NOT_FOUND, 403: ResultCode.FORBIDDEN, 401: ResultCode.AUTH_FAILED,
                                 429: ResultCode.RATE_LIMITED, 503: ResultCode.UNAVAILABLE}  # fmt: skip


def envelope_code(error: FuquanError) -> ResultCode:
    """The envelope's code of a domain refusal: 400 and 422 are the caller's parameters (20)."""
    return _CODES.get(error.status, ResultCode.BAD_REQUEST if error.status < 500 else ResultCode.INTERNAL_ERROR)


def _purpose(text: str) -> tuple[str, str]:
    purpose, _, reference = text.partition(":")
    purpose, reference = purpose.strip(), reference.strip()
    if purpose not in PURPOSES:
        raise Refused("unknown_purpose", ResultCode.BAD_REQUEST,
                      f"X-Purpose 的用途 {purpose[:32]!r} 不在共享目录中；可用的有：{'、'.join(PURPOSES)}")  # fmt: skip
    if not _REFERENCE.fullmatch(reference):
        raise Refused("missing_reference", ResultCode.BAD_REQUEST,
                      "X-Purpose 应为“用途:本部门案卷或业务编号”，如 dibao_eligibility:MZ2026-0153（编号最长 64 位，"
                      "字母、数字及 . _ / - ( )）")  # fmt: skip
    return purpose, reference


def _client_allowed(app: ShareApp, client: str) -> bool:
    if not app.allowed_clients:
        return True
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in app.allowed_clients.split(","))


async def admit(session: AsyncSession, directory: ShareDirectory, call: Inbound, record: CallRecord) -> Caller:
    """Verify the signature, timestamp and nonce, then the application's addresses and the purpose (``Refused``)."""
    found: dict[str, SigningKey] = {}

    async def secret_of(key_id: str) -> str | None:
        key = await directory.signing_key(session, key_id)
        if key is None:
            return None
        found["key"] = key
        record.app = key.app
        return key.secret

    async def nonce_is_new(key_id: str, nonce: str) -> bool:
        return await use_nonce(session, key_id, nonce)

    verified = await verify_call(call.headers, call.method, call.path, call.body, now=utcnow().timestamp(),
                                 secret_of=secret_of, use_nonce=nonce_is_new)  # fmt: skip
    key = found["key"]
    if not _client_allowed(key.app, call.client):
        raise Refused("client_not_allowed", ResultCode.FORBIDDEN, f"调用地址 {call.client} 不在本应用登记的地址范围内")
    purpose, reference = _purpose(verified.purpose)
    record.purpose, record.reference = purpose, reference
    return Caller(key.app, key.scope, verified.app_key, purpose, reference, verified.user_id, verified.request_id)


async def _count_quota(session: AsyncSession, directory: ShareDirectory, caller: Caller, limits: Limits) -> None:
    today = local_date(utcnow(), caller.scope.timezone)
    used = await directory.quota.count(session, caller.key_id, today)
    if used > limits.calls_per_day:
        midnight = local_midnight(today + timedelta(days=1), caller.scope.timezone)
        wait = max(1, int((midnight - utcnow()).total_seconds()))
        raise TooManyRequests(f"本应用密钥今日调用已达上限（{limits.calls_per_day} 次），请明日再试",
                              rule="share_daily_quota", retry_after=wait)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Answered:
    status: int
    envelope: Envelope
    retry_after: int | None = None


def _header(headers: Mapping[str, str], name: str, longest: int) -> str:
    return headers.get(name, "").strip()[:longest]


async def serve(
    session_maker: async_sessionmaker[AsyncSession], directory: ShareDirectory, call: Inbound, limits: Limits,
    work: Work,
) -> Answered:  # fmt: skip
    """Admit the call, do its work and log it — all in one transaction of its own, committed whatever the outcome,
    so a refused call's nonce is spent and its refusal logged like an answer."""
    record = CallRecord(
        key_id=_header(call.headers, HEADER_APP_KEY, 40), dataset=call.dataset, client=call.client[:45],
        request_id=_header(call.headers, HEADER_REQUEST_ID, 64), operator=_header(call.headers, HEADER_USER_ID, 64),
    )  # fmt: skip
    retry_after = None
    async with own_session(session_maker, writes=True) as session, session.begin():  # it writes: nonce, log
        try:
            caller = await admit(session, directory, call, record)
            data, message = await work(session, caller, record)
            await _count_quota(session, directory, caller, limits)
            code, reason, answer = ResultCode.OK, "answered", Envelope(ResultCode.OK, message, data)
        except Refused as refused:
            code, reason, answer = refused.code, refused.reason, Envelope(refused.code, refused.msg)
        except FuquanError as error:
            code = envelope_code(error)
            reason, answer = error.rule or type(error).__name__, Envelope(code, error.detail)
            retry_after = error.extra.get("retry_after")
        await _log(session, record, code, reason)
    level = log.info if code == ResultCode.OK else log.warning
    level("share_call_answered" if code == ResultCode.OK else "share_call_refused", dataset=call.dataset,
          app=None if record.app is None else record.app.code, code=str(code), reason=reason,
          subjects=len(record.subjects))  # fmt: skip
    return Answered(HTTP_STATUS[code], answer, retry_after)


async def _log(session: AsyncSession, record: CallRecord, code: ResultCode, reason: str) -> None:
    app = record.app
    call = {
        "tenant_id": None if app is None else app.tenant_id, "app_id": None if app is None else app.id,
        "key_id": record.key_id, "at": utcnow(), "dataset": record.dataset[:64], "purpose": record.purpose[:32],
        "reference": record.reference[:64], "operator": record.operator, "request_id": record.request_id,
        "client": record.client, "code": str(code), "reason": reason[:48], "subjects": len(set(record.subjects)),
    }  # fmt: skip
    await ShareCallRepository(session).add(call, record.subjects if app is not None else [])
