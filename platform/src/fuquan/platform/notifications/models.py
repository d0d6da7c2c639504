"""The outbox's tables: SMS templates a tenant edits, the SMS outbox, and each staff member's inbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB
from fuquan.platform.core.keys.models import EncryptedColumns


class SmsTemplate(IdMixin, Base):
    """短信模板: a tenant's text for one kind of notice, as approved by the SMS platform under ``vendor_template``.
    Only the kind's parameters may appear in it (``${name}``); the platform adds the signature 【sign_name】."""

    __tablename__ = "sms_template"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    vendor_template: Mapped[str] = mapped_column(String(32))
    sign_name: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class SmsMessage(IdMixin, Base):
    """One SMS in the outbox. Written with the event (same transaction); the delivery job sends it with
    ``message_id`` as the platform's idempotency key, so a retry after a lost answer is not a second SMS.
    The number is kept encrypted until the message is settled, then only its masked form stays."""

    __tablename__ = "sms_message"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        Index("ix_sms_message_due", "state", "next_attempt_at"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(96))  # one notice per event, e.g. "case:12:accept"
    case_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict[str, str]] = mapped_column(JsonB, default=dict)  # never a full ID number
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]  # a delivery run holds it until then
    last_code: Mapped[str | None] = mapped_column(String(32))
    provider_msg_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    settled_at: Mapped[datetime | None]


def sms_phone_context(tenant_code: str, message_id: str) -> bytes:
    return f"{tenant_code}:sms:{message_id}".encode()


def _row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return sms_phone_context(tenant_code, row["message_id"])


SMS_SECRETS = EncryptedColumns(SmsMessage, ("phone_cipher",), _row_context, ("message_id",))


class InboxItem(IdMixin, Base):
    """站内消息: what needs one staff member now (a warning, a supervision order, an escalation, a follow-up),
    written with the event that causes it; read when they open it."""

    __tablename__ = "inbox_item"
    __table_args__ = (
        UniqueConstraint("tenant_id", "staff_id", "dedupe_key"),
        Index("ix_inbox_item_unread", "staff_id", "read_at"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    dedupe_key: Mapped[str] = mapped_column(String(96))
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(String(500))
    link: Mapped[str | None] = mapped_column(String(256))
    case_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]
