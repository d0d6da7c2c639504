"""机关与服务点: each unit's organ (name and kind, where the tenant sets them) and the service points

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 00:00:00

``unit.organ_name`` / ``unit.organ_kind`` are empty until a tenant sets them: the defaults are derived from the
unit's level and name (``tenants.organs``). ``service_point`` holds the 便民服务中心/站 and the agent outlets.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("unit", sa.Column("organ_name", sa.String(length=128), nullable=True))
    op.add_column("unit", sa.Column("organ_kind", sa.String(length=24), nullable=True))
    op.create_table(
        "service_point",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("hours", sa.String(length=128), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("opened_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("closed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_by", BIG_ID, nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["staff.id"], name=op.f("fk_service_point_created_by_staff")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_service_point_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_point")),
    )
    op.create_index("ix_service_point_unit", "service_point", ["tenant_id", "unit_code"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_service_point_unit", table_name="service_point")
    op.drop_table("service_point")
    op.drop_column("unit", "organ_kind")
    op.drop_column("unit", "organ_name")
