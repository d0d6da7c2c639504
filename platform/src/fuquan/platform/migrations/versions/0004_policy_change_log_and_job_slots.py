"""policy change log, job slots, floors in subtree policy lines

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 06:18:40.232560
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
CODE_LENGTHS = (2, 4, 6, 9, 12, 15)


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("slot", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("finished_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("detail", JSON, nullable=False),
        sa.PrimaryKeyConstraint("job", "slot", name=op.f("pk_job_run")),
    )
    op.create_table(
        "policy_change",
        sa.Column("tenant_id", BIG_ID, nullable=False),
        sa.Column("version", BIG_ID, nullable=False),
        sa.Column("added", JSON, nullable=False),
        sa.Column("removed", JSON, nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_policy_change_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_change")),
        sa.UniqueConstraint("tenant_id", "version", name=op.f("uq_policy_change_tenant_id_version")),
    )
    _bound_subtree_lines_by_floors()


def _bound_subtree_lines_by_floors() -> None:
    """Subtree lines written before floors bound coverage (DESIGN §6.1) get the floor in their scope
    (``CODE*`` → ``CODE*N``); lines that could then never match are dropped. Processes rebuild their
    engines from the rows when they start on the new schema."""
    bind = op.get_bind()
    floors = {
        (tenant_id, code): (accept_floor, decide_floor)
        for tenant_id, code, accept_floor, decide_floor in bind.execute(
            sa.text(
                "SELECT i.tenant_id, i.code, i.accept_floor, i.decide_floor FROM catalog_item i "
                "JOIN catalog_edition e ON e.id = i.edition_id "
                "WHERE e.number = (SELECT max(number) FROM catalog_edition WHERE tenant_id = e.tenant_id)"
            )
        )
    }
    rules = bind.execute(
        sa.text(
            "SELECT r.id, r.v0, r.v2, g.tenant_id, g.item_code, g.action FROM casbin_rule r "
            "JOIN authority_grant g ON g.id = r.grant_id WHERE r.ptype = 'p'"
        )
    ).all()
    for rule_id, key, scope, tenant_id, item, action in rules:
        item_floors = floors.get((tenant_id, item))
        if item_floors is None:
            continue
        bound = CODE_LENGTHS[(item_floors[0] if action == "accept" else item_floors[1]) - 1]
        code = scope.rstrip("*")
        if len(code) > bound or len(key) > bound:
            bind.execute(sa.text("DELETE FROM casbin_rule WHERE id = :id"), {"id": rule_id})
        elif scope.endswith("*") and bound < CODE_LENGTHS[-1]:
            bind.execute(
                sa.text("UPDATE casbin_rule SET v2 = :scope WHERE id = :id"),
                {"scope": f"{scope}{bound}", "id": rule_id},
            )


def downgrade() -> None:
    op.drop_table("policy_change")
    op.drop_table("job_run")
