"""赋权 (grants) and the Casbin policy store they compile into."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB


class Grant(IdMixin, Base):
    """Unit ``unit_code`` may perform ``action`` on ``item_code`` (for itself or its subtree) in a window.

    Rows are never deleted or edited except to record a revocation, so any past decision can
    be replayed: effective(t) = valid_from <= t < valid_until, not revoked at t, parent effective at t.
    """

    __tablename__ = "authority_grant"
    __table_args__ = (
        Index("ix_authority_grant_lookup", "tenant_id", "item_code", "action", "unit_code"),
        Index("ix_authority_grant_parent", "parent_id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))
    unit_code: Mapped[str] = mapped_column(String(15))
    scope: Mapped[str] = mapped_column(String(8))  # unit | subtree
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    basis: Mapped[str] = mapped_column(String(16))  # statutory | devolved | authorised | entrusted
    instrument: Mapped[str] = mapped_column(String(128))  # 文件号
    redelegable: Mapped[bool] = mapped_column(Boolean)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("authority_grant.id"))
    grantor_unit_code: Mapped[str] = mapped_column(String(15))
    granted_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    granted_by_name: Mapped[str] = mapped_column(String(64))
    catalog_edition: Mapped[int]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_by_name: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(String(512))
    revoked_via: Mapped[int | None] = mapped_column(BigId)  # the grant whose revocation cascaded here

    @property
    def subtree(self) -> bool:
        return self.scope == "subtree"

    def covers(self, code: str) -> bool:
        return code == self.unit_code or (self.subtree and code.startswith(self.unit_code))


class PolicyRule(IdMixin, Base):
    """One Casbin policy line (``casbin_rule`` layout); ``grant_id`` tracks which grant wrote it."""

    __tablename__ = "casbin_rule"
    __table_args__ = (Index("ix_casbin_rule_tenant_ptype", "tenant_id", "ptype"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    ptype: Mapped[str] = mapped_column(String(8))
    v0: Mapped[str] = mapped_column(String(64), default="")
    v1: Mapped[str] = mapped_column(String(64), default="")
    v2: Mapped[str] = mapped_column(String(64), default="")
    v3: Mapped[str] = mapped_column(String(64), default="")
    v4: Mapped[str] = mapped_column(String(96), default="")
    v5: Mapped[str] = mapped_column(String(64), default="")
    grant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("authority_grant.id"), index=True)


class PolicyVersion(Base):
    """Bumped with every policy change, so other processes know to catch up. The bump locks the row
    until the change commits, so a tenant's changes commit one at a time, in version order."""

    __tablename__ = "policy_version"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(BigId, default=0)


class PolicyChange(IdMixin, Base):
    """策略变更日志: one policy change (version ``version`` of the tenant's policy), written in the
    transaction that made it. Every process applies the log incrementally, in version order, to both
    engines; old entries are compacted away, and a process that held a compacted version rebuilds."""

    __tablename__ = "policy_change"
    __table_args__ = (UniqueConstraint("tenant_id", "version"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(BigId)
    added: Mapped[list[Any]] = mapped_column(JsonB)  # policy lines, each a list of 5 strings
    removed: Mapped[list[Any]] = mapped_column(JsonB)
    created_at: Mapped[datetime]
