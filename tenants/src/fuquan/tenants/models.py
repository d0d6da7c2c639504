"""租户 (a province-level HRSS department) and its units (行政区划单位 / 服务点)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin


class Tenant(IdMixin, Base):
    __tablename__ = "tenant"

    code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime]
    # 差评整改: the working days a unit has to rectify after a poor rating (the tenant sets it; 5 by default)
    rectify_working_days: Mapped[int] = mapped_column(SmallInteger, default=5)


class Unit(IdMixin, Base):
    """A node of the tenant's hierarchy, identified by its statistical division code."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_unit_tenant_parent", "tenant_id", "parent_code"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(15))
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(String(15))
    # 机关: the body this unit is and the name it signs with, where the tenant set them (else derived: tenants.organs)
    organ_name: Mapped[str | None] = mapped_column(String(128))
    organ_kind: Mapped[str | None] = mapped_column(String(24))
