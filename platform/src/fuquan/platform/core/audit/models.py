"""审计日志: one row per audited action; rows are only ever appended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB


class AuditRecord(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("chain", "seq"), Index("ix_audit_log_tenant_time", "tenant_id", "occurred_at"))

    # chain = tenant id, or 0 for events no tenant can be named for (a login with an unknown user)
    chain: Mapped[int] = mapped_column(BigId)
    seq: Mapped[int] = mapped_column(BigId)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id"), nullable=True)
    occurred_at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    role: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(15))
    action: Mapped[str] = mapped_column(String(64))
    resource: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str | None] = mapped_column(String(256))
    outcome: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditChainHead(Base):
    """The last sequence number and hash of each chain; updating it serialises appends."""

    __tablename__ = "audit_chain_head"

    chain: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))
