"""the database keeps audit_log append-only: no UPDATE or DELETE (or TRUNCATE), but the sealer's one step

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 23:00:00

A record is inserted unsealed and sealed once, after its transaction commits: its seq, prev_hash and hash go from
NULL to their values while every other column stays as it was. That is the only change the triggers let through.
Defence in depth, not the whole of it: a database superuser can still disable triggers, which is what the keyed
chain and the checkpoints outside the database are for. Run the app with a role that owns nothing, so it cannot
drop the triggers either (deploy/README.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONTENT = ("id", "chain", "tenant_id", "occurred_at", "actor", "actor_id", "role", "unit", "action", "resource",
            "purpose", "outcome", "request_id", "detail")  # fmt: skip
_MESSAGE = "audit_log is append-only"

_POSTGRESQL = [
    f"""
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.hash IS NOT NULL
       AND ({", ".join(f"NEW.{c}" for c in _CONTENT)}) IS NOT DISTINCT FROM ({", ".join(f"OLD.{c}" for c in _CONTENT)})
    THEN
        RETURN NEW;  -- the sealer giving a committed record its place in the chain
    END IF;
    RAISE EXCEPTION '{_MESSAGE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()""",
]  # one statement each: asyncpg prepares what it sends

_SQLITE_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _CONTENT)
_SQLITE = [
    f"""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        WHEN OLD.seq IS NOT NULL OR NEW.seq IS NULL OR NEW.hash IS NULL OR {_SQLITE_CHANGED}
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: UPDATE refused'); END""",
    f"""CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN SELECT RAISE(ABORT, '{_MESSAGE}: DELETE refused'); END""",
]


def upgrade() -> None:
    for statement in _POSTGRESQL if op.get_bind().dialect.name == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER audit_log_no_delete")
        op.execute("DROP TRIGGER audit_log_no_update")
