"""Writing notices with the event that causes them: rows for the caller's transaction (``NewRow``, so a case step
sends its SMS row in the same statement as its trace event), never a message sent from inside a request."""

from __future__ import annotations

import uuid
from datetime import datetime

import structlog

from fuquan.integrations.sms.protocol import PARAM_MAX_LENGTH, param_problem, to_e164
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.personal import mask_phone
from fuquan.platform.notifications.models import InboxItem, SmsMessage, sms_phone_context
from fuquan.platform.notifications.services.templates import KINDS
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()


def sms_row(
    cipher: TenantCipher, scope: TenantScope, *, kind: str, dedupe_key: str, phone: str, params: dict[str, str],
    case_id: int | None, now: datetime,
) -> NewRow | None:  # fmt: skip
    """The outbox row of one SMS to a resident, or None when none can be sent: the number is not a mainland
    mobile, or a parameter could not go out (a link, a full ID number: never sent, logged as a defect)."""
    spec = KINDS[kind]
    number = to_e164(phone)
    if number is None:
        log.info("sms_not_possible", kind=kind, reason="not_a_mobile_number")
        return None
    values = {name: _fit(params.get(name, "")) for name in spec.params}
    problems = [problem for name, value in values.items() if (problem := param_problem(name, value))]
    if problems:
        log.error("sms_parameter_refused", kind=kind, problems=problems)
        return None
    message_id = uuid.uuid4().hex
    return NewRow(
        SmsMessage.__table__,  # type: ignore[arg-type]
        {
            "tenant_id": scope.tenant_id, "message_id": message_id, "kind": kind, "dedupe_key": dedupe_key,
            "case_id": case_id, "params": values, "state": "pending", "attempts": 0, "next_attempt_at": now,
            "phone_cipher": cipher.encrypt(number, context=sms_phone_context(scope.tenant_code, message_id)),
            "phone_masked": mask_phone(number.removeprefix("+86")), "created_at": now,
        },
    )  # fmt: skip


def _fit(value: str) -> str:
    """A parameter within the platforms' length (an item's long name shortened, as the platforms require)."""
    return value if len(value) <= PARAM_MAX_LENGTH else value[: PARAM_MAX_LENGTH - 1] + "…"


def inbox_row(
    tenant_id: int, staff_id: int, *, kind: str, dedupe_key: str, title: str, body: str, link: str | None,
    case_id: int | None, now: datetime,
) -> NewRow:  # fmt: skip
    """One item in a staff member's inbox."""
    return NewRow(
        InboxItem.__table__,  # type: ignore[arg-type]
        {
            "tenant_id": tenant_id, "staff_id": staff_id, "kind": kind, "dedupe_key": dedupe_key[:96],
            "title": title[:128], "body": body[:500], "link": link, "case_id": case_id, "created_at": now,
            "read_at": None,
        },
    )  # fmt: skip
