"""电子监察's own records: supervision orders (督办单) and accountability records (责任追究)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB


class SupervisionOrder(IdMixin, Base):
    """督办单: a supervisor orders a unit to act on a case or a 办不成事 escalation by a due day. The unit's head
    answers in writing (书面回复); the supervisor accepts the reply (办结) or returns it with a new day. An order still
    unanswered after its day goes up to the supervisor's superior (``escalated_to``), once."""

    __tablename__ = "supervision_order"
    __table_args__ = (
        UniqueConstraint("tenant_id", "order_no"),
        Index("ix_supervision_order_unit", "tenant_id", "unit_code", "status"),
        Index("ix_supervision_order_due", "status", "due_on"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    order_no: Mapped[str] = mapped_column(String(32))
    case_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("case_file.id"), index=True)
    escalation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("escalation.id"), index=True)
    subject: Mapped[str] = mapped_column(String(40))  # the case's receipt number or the escalation's registration one
    unit_code: Mapped[str] = mapped_column(String(15))  # the unit ordered to act
    issuer_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    issuer_unit: Mapped[str] = mapped_column(String(15))
    demand: Mapped[str] = mapped_column(String(1000))  # 督办事项和要求
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # issued | replied | closed
    reply: Mapped[str | None] = mapped_column(String(2000))
    replied_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    replied_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(String(500))
    overdue: Mapped[bool] = mapped_column(default=False)  # replied (or still unanswered) after its due day
    escalated_to: Mapped[str | None] = mapped_column(String(15))  # the superior's unit, once overdue
    escalated_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)  # the trace: each reply and review
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Accountability(IdMixin, Base):
    """责任追究: a record a supervisor opens against one staff member, citing the cases, 督办单 and escalations that
    justify it. The person concerned may state their case (陈述申辩) while it is open; the supervisor then decides the
    measure (处理结果) and the record closes."""

    __tablename__ = "accountability"
    __table_args__ = (
        UniqueConstraint("tenant_id", "record_no"),
        Index("ix_accountability_unit", "tenant_id", "unit_code", "status"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    record_no: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"), index=True)
    unit_code: Mapped[str] = mapped_column(String(15))  # the staff member's unit when it was opened
    opened_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    opener_unit: Mapped[str] = mapped_column(String(15))
    reason: Mapped[str] = mapped_column(String(2000))
    case_ids: Mapped[list[int]] = mapped_column(JsonB, default=list)
    order_ids: Mapped[list[int]] = mapped_column(JsonB, default=list)
    escalation_ids: Mapped[list[int]] = mapped_column(JsonB, default=list)
    status: Mapped[str] = mapped_column(String(16))  # open | decided
    statement: Mapped[str | None] = mapped_column(String(2000))  # 陈述申辩
    stated_at: Mapped[datetime | None]
    measure: Mapped[str | None] = mapped_column(String(24))  # see ``MEASURES``
    decision: Mapped[str | None] = mapped_column(String(1000))
    decided_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


# 处理结果, mildest first (as 《行政机关公务员处分条例》 and the usual 问责 practice name them; 处分 itself is for the
# 纪检监察 organs, to which a record can be referred)
MEASURES = {
    "none": "经调查不予追究",
    "education": "批评教育",
    "written_review": "责令作出书面检查",
    "admonition": "诫勉谈话",
    "circulated": "通报批评",
    "reassigned": "调离工作岗位",
    "referred": "移送纪检监察机关",
}


class Ranking(IdMixin, Base):
    """流动红旗 (the units of one level under a unit) or 服务之星 (its staff) for one month, as published internally:
    the rows as they were computed when published (later corrections do not rewrite a published ranking)."""

    __tablename__ = "supervision_ranking"
    __table_args__ = (UniqueConstraint("tenant_id", "unit_code", "month", "kind"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(15))  # ranked beneath this unit; seen by its whole subtree
    month: Mapped[date] = mapped_column(Date)  # the month's first day
    kind: Mapped[str] = mapped_column(String(8))  # flag (流动红旗, units) | star (服务之星, staff)
    rows: Mapped[list[dict[str, Any]]] = mapped_column(JsonB, default=list)
    note: Mapped[str | None] = mapped_column(String(500))
    published_by: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id"))
    published_at: Mapped[datetime]
