"""One error hierarchy, mapped to RFC 9457 problem details in one place (``problem_details``).

Messages are written for a clerk: Chinese first, saying what was wrong and what to do.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FuquanError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "请求有误"
    type_slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str, *, rule: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.rule = rule
        self.extra = extra


class BadRequest(FuquanError):
    status = 400


class ValidationFailed(FuquanError):
    status = 422
    title = "输入不符合要求"
    type_slug = "validation-failed"


class RuleViolation(FuquanError):
    """A domain rule (e.g. a re-delegation rule of DESIGN §6.1) forbids the request."""

    status = 422
    title = "违反业务规则"
    type_slug = "rule-violation"


class Unauthenticated(FuquanError):
    status = 401
    title = "需要登录"
    type_slug = "unauthenticated"


class PermissionDenied(FuquanError):
    status = 403
    title = "没有权限"
    type_slug = "permission-denied"


class NotFound(FuquanError):
    """Also the answer for anything outside the caller's tenant or scope (no existence oracle)."""

    status = 404
    title = "未找到"
    type_slug = "not-found"


class Conflict(FuquanError):
    status = 409
    title = "状态冲突"
    type_slug = "conflict"


class InvalidTransition(Conflict):
    type_slug = "invalid-transition"


class TooManyRequests(FuquanError):
    status = 429
    title = "请求过于频繁"
    type_slug = "too-many-requests"


class IntegrationUnavailable(FuquanError):
    status = 503
    title = "外部系统不可用"
    type_slug = "integration-unavailable"
