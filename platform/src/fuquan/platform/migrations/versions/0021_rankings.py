"""流动红旗 and 服务之星: the monthly rankings a supervisor publishes internally

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 00:00:00

``supervision_ranking`` keeps each published ranking's rows as they were computed when published.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "supervision_ranking",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("rows", JSON, nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("published_by", BIG_ID, nullable=False),
        sa.Column("published_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["published_by"], ["staff.id"], name=op.f("fk_supervision_ranking_published_by_staff")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_supervision_ranking_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_ranking")),
        sa.UniqueConstraint(
            "tenant_id",
            "unit_code",
            "month",
            "kind",
            name=op.f("uq_supervision_ranking_tenant_id_unit_code_month_kind"),
        ),
    )


def downgrade() -> None:
    op.drop_table("supervision_ranking")
