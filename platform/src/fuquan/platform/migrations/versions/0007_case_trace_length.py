"""a case counts its trace events: each step numbers its event without reading the trace

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_length", sa.Integer(), nullable=False, server_default="1"))
    op.execute(
        "UPDATE case_file SET trace_length = COALESCE("
        "(SELECT MAX(case_event.seq) FROM case_event WHERE case_event.case_id = case_file.id), 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_column("trace_length")
