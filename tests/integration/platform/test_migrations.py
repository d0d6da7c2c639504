"""Migrations upgrade an empty database to head, and the models and migrations agree."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from conftest import PG_URL, _admin_execute, _pg_database_url
from fuquan.platform.core.config import sqlite_url
from fuquan.platform.core.db import create_engine
from fuquan.platform.migrations.metadata import metadata
from fuquan.platform.migrations.runner import SchemaBehind, alembic_config, downgrade, require_current_schema, upgrade


@pytest.fixture
def empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield sqlite_url(tmp_path / "empty.db")
        return
    assert PG_URL
    name = f"fuquan_empty_{os.getpid()}"
    asyncio.run(_admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin_execute(f"CREATE DATABASE {name}"))
    yield _pg_database_url(name)
    asyncio.run(_admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _diff_and_tables(url: str) -> tuple[list[object], set[str]]:
    engine = create_engine(url)
    async with engine.connect() as connection:

        def inspect_sync(sync_connection: object) -> tuple[list[object], set[str]]:
            context = MigrationContext.configure(sync_connection, opts={"compare_type": True})  # type: ignore[arg-type]
            return compare_metadata(context, metadata), set(inspect(sync_connection).get_table_names())

        result = await connection.run_sync(inspect_sync)
    await engine.dispose()
    return result


def test_upgrade_empty_database_matches_models(empty_database: str) -> None:
    upgrade(empty_database)
    diff, tables = asyncio.run(_diff_and_tables(empty_database))
    assert diff == [], f"models and migrations disagree: {diff}"
    assert set(metadata.tables) <= tables


def test_downgrade_to_base_and_up_again(empty_database: str) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    _, tables = asyncio.run(_diff_and_tables(empty_database))
    assert tables <= {"alembic_version"}
    upgrade(empty_database)
    diff, _ = asyncio.run(_diff_and_tables(empty_database))
    assert diff == []


def test_the_app_refuses_a_schema_older_than_its_own_and_serves_a_newer_one(empty_database: str) -> None:
    """The migration job runs before a release's replicas: one started on an older schema refuses to serve and
    says what to run; the previous release keeps serving a schema migrated past it (a rolling upgrade)."""
    upgrade(empty_database, "0007")

    async def check() -> str | None:
        engine = create_engine(empty_database)  # one engine per event loop: asyncpg's connections belong to theirs
        try:
            return await require_current_schema(engine)
        finally:
            await engine.dispose()

    head = ScriptDirectory.from_config(alembic_config(empty_database)).get_current_head()
    with pytest.raises(SchemaBehind, match=rf"0007.*{head}.*fuquan db upgrade"):
        asyncio.run(check())
    upgrade(empty_database)
    assert asyncio.run(check()) == head

    async def from_the_future() -> str | None:
        engine = create_engine(empty_database)
        async with engine.begin() as connection:
            await connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
        await engine.dispose()
        return await check()

    assert asyncio.run(from_the_future()) == "9999"
