"""API shapes of 审计查阅: audit records as the auditor (安全审计员) reads them, and the filters they search by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal

import msgspec

Outcome = Literal["success", "rejected", "failure"]
OUTCOMES: Final = {"success": "成功", "rejected": "被拒绝", "failure": "失败"}


class AuditRecordRead(msgspec.Struct, frozen=True):
    id: int
    seq: int | None  # its place in the tenant's hash chain; None for a second or so, until it is sealed
    occurred_at: datetime
    actor: str | None
    role: str | None
    unit: str | None
    action: str
    resource: str | None
    purpose: str | None
    outcome: str
    request_id: str | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """What the auditor searches for; every field narrows (None: any)."""

    since: datetime | None = None  # inclusive, UTC
    until: datetime | None = None  # exclusive, UTC
    actor: str | None = None  # a username, exactly
    unit: str | None = None  # the unit's subtree
    action: str | None = None  # exactly ("staff.disable"), or a family without a dot ("staff")
    outcome: str | None = None
