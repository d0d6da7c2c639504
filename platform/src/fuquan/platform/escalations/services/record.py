"""What every step of an escalation writes with it: the trace event and the audit record (one statement where the
database allows), the resident's SMS and the staff's inbox items — all in the step's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.escalations.models import Escalation, EscalationEvent, escalation_context
from fuquan.platform.notifications.services.outbox import inbox_row, sms_row
from fuquan.tenants.scope import TenantScope

RESIDENT_UPDATES = {
    "register": "已登记，由值班领导负责办理", "escalate": "已升级至{tier}办理",
    "resolve": "已有处理结果，请留意工作人员联系", "close": "已办结销号", "reopen": "已重新办理",
}  # fmt: skip


def event_row(escalation: Escalation, *, actor_id: int | None, actor_name: str, action: str, source: str | None,
              target: str, note: str | None, detail: dict[str, Any], now: datetime) -> NewRow:  # fmt: skip
    return NewRow(
        EscalationEvent.__table__,  # type: ignore[arg-type]
        {
            "escalation_id": escalation.id, "tenant_id": escalation.tenant_id, "seq": escalation.trace_length,
            "at": now, "actor_id": actor_id, "actor_name": actor_name, "action": action, "from_status": source,
            "to_status": target, "tier": escalation.tier, "note": note, "detail": detail,
        },
    )  # fmt: skip


def resident_sms(cipher: TenantCipher, scope: TenantScope, escalation: Escalation, update: str, now: datetime
                 ) -> list[NewRow]:  # fmt: skip
    """The resident's SMS of a step (escalation_update), when they gave a mobile number."""
    if escalation.phone_cipher is None:
        return []
    phone = cipher.decrypt(escalation.phone_cipher, context=escalation_context(scope.tenant_code, escalation.reg_no))
    row = sms_row(cipher, scope, kind="escalation_update", phone=phone, case_id=None, now=now,
                  dedupe_key=f"escalation:{escalation.id}:{escalation.trace_length}",
                  params={"no": escalation.reg_no, "status": update})  # fmt: skip
    return [] if row is None else [row]


def inbox_rows(escalation: Escalation, staff_ids: Sequence[int], title: str, body: str, now: datetime) -> list[NewRow]:
    return [
        inbox_row(
            escalation.tenant_id,
            staff_id,
            kind="escalation",
            title=title,
            body=body,
            now=now,
            dedupe_key=f"escalation:{escalation.id}:{escalation.trace_length}:{staff_id}",
            link=f"/escalations/{escalation.id}",
            case_id=escalation.case_id,
        )
        for staff_id in dict.fromkeys(staff_ids)
    ]


async def record(actor: Actor, session: Any, escalation: Escalation, action: str, source: str | None, target: str,
                 note: str | None, detail: dict[str, Any], now: datetime, request_id: str | None,
                 alongside: Sequence[NewRow] = ()) -> None:  # fmt: skip
    """The step's event and audit record, with ``alongside`` (SMS, inbox items), in the caller's transaction."""
    event = event_row(escalation, actor_id=actor.staff_id, actor_name=actor.display_name or actor.username,
                      action=action, source=source, target=target, note=note, detail=detail, now=now)  # fmt: skip
    entry: AuditEntry = actor.audit_entry(
        f"escalation.{action}", resource=f"escalation:{escalation.id}", request_id=request_id,
        detail={"reg_no": escalation.reg_no, "from": source, "to": target, "tier": escalation.tier, **detail},
    )  # fmt: skip
    await append(session, entry, alongside=[*alongside, event])
