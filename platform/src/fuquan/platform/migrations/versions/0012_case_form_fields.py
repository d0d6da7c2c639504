"""a case's form is checked against its item's declared fields, and its personal values are encrypted

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:30:00

``catalog_item.fields`` declares each item's application form (申请表): name, label, type, required, length, and
whether it is personal data (个人信息). Items already published get the fields the shipped catalogue declares for
their code (items the shipped catalogue does not know get none): an upgrade, not an edit, so no new edition.

``case_file`` keeps the values of non-personal fields in ``form`` as before, the personal ones in ``form_cipher``
(SM4-GCM under the tenant's data key, like the applicant's) and masked in ``form_masked``. A migration holds no
master key, so it cannot encrypt: it moves every value of an existing (free) form that is not a declared
non-personal field into ``form_plain`` — a value under a key no item declares counts as personal, since no one can
say what it held — and the key preparation that follows every upgrade (``fuquan db upgrade``, and every app
process before it serves: ``migrations.keys.prepare_keys``) encrypts them and empties ``form_plain``.
Downgrading keeps the values that are still plain; encrypted values cannot be put back without the keys (they
stay readable only after upgrading again).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Any

import msgspec
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
NULLABLE_JSON = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), "postgresql"
)
UNSEALED = sa.text("form_plain IS NOT NULL")
PERSONAL_TYPES = frozenset({"phone", "id_number", "bank_account"})
BATCH = 500

_item = sa.table("catalog_item", sa.column("id", sa.Integer), sa.column("code", sa.String),
                 sa.column("edition_id", sa.Integer), sa.column("fields", JSON))  # fmt: skip
_edition = sa.table("catalog_edition", sa.column("id", sa.Integer), sa.column("number", sa.Integer))
_case = sa.table(
    "case_file", sa.column("id", sa.Integer), sa.column("tenant_id", sa.Integer), sa.column("item_code", sa.String),
    sa.column("catalog_edition", sa.Integer), sa.column("form", JSON), sa.column("form_plain", NULLABLE_JSON),
)  # fmt: skip


def _shipped_fields() -> dict[str, list[dict[str, Any]]]:
    """The fields of the shipped catalogue, by item code (read as data: this migration must not import the app)."""
    text = (resources.files("fuquan.platform.catalog") / "data" / "catalog_hrss_township_20.yaml").read_bytes()
    items = msgspec.yaml.decode(text)["items"]
    return {item["code"]: list(item.get("fields") or []) for item in items}


def upgrade() -> None:
    # only added columns and an index: plain ALTER TABLE on both backends (no batch copy of case_file)
    op.add_column("catalog_item", sa.Column("fields", JSON, nullable=False, server_default=sa.text("'[]'")))
    op.add_column("case_file", sa.Column("form_cipher", sa.LargeBinary(), nullable=True))
    op.add_column("case_file", sa.Column("form_masked", JSON, nullable=False, server_default=sa.text("'{}'")))
    op.add_column("case_file", sa.Column("form_plain", NULLABLE_JSON, nullable=True))
    op.create_index(
        "ix_case_file_form_unsealed", "case_file", ["tenant_id", "id"], unique=False,
        postgresql_where=UNSEALED, sqlite_where=UNSEALED,
    )  # fmt: skip
    bind = op.get_bind()
    shipped = _shipped_fields()
    for code, fields in shipped.items():
        bind.execute(sa.update(_item).where(_item.c.code == code).values(fields=fields))
    _set_aside(bind, shipped)


def _set_aside(bind: Any, shipped: dict[str, list[dict[str, Any]]]) -> None:
    """Each existing form split: declared non-personal values stay, everything else waits in ``form_plain``."""
    plain_names = {
        code: {f["name"] for f in fields if not f.get("personal") and f.get("type") not in PERSONAL_TYPES}
        for code, fields in shipped.items()
    }
    after = 0
    while True:
        rows = bind.execute(
            sa.select(_case.c.id, _case.c.item_code, _case.c.form).where(_case.c.id > after).order_by(_case.c.id)
            .limit(BATCH)
        ).all()  # fmt: skip
        if not rows:
            return
        after = rows[-1].id
        for row in rows:
            form = row.form if isinstance(row.form, dict) else {}
            if not form:
                continue
            keep = plain_names.get(row.item_code, set())
            plain = {name: value for name, value in form.items() if name in keep}
            aside = {name: value for name, value in form.items() if name not in keep}
            if aside:
                bind.execute(sa.update(_case).where(_case.c.id == row.id).values(form=plain, form_plain=aside))


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_case.c.id, _case.c.form, _case.c.form_plain).where(UNSEALED)).all()
    for row in rows:
        bind.execute(sa.update(_case).where(_case.c.id == row.id).values(form={**row.form, **row.form_plain}))
    # plain ALTER TABLE (SQLite has dropped columns since 3.35): a batch copy would drop case_file, and with
    # foreign keys on, that deletes every case's materials and trace
    op.drop_index(
        "ix_case_file_form_unsealed", table_name="case_file", postgresql_where=UNSEALED, sqlite_where=UNSEALED
    )
    for column in ("form_plain", "form_masked", "form_cipher"):
        op.drop_column("case_file", column)
    op.drop_column("catalog_item", "fields")
