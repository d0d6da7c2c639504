"""办件 (cases), their applicants, materials, trace and pauses.

Personal data is stored encrypted (SM4-GCM) with a blind index for lookup and a masked form
for display, so lists and logs never need the plaintext (DESIGN §10).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB
from fuquan.platform.core.keys.models import EncryptedColumns


class Applicant(IdMixin, Base):
    """申请人: a resident identified by their ID number (encrypted; found by its blind index)."""

    __tablename__ = "applicant"
    __table_args__ = (UniqueConstraint("tenant_id", "id_index"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    id_index: Mapped[str] = mapped_column(String(64))
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(18))
    name_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(64))
    phone_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_masked: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


def applicant_context(tenant_code: str) -> bytes:
    """What an applicant's ciphertexts are bound to (GCM's associated data): the tenant, and the kind of record."""
    return f"{tenant_code}:applicant".encode()


def _applicant_row_context(tenant_code: str, _row: Mapping[str, Any]) -> bytes:
    return applicant_context(tenant_code)


APPLICANT_SECRETS = EncryptedColumns(Applicant, ("id_cipher", "name_cipher", "phone_cipher"), _applicant_row_context)

_UNSEALED = text("form_plain IS NOT NULL")  # only rows written before migration 0012, until the next start
NullableJson = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")  # None is SQL NULL


class Case(IdMixin, Base):
    """One application for one item, from submission to closing."""

    __tablename__ = "case_file"  # "case" is an SQL keyword
    __table_args__ = (
        UniqueConstraint("tenant_id", "receipt_no"),
        UniqueConstraint("tenant_id", "created_by", "idempotency_key"),
        Index("ix_case_file_queue", "tenant_id", "status", "accepting_unit"),
        Index("ix_case_file_routed", "tenant_id", "status", "routed_to"),
        Index("ix_case_file_form_unsealed", "tenant_id", "id", postgresql_where=_UNSEALED, sqlite_where=_UNSEALED),
        Index("ix_case_file_yellow_on", "yellow_on"),
        Index("ix_case_file_red_on", "red_on"),
        Index("ix_case_file_accept_by", "accept_by"),
        Index("ix_case_file_decided", "tenant_id", "decided_at"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    receipt_no: Mapped[str] = mapped_column(String(32))
    query_code: Mapped[str] = mapped_column(String(12))
    item_code: Mapped[str] = mapped_column(String(32))
    catalog_edition: Mapped[int]
    applicant_id: Mapped[int] = mapped_column(BigId, ForeignKey("applicant.id"))
    related_person_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("applicant.id"))  # 关系人, e.g. 逝者
    enterprise_credit_code: Mapped[str | None] = mapped_column(String(18))  # 被投诉/被申请单位
    accepting_unit: Mapped[str] = mapped_column(String(15))
    routed_to: Mapped[str | None] = mapped_column(String(15))
    status: Mapped[str] = mapped_column(String(24))
    suspended_from: Mapped[str | None] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(default=1)
    # the trace's length: the next event's seq, counted on the row each step locks (a new case counts its creation)
    trace_length: Mapped[int] = mapped_column(default=1)
    # 申请表, checked against the item's declared fields (``services.forms``): the values that are not personal as
    # they are; the personal ones (个人信息) as one ciphertext, and masked for display
    form: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    form_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    form_masked: Mapped[dict[str, str]] = mapped_column(JsonB, default=dict)
    # values of a free form of before migration 0012 awaiting encryption (the first start after it seals them)
    form_plain: Mapped[dict[str, Any] | None] = mapped_column(NullableJson)
    created_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    acceptor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    decider_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    issued_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    accepted_on: Mapped[date | None] = mapped_column(Date)
    promised_days: Mapped[int] = mapped_column(SmallInteger, default=0)
    deadline: Mapped[date | None] = mapped_column(Date)
    # 办结用时: working days from acceptance to the decision, pauses left out (``alarms.days_taken``); on time when
    # within ``promised_days``. Kept at the decision so staff performance over a county-year is a SQL aggregate.
    working_days_used: Mapped[int | None] = mapped_column(SmallInteger)
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    request_digest: Mapped[str | None] = mapped_column(String(64))
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    rated_at: Mapped[datetime | None]
    needs_follow_up: Mapped[bool] = mapped_column(Boolean, default=False)
    # the dates the warning job acts on (预警推送, ``supervision.services.warnings``), each cleared once its warning
    # is out: the day a running clock turns yellow and red, and the last day of the legal acceptance period (受理期限)
    yellow_on: Mapped[date | None] = mapped_column(Date)
    red_on: Mapped[date | None] = mapped_column(Date)
    accept_by: Mapped[date | None] = mapped_column(Date)
    alarms_set: Mapped[bool] = mapped_column(Boolean, default=True)  # False: a case from before these dates existed

    __mapper_args__ = {"version_id_col": version}  # optimistic locking: a stale update raises


def case_form_context(tenant_code: str, receipt_no: str) -> bytes:
    """What a case's sealed form is bound to: the tenant and the case (its receipt number, never changed), so a
    ciphertext copied onto another case fails to decrypt."""
    return f"{tenant_code}:case_form:{receipt_no}".encode()


def _case_form_row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return case_form_context(tenant_code, str(row["receipt_no"]))


CASE_FORM_SECRETS = EncryptedColumns(Case, ("form_cipher",), _case_form_row_context, ("receipt_no",))


class CaseMaterial(IdMixin, Base):
    """申请材料 of one case, in exactly one state (satisfied_by_shared_data, uploaded, pledged, deferred, missing)."""

    __tablename__ = "case_material"
    __table_args__ = (UniqueConstraint("case_id", "index"),)

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(SmallInteger)
    name: Mapped[str] = mapped_column(String(128))
    required: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(32))
    source: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(256))
    file_key: Mapped[str | None] = mapped_column(String(128))
    content_type: Mapped[str | None] = mapped_column(String(64))
    size: Mapped[int | None]
    sha256: Mapped[str | None] = mapped_column(String(64))
    defer_until: Mapped[date | None] = mapped_column(Date, index=True)
    overdue_warned: Mapped[bool] = mapped_column(Boolean, default=False)  # the deferral's due date passed: told
    evidence: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    updated_at: Mapped[datetime]


class CaseEvidence(IdMixin, Base):
    """One partner answer kept as evidence (共享数据核验凭证), bound to the case and its purpose.

    Holds only the facts the decision used, plus SM3 hashes of the exact request and response
    bytes, so the answer can be proven later without storing the partner's whole reply.
    """

    __tablename__ = "case_evidence"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    material_index: Mapped[int] = mapped_column(SmallInteger)
    purpose: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(32))
    service: Mapped[str | None] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(String(48))
    subject: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(256))
    facts: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    asked_at: Mapped[datetime]
    asked_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    fetched_at: Mapped[datetime | None]
    request_id: Mapped[str | None] = mapped_column(String(64))
    source_request_id: Mapped[str | None] = mapped_column(String(64))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    response_hash: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    elapsed_ms: Mapped[int] = mapped_column(default=0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)


class CaseEvent(IdMixin, Base):
    """全程留痕: one transition (or material change) of a case — who, role, unit, when, from → to, why."""

    __tablename__ = "case_event"
    __table_args__ = (
        UniqueConstraint("case_id", "seq"),
        # the performance figures: a subtree's steps over a period (``unit LIKE '6402%'`` uses the pattern ops),
        # read from the index alone on PostgreSQL
        Index("ix_case_event_unit", "tenant_id", "unit", "at", postgresql_ops={"unit": "varchar_pattern_ops"},
              postgresql_include=["action", "actor_id"]),
    )  # fmt: skip

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    seq: Mapped[int]
    at: Mapped[datetime]
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(15))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(String(1000))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)


class CasePause(IdMixin, Base):
    """A stretch when the clock stopped: awaiting supplement (补齐补正) or a special procedure (特别程序)."""

    __tablename__ = "case_pause"

    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # supplement | special
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    limit_on: Mapped[date | None] = mapped_column(Date, index=True)  # a special procedure's last day (特别程序期限)
    overdue_warned: Mapped[bool] = mapped_column(Boolean, default=False)


class ReceiptCounter(Base):
    """The last receipt sequence used per accepting unit and day (updated under a row lock)."""

    __tablename__ = "receipt_counter"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    unit_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


@dataclass(slots=True)
class CaseFile:
    """One case as a request works on it — the row, its applicant(s) and materials, read once (or just
    written) — from which the answer is built without reading anything back."""

    case: Case
    applicant: Applicant
    materials: list[CaseMaterial]
    related: Applicant | None = None


class CaseFollowUp(IdMixin, Base):
    """差评整改: the follow-up a poor rating (2 or below) or a complaint (投诉) opens for the unit that handled the
    case — call the resident back (回访) within 1 working day, rectify (整改) within the tenant's working days, reply to
    the resident, and the supervisor's review (复核). Owned by the case (like its rating); worked through
    ``supervision.services``. A case has at most one from its rating and one per complaint (``seq``)."""

    __tablename__ = "case_follow_up"
    __table_args__ = (
        Index("ix_case_follow_up_unit", "tenant_id", "unit_code", "status"),
        UniqueConstraint("case_id", "source", "seq"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(16), default="rating")  # rating | complaint
    seq: Mapped[int] = mapped_column(SmallInteger, default=1)  # the complaint's number on the case
    unit_code: Mapped[str] = mapped_column(String(15))  # the unit that handled it: the deciding one, else accepting
    rating: Mapped[int | None] = mapped_column(SmallInteger)  # None for a complaint
    comment: Mapped[str | None] = mapped_column(String(500))  # the rating's comment, or the complaint itself
    status: Mapped[str] = mapped_column(String(16))  # open | called_back | rectified | replied | closed
    opened_at: Mapped[datetime]
    callback_due: Mapped[date] = mapped_column(Date)
    called_back_at: Mapped[datetime | None]
    callback_note: Mapped[str | None] = mapped_column(String(500))
    rectify_due: Mapped[date] = mapped_column(Date)
    rectified_at: Mapped[datetime | None]
    rectification: Mapped[str | None] = mapped_column(String(1000))
    replied_at: Mapped[datetime | None]
    reply: Mapped[str | None] = mapped_column(String(1000))
    reviewed_at: Mapped[datetime | None]
    review: Mapped[str | None] = mapped_column(String(16))  # accepted | returned
    review_note: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
