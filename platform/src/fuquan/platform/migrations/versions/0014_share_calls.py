"""the data-sharing API's call log (调用日志) and the residents each call asked about

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:00:00

``share_call`` records every call to ``/api/share/v1``, answered or refused: the application (NULL when the key
was not known), dataset, purpose and the caller's file number, operator, request id, client address, the
envelope's code and the reason. ``share_call_subject`` lists the residents a call asked about by the tenant's
blind index of their ID number (never the number), so a resident can see who used their data. ``share_quota``
counts each key's answered calls per day, for the daily quota every replica shares.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "share_call",
        sa.Column("tenant_id", BIG_ID, nullable=True),
        sa.Column("app_id", BIG_ID, nullable=True),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("operator", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("client", sa.String(length=45), nullable=False),
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("subjects", sa.SmallInteger(), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_share_call_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["share_app.id"], name=op.f("fk_share_call_app_id_share_app"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_call")),
    )
    with op.batch_alter_table("share_call", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_call_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index("ix_share_call_app_at", ["app_id", "at"], unique=False)

    op.create_table(
        "share_call_subject",
        sa.Column("call_id", BIG_ID, nullable=False),
        sa.Column("subject_index", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["share_call.id"], name=op.f("fk_share_call_subject_call_id_share_call"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_share_call_subject_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("call_id", "subject_index", name=op.f("pk_share_call_subject")),
    )
    with op.batch_alter_table("share_call_subject", schema=None) as batch_op:
        batch_op.create_index("ix_share_call_subject_person", ["tenant_id", "subject_index"], unique=False)

    op.create_table(
        "share_quota",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "day", name=op.f("pk_share_quota")),
    )


def downgrade() -> None:
    op.drop_table("share_quota")
    with op.batch_alter_table("share_call_subject", schema=None) as batch_op:
        batch_op.drop_index("ix_share_call_subject_person")
    op.drop_table("share_call_subject")
    with op.batch_alter_table("share_call", schema=None) as batch_op:
        batch_op.drop_index("ix_share_call_app_at")
        batch_op.drop_index(batch_op.f("ix_share_call_tenant_id"))
    op.drop_table("share_call")
