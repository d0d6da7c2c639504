"""办结用时 kept on the decided case, and the indexes the performance figures read

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 00:00:00

``case_file.working_days_used`` is the working days a case took from acceptance to its decision (pauses left out),
set at the decision. Cases decided before this revision get ``alarms_set`` false: the warning job's backfill computes
their figure once, as it computed the warning dates of older cases (0016). The performance figures read the trace by
subtree and time (``ix_case_event_unit``: on PostgreSQL its pattern ops serve ``unit LIKE '6402%'`` and it holds
the action and actor, so the figures come from the index alone; it also serves what ``ix_case_event_tenant_id``
served) and the decisions by tenant and time (``ix_case_file_decided``).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ALTERs, also on SQLite (3.35+): a batch would rebuild ``case_file``, which other tables reference
    op.add_column("case_file", sa.Column("working_days_used", sa.SmallInteger(), nullable=True))
    op.create_index("ix_case_file_decided", "case_file", ["tenant_id", "decided_at"], unique=False)
    op.create_index(
        "ix_case_event_unit", "case_event", ["tenant_id", "unit", "at"], unique=False,
        postgresql_ops={"unit": "varchar_pattern_ops"}, postgresql_include=["action", "actor_id"],
    )  # fmt: skip
    op.drop_index("ix_case_event_tenant_id", table_name="case_event")
    op.execute("UPDATE case_file SET alarms_set = false WHERE decided_at IS NOT NULL AND accepted_on IS NOT NULL")


def downgrade() -> None:
    op.create_index("ix_case_event_tenant_id", "case_event", ["tenant_id"], unique=False)
    op.drop_index("ix_case_event_unit", table_name="case_event")
    op.drop_index("ix_case_file_decided", table_name="case_file")
    op.drop_column("case_file", "working_days_used")
