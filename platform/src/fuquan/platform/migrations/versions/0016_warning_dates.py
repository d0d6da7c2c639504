"""the dates the warning job acts on: a case's yellow and red days and the end of its acceptance period, a deferred
material's and a special procedure's overdue flags

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:00:00

Cases existing before this revision get ``alarms_set`` false: the warning job computes their dates once, from their
clock as the case API shows it (``supervision.services.warnings``), and sets it.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("yellow_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("red_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("accept_by", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("alarms_set", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_case_file_accept_by", ["accept_by"], unique=False)
        batch_op.create_index("ix_case_file_red_on", ["red_on"], unique=False)
        batch_op.create_index("ix_case_file_yellow_on", ["yellow_on"], unique=False)

    with op.batch_alter_table("case_material", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overdue_warned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_case_material_defer_until"), ["defer_until"], unique=False)

    with op.batch_alter_table("case_pause", schema=None) as batch_op:
        batch_op.add_column(sa.Column("limit_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("overdue_warned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f("ix_case_pause_limit_on"), ["limit_on"], unique=False)


def downgrade() -> None:
    # plain ALTERs, also on SQLite (3.35+): a batch would rebuild tables other tables reference
    op.drop_index("ix_case_pause_limit_on", table_name="case_pause")
    op.drop_column("case_pause", "overdue_warned")
    op.drop_column("case_pause", "limit_on")
    op.drop_index("ix_case_material_defer_until", table_name="case_material")
    op.drop_column("case_material", "overdue_warned")
    for index in ("ix_case_file_yellow_on", "ix_case_file_red_on", "ix_case_file_accept_by"):
        op.drop_index(index, table_name="case_file")
    for column in ("alarms_set", "accept_by", "red_on", "yellow_on"):
        op.drop_column("case_file", column)
