"""事项目录: a per-tenant, versioned catalogue of service items.

An edit makes a new edition; items of older editions stay as they were, so whatever was
accepted or decided under an edition keeps pointing at the rules it was decided under.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB


class CatalogEdition(IdMixin, Base):
    __tablename__ = "catalog_edition"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    number: Mapped[int]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(String(512), default="")
    effective_from: Mapped[date | None] = mapped_column(Date)  # in force from this day (None: from creation)


class CatalogItem(IdMixin, Base):
    __tablename__ = "catalog_item"
    __table_args__ = (UniqueConstraint("edition_id", "code"),)

    edition_id: Mapped[int] = mapped_column(BigId, ForeignKey("catalog_edition.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128), default="")
    category: Mapped[str] = mapped_column(String(32))
    item_type: Mapped[str] = mapped_column(String(4))
    handling: Mapped[str] = mapped_column(String(16))
    statutory_days: Mapped[int] = mapped_column(SmallInteger)
    promised_days: Mapped[int] = mapped_column(SmallInteger)
    accept_floor: Mapped[int] = mapped_column(SmallInteger)
    decide_floor: Mapped[int] = mapped_column(SmallInteger)
    separation: Mapped[bool] = mapped_column(Boolean)
    legal_basis: Mapped[str] = mapped_column(String(256), default="")
    id_only: Mapped[bool] = mapped_column(Boolean, default=False)
    materials: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    produces: Mapped[str | None] = mapped_column(String(48))  # the record an issued approval creates
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)  # the form's declared fields (FormField)
    subject_nature: Mapped[str] = mapped_column(String(32), default="statutory_organ")  # 实施主体性质
    power_source: Mapped[str] = mapped_column(String(16), default="own")  # 权力来源
    conditions: Mapped[list[str]] = mapped_column(JsonB, default=list)  # 受理条件
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)  # 收费 (Fee); none: 不收费
    flow: Mapped[list[str]] = mapped_column(JsonB, default=list)  # 办理流程
    result_name: Mapped[str] = mapped_column(String(64), default="")  # 办理结果名称

    def floor(self, action: str) -> int:
        """Lowest level (largest number) that may hold ``action`` on this item."""
        return self.accept_floor if action == "accept" else self.decide_floor
