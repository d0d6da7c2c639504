"""The escalation desk's tables: the duty roster, the escalations and their trace."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB
from fuquan.platform.core.keys.models import EncryptedColumns


class DutyRoster(IdMixin, Base):
    """值班表: the duty leader (值班领导) of an escalation desk's unit on a day."""

    __tablename__ = "duty_roster"
    __table_args__ = (UniqueConstraint("tenant_id", "unit_code", "day"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(15))
    day: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


class Escalation(IdMixin, Base):
    """One 办不成事 problem, from registration to 销号. The resident's name, phone and (if given) ID number are
    encrypted with the tenant's data key; ``owner_id`` is the duty leader who took it (首问负责)."""

    __tablename__ = "escalation"
    __table_args__ = (
        UniqueConstraint("tenant_id", "reg_no"),
        Index("ix_escalation_queue", "tenant_id", "status", "unit_code"),
        Index("ix_escalation_tier_due", "tier_due"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    reg_no: Mapped[str] = mapped_column(String(32))
    query_code: Mapped[str] = mapped_column(String(12))
    unit_code: Mapped[str] = mapped_column(String(15))  # the desk's unit (county or city)
    channel: Mapped[str] = mapped_column(String(16))  # in_person | hotline | website | referral
    recording_ref: Mapped[str | None] = mapped_column(String(64))  # the hotline's recording
    case_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("case_file.id"), index=True)  # a referral's case
    name_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(64))
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    id_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_masked: Mapped[str | None] = mapped_column(String(18))
    summary: Mapped[str] = mapped_column(String(1000))
    mode: Mapped[str | None] = mapped_column(String(16))  # guidance | window_failure | bottleneck
    tier: Mapped[int] = mapped_column(SmallInteger, default=1)  # 1, 3, 5 (working days)
    tier_due: Mapped[date | None] = mapped_column(Date)  # the tier's last working day (None once resolved)
    status: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    registered_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    responsible_unit: Mapped[str | None] = mapped_column(String(15))  # mode 2: the window that failed
    responsible_staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    outcome: Mapped[str | None] = mapped_column(String(1000))
    confirmation: Mapped[str | None] = mapped_column(String(16))  # confirmed | unreachable | declined
    close_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)
    trace_length: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


def escalation_context(tenant_code: str, reg_no: str) -> bytes:
    return f"{tenant_code}:escalation:{reg_no}".encode()


def _row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return escalation_context(tenant_code, str(row["reg_no"]))


ESCALATION_SECRETS = EncryptedColumns(Escalation, ("name_cipher", "phone_cipher", "id_cipher"), _row_context,
                                      ("reg_no",))  # fmt: skip


class EscalationEvent(IdMixin, Base):
    """One step of an escalation (全程留痕): who did what, in which tier, with the decision or note."""

    __tablename__ = "escalation_event"
    __table_args__ = (UniqueConstraint("escalation_id", "seq"),)

    escalation_id: Mapped[int] = mapped_column(BigId, ForeignKey("escalation.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(BigId)  # None: the tier job
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    tier: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(String(1000))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
