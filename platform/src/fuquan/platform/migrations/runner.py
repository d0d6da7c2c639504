"""Run migrations from code (the CLI, the demo and the tests) — no alembic.ini needed."""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS_DIR = Path(__file__).parent
log = structlog.get_logger()


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Autogenerate a new revision (developers: ``fuquan db revision -m ...``)."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)


class SchemaBehind(RuntimeError):
    """The database's schema is older than this release's: the migration job has not run yet."""


async def require_current_schema(engine: AsyncEngine) -> str | None:
    """Refuse to serve a database whose schema is older than this release's (the migration job runs first, so a
    new replica never writes to tables it does not know). A newer schema is accepted: during a rolling upgrade
    the previous release keeps serving after the migration, and migrations keep it working (add, then drop a
    release later). Returns the database's revision."""
    async with engine.connect() as connection:
        current = await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
    scripts = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    head = scripts.get_current_head()
    if current == head:
        return current
    known = current is not None and any(script.revision == current for script in scripts.walk_revisions())
    if current is None or known:
        raise SchemaBehind(
            f"数据库结构版本为 {current or '（空）'}，本版本需要 {head}：请先运行 fuquan db upgrade 迁移数据库"
        )
    log.warning("schema_newer_than_release", database=current, release=head)
    return current
