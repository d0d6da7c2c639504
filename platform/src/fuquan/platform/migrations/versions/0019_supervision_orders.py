"""督办单 and 责任追究; complaints open follow-ups too

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 00:00:00

``supervision_order`` holds the supervision orders a supervisor issues to a unit on a case or an escalation, with the
unit's written reply and the review; ``accountability`` the records opened against a staff member. A complaint (投诉)
on a case now opens a follow-up like a poor rating: ``case_follow_up`` gains ``source`` and ``seq``, and its rating may
be empty. (``case_follow_up`` is referenced by no table, so the batch rebuild on SQLite is safe.)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "accountability",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("record_no", sa.String(length=32), nullable=False),
        sa.Column("staff_id", BIG_ID, nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("opened_by", BIG_ID, nullable=False),
        sa.Column("opener_unit", sa.String(length=15), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("case_ids", JSON, nullable=False),
        sa.Column("order_ids", JSON, nullable=False),
        sa.Column("escalation_ids", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("statement", sa.String(length=2000), nullable=True),
        sa.Column("stated_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("measure", sa.String(length=24), nullable=True),
        sa.Column("decision", sa.String(length=1000), nullable=True),
        sa.Column("decided_by", BIG_ID, nullable=True),
        sa.Column("decided_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"], name=op.f("fk_accountability_decided_by_staff")),
        sa.ForeignKeyConstraint(["opened_by"], ["staff.id"], name=op.f("fk_accountability_opened_by_staff")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_accountability_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_accountability_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accountability")),
        sa.UniqueConstraint("tenant_id", "record_no", name=op.f("uq_accountability_tenant_id_record_no")),
    )
    with op.batch_alter_table("accountability", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accountability_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index("ix_accountability_unit", ["tenant_id", "unit_code", "status"], unique=False)

    op.create_table(
        "supervision_order",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("order_no", sa.String(length=32), nullable=False),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("escalation_id", BIG_ID, nullable=True),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("issuer_id", BIG_ID, nullable=False),
        sa.Column("issuer_unit", sa.String(length=15), nullable=False),
        sa.Column("demand", sa.String(length=1000), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.String(length=2000), nullable=True),
        sa.Column("replied_by", BIG_ID, nullable=True),
        sa.Column("replied_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("escalated_to", sa.String(length=15), nullable=True),
        sa.Column("escalated_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("steps", JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_supervision_order_case_id_case_file")),
        sa.ForeignKeyConstraint(
            ["escalation_id"], ["escalation.id"], name=op.f("fk_supervision_order_escalation_id_escalation")
        ),
        sa.ForeignKeyConstraint(["issuer_id"], ["staff.id"], name=op.f("fk_supervision_order_issuer_id_staff")),
        sa.ForeignKeyConstraint(["replied_by"], ["staff.id"], name=op.f("fk_supervision_order_replied_by_staff")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_supervision_order_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_order")),
        sa.UniqueConstraint("tenant_id", "order_no", name=op.f("uq_supervision_order_tenant_id_order_no")),
    )
    with op.batch_alter_table("supervision_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supervision_order_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_supervision_order_due", ["status", "due_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_supervision_order_escalation_id"), ["escalation_id"], unique=False)
        batch_op.create_index("ix_supervision_order_unit", ["tenant_id", "unit_code", "status"], unique=False)

    with op.batch_alter_table("case_follow_up", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=16), nullable=False, server_default="rating"))
        batch_op.add_column(sa.Column("seq", sa.SmallInteger(), nullable=False, server_default="1"))
        batch_op.alter_column("rating", existing_type=sa.SMALLINT(), nullable=True)
        batch_op.drop_constraint(batch_op.f("uq_case_follow_up_case_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_case_follow_up_case_id_source_seq"), ["case_id", "source", "seq"]
        )


def downgrade() -> None:
    with op.batch_alter_table("case_follow_up", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_case_follow_up_case_id_source_seq"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_case_follow_up_case_id"), ["case_id"])
        batch_op.alter_column("rating", existing_type=sa.SMALLINT(), nullable=False)
        batch_op.drop_column("seq")
        batch_op.drop_column("source")

    with op.batch_alter_table("supervision_order", schema=None) as batch_op:
        batch_op.drop_index("ix_supervision_order_unit")
        batch_op.drop_index(batch_op.f("ix_supervision_order_escalation_id"))
        batch_op.drop_index("ix_supervision_order_due")
        batch_op.drop_index(batch_op.f("ix_supervision_order_case_id"))

    op.drop_table("supervision_order")
    with op.batch_alter_table("accountability", schema=None) as batch_op:
        batch_op.drop_index("ix_accountability_unit")
        batch_op.drop_index(batch_op.f("ix_accountability_staff_id"))

    op.drop_table("accountability")
