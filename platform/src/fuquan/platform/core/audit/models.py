"""审计日志: one row per audited action; rows are only ever appended, and sealed into their chain after commit.

A record is written in the transaction of the action it records (if it cannot be written, the action fails
with it) with no place in the chain yet; the sealer (``core.audit.sealer``) then gives it its sequence number
and hash, in order, within about a second — so no request waits for the chain's head.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB


class AuditRecord(IdMixin, Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index("ix_audit_log_tenant_time", "tenant_id", "occurred_at"),
        # the records the sealer has still to chain: a handful at any moment, found without a scan
        Index("ix_audit_log_unsealed", "chain", "id", postgresql_where=text("seq IS NULL"),
              sqlite_where=text("seq IS NULL")),
    )  # fmt: skip

    # chain = tenant id, or 0 for events no tenant can be named for (a login with an unknown user)
    chain: Mapped[int] = mapped_column(BigId)
    seq: Mapped[int | None] = mapped_column(BigId)  # None until sealed
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
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    hash_key: Mapped[str | None] = mapped_column(String(16))  # the audit key's id; None: unkeyed, before 0010


class AuditChainHead(Base):
    """The last sequence number and hash of each chain; the sealer holds its row while it chains records."""

    __tablename__ = "audit_chain_head"

    chain: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId, default=0)
    hash: Mapped[str] = mapped_column(String(64))
