"""办不成事 escalations: the desks' duty rosters, the escalations and their trace

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:00:00

``duty_roster`` names each desk's duty leader (值班领导) per day. ``escalation`` holds each problem a resident
registered (name, phone and ID number encrypted with the tenant's data key), its mode, tier and owner;
``escalation_event`` its trace.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "duty_roster",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staff_id", BIG_ID, nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_duty_roster_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_duty_roster_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_roster")),
        sa.UniqueConstraint("tenant_id", "unit_code", "day", name=op.f("uq_duty_roster_tenant_id_unit_code_day")),
    )
    op.create_table(
        "escalation",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("reg_no", sa.String(length=32), nullable=False),
        sa.Column("query_code", sa.String(length=12), nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("recording_ref", sa.String(length=64), nullable=True),
        sa.Column("case_id", BIG_ID, nullable=True),
        sa.Column("name_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("name_masked", sa.String(length=64), nullable=False),
        sa.Column("phone_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("phone_masked", sa.String(length=32), nullable=True),
        sa.Column("id_cipher", sa.LargeBinary(), nullable=True),
        sa.Column("id_masked", sa.String(length=18), nullable=True),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("tier_due", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", BIG_ID, nullable=False),
        sa.Column("registered_by", BIG_ID, nullable=False),
        sa.Column("responsible_unit", sa.String(length=15), nullable=True),
        sa.Column("responsible_staff_id", BIG_ID, nullable=True),
        sa.Column("outcome", sa.String(length=1000), nullable=True),
        sa.Column("confirmation", sa.String(length=16), nullable=True),
        sa.Column("close_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("resolved_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("trace_length", sa.Integer(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"], name=op.f("fk_escalation_case_id_case_file")),
        sa.ForeignKeyConstraint(["owner_id"], ["staff.id"], name=op.f("fk_escalation_owner_id_staff")),
        sa.ForeignKeyConstraint(["registered_by"], ["staff.id"], name=op.f("fk_escalation_registered_by_staff")),
        sa.ForeignKeyConstraint(
            ["responsible_staff_id"], ["staff.id"], name=op.f("fk_escalation_responsible_staff_id_staff")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_escalation_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation")),
        sa.UniqueConstraint("tenant_id", "reg_no", name=op.f("uq_escalation_tenant_id_reg_no")),
    )
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_escalation_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_escalation_queue", ["tenant_id", "status", "unit_code"], unique=False)
        batch_op.create_index("ix_escalation_tier_due", ["tier_due"], unique=False)

    op.create_table(
        "escalation_event",
        sa.Column("escalation_id", BIG_ID, nullable=False),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("actor_id", BIG_ID, nullable=True),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalation.id"],
            name=op.f("fk_escalation_event_escalation_id_escalation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_escalation_event_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_event")),
        sa.UniqueConstraint("escalation_id", "seq", name=op.f("uq_escalation_event_escalation_id_seq")),
    )


def downgrade() -> None:
    op.drop_table("escalation_event")
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_tier_due")
        batch_op.drop_index("ix_escalation_queue")
        batch_op.drop_index(batch_op.f("ix_escalation_case_id"))

    op.drop_table("escalation")
    op.drop_table("duty_roster")
