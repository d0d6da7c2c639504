"""服务点 (service points): where residents are served in a unit's name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin

SERVICE_POINT_KINDS = {
    "center": "便民服务中心",
    "station": "便民服务站",
    "bank": "银行网点（代办）",
    "post": "邮政网点（代办）",
    "other": "其他代办点",
}
AGENT_KINDS = frozenset({"bank", "post", "other"})  # not the unit's own premises: an agent acting in its name


class ServicePoint(IdMixin, Base):
    """A 便民服务中心/站 of a unit, or an outlet that is not an administrative division at all — a bank branch or a
    post office acting as an agent (seed 000's "1+N" network) — attached to the unit whose authority it exercises.
    A point is never deleted: a closed one keeps ``closed_at`` (the history of where a case was received)."""

    __tablename__ = "service_point"
    __table_args__ = (Index("ix_service_point_unit", "tenant_id", "unit_code"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(15))  # the unit whose authority it exercises
    kind: Mapped[str] = mapped_column(String(8))  # SERVICE_POINT_KINDS
    name: Mapped[str] = mapped_column(String(128))
    address: Mapped[str] = mapped_column(String(256))
    hours: Mapped[str] = mapped_column(String(128))  # 办公时间, as the point posts it
    phone: Mapped[str | None] = mapped_column(String(32))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
