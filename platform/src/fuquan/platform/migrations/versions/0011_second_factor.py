"""admins sign in with a second factor (TOTP, RFC 6238) and one-time recovery codes

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 00:00:00

``second_factor`` holds one person's TOTP secret, encrypted with the tenant's data key (``secret_cipher``), the
time step of the last code accepted (a code is accepted once only) and when enrolment was proved (NULL while the
person has been shown a secret but not yet proved a code). ``recovery_code`` holds the SM3 digests of the
one-time recovery codes.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "second_factor",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("staff_id", BIG_ID, nullable=False),
        sa.Column("secret_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("enrolled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_second_factor_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_second_factor_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factor")),
        sa.UniqueConstraint("staff_id", name=op.f("uq_second_factor_staff_id")),
    )
    with op.batch_alter_table("second_factor", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_second_factor_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "recovery_code",
        sa.Column("staff_id", BIG_ID, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("used_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_recovery_code_staff_id_staff"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
        sa.UniqueConstraint("staff_id", "digest", name=op.f("uq_recovery_code_staff_id_digest")),
    )


def downgrade() -> None:
    op.drop_table("recovery_code")
    op.drop_table("second_factor")
