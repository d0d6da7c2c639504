"""the audit chain is keyed: each sealed record names the audit key its HMAC-SM3 was made with

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:00:00

Records sealed before this revision keep ``hash_key`` NULL: their hash is the unkeyed SM3 of earlier releases,
and ``fuquan audit verify`` accepts it only before a chain's first keyed record. The sealer sets ``hash_key``
together with ``seq``, ``prev_hash`` and ``hash``; the append-only triggers of 0009 let that one step through
because ``hash_key`` is not part of a record's content.

To run the app with a role that cannot rewrite the log at all (beyond the triggers, which a table owner can
drop), own the schema with a migration role and give the app's role only what it needs here::

    GRANT SELECT, INSERT ON audit_log TO fuquan_app;
    GRANT UPDATE (seq, prev_hash, hash, hash_key) ON audit_log TO fuquan_app;  -- sealing only
    GRANT SELECT, INSERT, UPDATE ON audit_chain_head TO fuquan_app;
    REVOKE DELETE, TRUNCATE ON audit_log FROM fuquan_app;
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_log", sa.Column("hash_key", sa.String(16), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE audit_log DROP COLUMN hash_key")  # in place: a rebuilt table would lose 0009's triggers
