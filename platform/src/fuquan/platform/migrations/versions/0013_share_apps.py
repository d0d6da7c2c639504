"""partner departments' applications for the data-sharing API (共享应用), their signing keys and data grants

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:00:00

``share_app`` is one partner department's application registered by a tenant (unique code per tenant; the
client addresses it may call from; when it was suspended). ``share_key`` holds its signing keys: the key id sent
in ``X-App-Key`` (unique across tenants, so it finds the tenant), the secret SM4-encrypted with the tenant's data
key (``secret_cipher``, re-encrypted by key rotation like every other ciphertext), and when it stops working.
``share_grant`` is one application's grant of one dataset: purposes, fields, region, validity, legal basis.
``share_nonce`` remembers each (key, nonce) used, so a replayed call is refused on every replica.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_B = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "share_app",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("contact", sa.String(length=128), nullable=False),
        sa.Column("allowed_clients", sa.String(length=512), nullable=False),
        sa.Column("suspended_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_share_app_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_app")),
        sa.UniqueConstraint("tenant_id", "code", name=op.f("uq_share_app_tenant_id_code")),
    )
    with op.batch_alter_table("share_app", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_app_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "share_key",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("app_id", BIG_ID, nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("secret_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_share_key_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["share_app.id"], name=op.f("fk_share_key_app_id_share_app"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_share_key_key_id")),
    )
    with op.batch_alter_table("share_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_key_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_share_key_app_id"), ["app_id"], unique=False)

    op.create_table(
        "share_grant",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("app_id", BIG_ID, nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("purposes", JSON_B, nullable=False),
        sa.Column("fields", JSON_B, nullable=False),
        sa.Column("region", sa.String(length=15), nullable=True),
        sa.Column("basis", sa.String(length=128), nullable=False),
        sa.Column("valid_from", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("valid_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_share_grant_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["share_app.id"], name=op.f("fk_share_grant_app_id_share_app"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_grant")),
    )
    with op.batch_alter_table("share_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_grant_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_share_grant_app_id"), ["app_id"], unique=False)

    op.create_table(
        "share_nonce",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", "nonce", name=op.f("pk_share_nonce")),
    )
    with op.batch_alter_table("share_nonce", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_share_nonce_seen_at"), ["seen_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("share_nonce", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_nonce_seen_at"))
    op.drop_table("share_nonce")
    with op.batch_alter_table("share_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_grant_app_id"))
        batch_op.drop_index(batch_op.f("ix_share_grant_tenant_id"))
    op.drop_table("share_grant")
    with op.batch_alter_table("share_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_key_app_id"))
        batch_op.drop_index(batch_op.f("ix_share_key_tenant_id"))
    op.drop_table("share_key")
    with op.batch_alter_table("share_app", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_share_app_tenant_id"))
    op.drop_table("share_app")
