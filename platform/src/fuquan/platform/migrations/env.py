"""Alembic environment: async engines, batch mode on SQLite (ALTER TABLE is limited there)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from fuquan.platform.core.db import create_engine
from fuquan.platform.migrations.metadata import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "the caller sets sqlalchemy.url"
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_configure)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    existing = config.attributes.get("connection")
    if existing is not None:
        _configure(existing)
    else:
        asyncio.run(_run_online())
