"""工作日历调整: a tenant's own holidays (本地节假日) and make-up workdays (调休上班).

One row per tenant and day; it wins over the national schedule of ``chinesecalendar`` for that day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin


class CalendarOverride(IdMixin, Base):
    __tablename__ = "calendar_override"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    workday: Mapped[bool] = mapped_column(Boolean)  # True: 上班 (working day), False: 放假 (day off)
    note: Mapped[str] = mapped_column(String(256), default="")
    created_by: Mapped[str] = mapped_column(String(64))
