"""What can go wrong when asking a partner's gateway, as typed errors (DESIGN §8 "Resilience").

Every error names the partner, the service and the envelope ``code`` (``None`` when there was no
envelope), carries a ``message`` in Chinese that a clerk understands — never personal data, never
the partner's own ``msg`` — and a short ``kind`` that is stored with the evidence
(``SharedDataAnswer.failure``).

Two properties drive the resilience machinery:

``retryable``
    worth another attempt, for reads only: the partner failed, timed out or could not be reached.
``counts_as_failure``
    counts towards opening the partner's circuit breaker: everything except an answer
    (``PartnerNotFound``), a bad request (``PartnerRejected`` with code ``20``: the caller's fault)
    and what this side raises without asking the partner (``CircuitOpen``, ``BulkheadFull``).
"""

from __future__ import annotations

import math
from typing import ClassVar

__all__ = [
    "BulkheadFull",
    "CircuitOpen",
    "PartnerError",
    "PartnerFailed",
    "PartnerNotFound",
    "PartnerRateLimited",
    "PartnerRejected",
    "PartnerTimeout",
    "PartnerUnreachable",
]


class PartnerError(Exception):
    """Base class: a partner call that did not produce a usable answer."""

    kind: ClassVar[str] = "error"
    retryable: ClassVar[bool] = False
    local: ClassVar[bool] = False  # raised on this side, without asking the partner
    default_message: ClassVar[str] = "共享数据接口调用失败"

    def __init__(
        self,
        *,
        partner: str,
        service: str,
        code: str | None = None,
        message: str | None = None,
        http_status: int | None = None,
    ) -> None:
        self.partner = partner
        self.service = service
        self.code = code
        self.message = message or self._message_for(code)
        self.http_status = http_status
        self.attempts = 0  # set by the client: how many attempts were made before giving up
        super().__init__(self.message)

    def _message_for(self, code: str | None) -> str:
        return self.default_message

    @property
    def counts_as_failure(self) -> bool:
        return True

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(partner={self.partner!r}, service={self.service!r}, "
            f"code={self.code!r}, kind={self.kind!r})"
        )


class PartnerNotFound(PartnerError):
    """Code ``10``: the partner has no record. An answer, not a failure."""

    kind = "not_found"
    default_message = "对方系统查无此记录"

    @property
    def counts_as_failure(self) -> bool:
        return False


class PartnerRejected(PartnerError):
    """Codes ``20``/``30``/``31``: bad request, authentication or signature, forbidden. A configuration
    (or programming) problem: never retried."""

    kind = "rejected"
    default_message = "对方系统拒绝了本次查询，请联系系统管理员检查接口配置"
    _messages: ClassVar[dict[str, str]] = {
        "20": "对方系统认为查询参数有误，请联系系统管理员",
        "30": "对方系统未通过本平台的身份认证（应用密钥或签名无效），请联系系统管理员检查接口配置",
        "31": "本平台无权调用对方系统的该项服务或用途，请联系系统管理员",
    }

    def _message_for(self, code: str | None) -> str:
        return self._messages.get(code or "", self.default_message)

    @property
    def counts_as_failure(self) -> bool:
        return self.code != "20"  # a bad request is the caller's fault, not the partner's


class PartnerRateLimited(PartnerError):
    """Code ``40``: too many calls. Not retried at once (that would make it worse)."""

    kind = "rate_limited"
    default_message = "对方系统调用过于频繁，请稍后再试"


class PartnerFailed(PartnerError):
    """Codes ``50``/``51``, HTTP 5xx, a malformed envelope or a body that is not JSON."""

    kind = "failed"
    retryable = True
    default_message = "对方系统返回了无法识别的数据"
    _messages: ClassVar[dict[str, str]] = {
        "50": "对方系统内部错误，请稍后再试",
        "51": "对方系统暂不可用，请稍后再试",
    }

    def _message_for(self, code: str | None) -> str:
        return self._messages.get(code or "", self.default_message)


class PartnerTimeout(PartnerError):
    kind = "timeout"
    retryable = True
    default_message = "对方系统响应超时，请稍后再试"


class PartnerUnreachable(PartnerError):
    kind = "unreachable"
    retryable = True
    default_message = "无法连接对方系统（网络不通或对方服务未启动）"


class CircuitOpen(PartnerError):
    """The partner's circuit breaker is open: failing fast without calling it."""

    kind = "circuit_open"
    local = True

    def __init__(self, *, partner: str, service: str, retry_in_seconds: float, trial_in_flight: bool = False) -> None:
        self.retry_in_seconds = max(0.0, retry_in_seconds)
        if trial_in_flight:
            message = "对方系统近期连续故障，正在试探恢复，请稍后再试"
        else:
            message = f"对方系统近期连续故障，已暂停调用，约 {math.ceil(self.retry_in_seconds)} 秒后自动重试"
        super().__init__(partner=partner, service=service, message=message)

    @property
    def counts_as_failure(self) -> bool:
        return False


class BulkheadFull(PartnerError):
    """Too many calls in flight to this partner and the wait for a slot exceeded its limit."""

    kind = "bulkhead_full"
    local = True
    default_message = "对该部门的并发查询过多，请稍后再试"

    @property
    def counts_as_failure(self) -> bool:
        return False
