"""What every rule of materials elimination shares: the question being asked, the gateway client to ask it
with, and how an answer is phrased."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from fuquan.integrations.gateway.client import GatewayClient
from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched
from fuquan.integrations.shared_data import (
    AnswerStatus,
    Fact,
    SharedDataAnswer,
    SharedDataRequest,
    describe,
)
from fuquan.platform.core.timeutil import utcnow

T = TypeVar("T")
ClientFor = Callable[[str], GatewayClient | None]  # partner -> this tenant's client (None: not configured)
Rule = Callable[["Asking"], Awaitable[SharedDataAnswer]]

STATUS_NAMES = {"valid": "正常", "cancelled": "已注销户口", "deceased": "已死亡"}
ASSISTANCE_NAMES = {"dibao": "最低生活保障", "tekun": "特困人员救助供养"}
ENTERPRISE_STATUS_NAMES = {"active": "存续（在业）", "deregistered": "已注销", "revoked": "已吊销"}
OWN_RECORD_KINDS = ("employment_registration", "unemployment_registration", "employment_difficulty")
REGISTRATION_KIND = {
    "employment_registration": "employment",
    "unemployment_registration": "unemployment",
    "employment_difficulty": "employment_difficulty",
}
REGISTRATION_NAMES = {
    "employment_registration": "就业登记",
    "unemployment_registration": "失业登记",
    "employment_difficulty": "就业困难人员认定",
}


@dataclass(frozen=True, slots=True)
class Asking:
    """One request being answered: the question, the client for its source, the call context."""

    request: SharedDataRequest
    client: GatewayClient
    ctx: CallContext

    @property
    def today(self) -> date:
        return self.request.today or utcnow().date()

    @property
    def label(self) -> str:
        return describe(self.request.source, self.request.evidence)

    def answer(
        self, outcome: AnswerStatus, reason: str, fetched: Fetched[Any] | None = None, /, **facts: Fact
    ) -> SharedDataAnswer:
        reply = fetched.reply if fetched is not None else None
        return SharedDataAnswer(
            status=outcome,
            source=self.request.source,
            evidence=self.request.evidence,
            reason=reason,
            facts=dict(facts),
            service=None if fetched is None else fetched.service,
            fetched_at=None if reply is None else reply.fetched_at,
            request_hash=None if reply is None else reply.request_hash,
            response_hash=None if reply is None else reply.response_hash,
            source_request_id=None if reply is None else reply.request_id,
            attempts=0 if reply is None else reply.attempts,
            elapsed_ms=0 if reply is None else round(reply.elapsed_ms),
            cached=False if reply is None else reply.cached,
        )

    def related(self) -> tuple[str, str] | None:
        request = self.request
        if request.related_id_number is None:
            return None
        return request.related_id_number, request.related_name or ""


def iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
