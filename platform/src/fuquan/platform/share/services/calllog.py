"""调用日志: an application's latest calls as its tenant's administrator reads them — when, which dataset and purpose,
the caller's file number and operator, from which address, the outcome and why, and how many residents were asked
about. Never who they were: the log keeps them by blind index only, and this reading does not touch them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.gateway.protocol import ResultCode
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.timeutil import local_time
from fuquan.platform.share.repositories import ShareAppRepository, ShareCallRepository
from fuquan.platform.share.schemas import DATASETS, PURPOSES
from fuquan.tenants.scope import TenantScope

RECENT: Final = 50
MOST: Final = 500
CODE_NAMES: Final[dict[str, str]] = {
    ResultCode.OK: "成功",
    ResultCode.NOT_FOUND: "查无此记录",
    ResultCode.BAD_REQUEST: "参数错误",
    ResultCode.AUTH_FAILED: "认证失败",
    ResultCode.FORBIDDEN: "未获授权",
    ResultCode.RATE_LIMITED: "调用过于频繁",
    ResultCode.INTERNAL_ERROR: "系统内部错误",
    ResultCode.UNAVAILABLE: "服务暂不可用",
}


@dataclass(frozen=True, slots=True)
class CallEntry:
    at: str  # the tenant's local time
    dataset: str  # the dataset's title (its code when unknown)
    purpose: str  # the purpose's name (as sent when unknown)
    reference: str  # the caller's own file number
    operator: str  # the partner's operator (X-User-Id)
    client: str
    code: str
    code_name: str
    reason: str  # "answered", or the rule that refused the call
    subjects: int  # how many residents it asked about

    @property
    def answered(self) -> bool:
        return self.code == ResultCode.OK


async def recent_calls(session: AsyncSession, scope: TenantScope, code: str, limit: int = RECENT) -> list[CallEntry]:
    """The application's latest ``limit`` calls, newest first; NotFound for an application the tenant does not have."""
    app = await ShareAppRepository(session).by_code(scope, code)
    if app is None:
        raise NotFound(f"共享应用 {code} 不存在", rule="share_app_not_found")
    calls = await ShareCallRepository(session).recent(scope, app.id, max(1, min(limit, MOST)))
    return [
        CallEntry(
            at=local_time(call.at, scope.timezone),
            dataset=DATASETS[call.dataset].title if call.dataset in DATASETS else call.dataset,
            purpose=PURPOSES.get(call.purpose, call.purpose),
            reference=call.reference,
            operator=call.operator,
            client=call.client,
            code=call.code,
            code_name=CODE_NAMES.get(call.code, call.code),
            reason=call.reason,
            subjects=call.subjects,
        )
        for call in calls
    ]
