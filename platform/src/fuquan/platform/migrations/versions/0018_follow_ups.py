"""差评整改: the follow-up a poor rating opens, and each tenant's working days to rectify

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:00:00

``case_follow_up`` holds the follow-up of a rating of 2 or below: 回访 within 1 working day, 整改 within
``tenant.rectify_working_days`` (5 unless the tenant sets it), the reply to the resident and the supervisor's 复核.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "case_follow_up",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("callback_due", sa.Date(), nullable=False),
        sa.Column("called_back_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("callback_note", sa.String(length=500), nullable=True),
        sa.Column("rectify_due", sa.Date(), nullable=False),
        sa.Column("rectified_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("rectification", sa.String(length=1000), nullable=True),
        sa.Column("replied_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("reply", sa.String(length=1000), nullable=True),
        sa.Column("reviewed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("review", sa.String(length=16), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_case_follow_up_case_id_case_file"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_case_follow_up_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_follow_up")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_follow_up_case_id")),
    )
    with op.batch_alter_table("case_follow_up", schema=None) as batch_op:
        batch_op.create_index("ix_case_follow_up_unit", ["tenant_id", "unit_code", "status"], unique=False)

    # plain ALTERs, also on SQLite (3.35+): a batch would rebuild ``tenant``, which every table references
    op.add_column("tenant", sa.Column("rectify_working_days", sa.SmallInteger(), nullable=False, server_default="5"))


def downgrade() -> None:
    op.drop_column("tenant", "rectify_working_days")

    with op.batch_alter_table("case_follow_up", schema=None) as batch_op:
        batch_op.drop_index("ix_case_follow_up_unit")

    op.drop_table("case_follow_up")
