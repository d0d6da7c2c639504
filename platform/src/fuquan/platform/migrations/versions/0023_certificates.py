"""电子证照: each organ's SM2 signing keys and the certificates they sign

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 20:00:00

``organ_key`` holds an organ's key pairs, the private half wrapped by the master key; ``certificate`` the signed
records of approved cases, the record itself encrypted under the tenant's data key.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "organ_key",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("unit_code", sa.String(length=15), nullable=False),
        sa.Column("serial", sa.SmallInteger(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("retired_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_organ_key_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organ_key")),
        sa.UniqueConstraint("tenant_id", "unit_code", "serial", name=op.f("uq_organ_key_tenant_id_unit_code_serial")),
    )
    op.create_table(
        "certificate",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("verify_code", sa.String(length=10), nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("organ_code", sa.String(length=15), nullable=False),
        sa.Column("organ_name", sa.String(length=128), nullable=False),
        sa.Column("holder_masked", sa.String(length=64), nullable=False),
        sa.Column("holder_id_masked", sa.String(length=32), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("key_id", BIG_ID, nullable=False),
        sa.Column("record_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("issued_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=500), nullable=True),
        sa.Column("revoked_by", BIG_ID, nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_certificate_case_id_case_file"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["key_id"], ["organ_key.id"], name=op.f("fk_certificate_key_id_organ_key")),
        sa.ForeignKeyConstraint(["revoked_by"], ["staff.id"], name=op.f("fk_certificate_revoked_by_staff")),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_certificate_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_certificate_tenant_id_number")),
    )
    op.create_index("ix_certificate_number", "certificate", ["number"], unique=False)
    op.create_index("ix_certificate_case", "certificate", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_certificate_case", table_name="certificate")
    op.drop_index("ix_certificate_number", table_name="certificate")
    op.drop_table("certificate")
    op.drop_table("organ_key")
