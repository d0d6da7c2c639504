"""事项目录 editions in force from a day, and the GB/T 39554 elements a province maintains

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 21:00:00

``catalog_edition.effective_from``: NULL for editions published before (in force since they were made).
The items gain 实施主体性质, 权力来源, 受理条件, 收费, 办理流程 and 办理结果名称, with the defaults an item had
implicitly (a statutory organ acting on its own power, no fee, the standard flow).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
STANDARD_FLOW = '["申请", "受理", "审查", "决定", "送达"]'


def upgrade() -> None:
    op.add_column("catalog_edition", sa.Column("effective_from", sa.Date(), nullable=True))
    with op.batch_alter_table("catalog_item") as batch:
        batch.add_column(sa.Column("subject_nature", sa.String(length=32), nullable=False,
                                   server_default="statutory_organ"))  # fmt: skip
        batch.add_column(sa.Column("power_source", sa.String(length=16), nullable=False, server_default="own"))
        batch.add_column(sa.Column("conditions", JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("fees", JSON, nullable=False, server_default=sa.text("'[]'")))
        batch.add_column(sa.Column("flow", JSON, nullable=False, server_default=sa.text(f"'{STANDARD_FLOW}'")))
        batch.add_column(sa.Column("result_name", sa.String(length=64), nullable=False, server_default=""))
    with op.batch_alter_table("catalog_item") as batch:  # the defaults were for the rows already there
        for column in ("subject_nature", "power_source", "conditions", "fees", "flow", "result_name"):
            batch.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("catalog_item") as batch:
        for column in ("result_name", "flow", "fees", "conditions", "power_source", "subject_nature"):
            batch.drop_column(column)
    op.drop_column("catalog_edition", "effective_from")
