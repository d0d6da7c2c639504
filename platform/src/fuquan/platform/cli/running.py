"""How every command runs its async work: its own engine, and a refusal said in one red line (exit 2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.config import Settings
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.keys.master import MasterKeyMissing
from fuquan.platform.migrations.runner import SchemaBehind, require_current_schema

T = TypeVar("T")
_errors = output_console(stderr=True)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``coro`` to its end; a refusal (bad input, a master key this process was not given, a database not yet
    migrated) exits 2 saying why."""
    try:
        return asyncio.run(coro)
    except (FuquanError, MasterKeyMissing, SchemaBehind) as error:
        _errors.print(f"[red]错误：{getattr(error, 'detail', str(error))}[/red]")
        raise SystemExit(2) from error


async def with_sessions(settings: Settings, work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    """``work`` given a session factory on the configured database (refused, saying what to run, while its schema
    is older than this release's), whose engine is closed after."""
    engine = create_engine(settings.database_url)
    try:
        await require_current_schema(engine)
        return await work(session_factory(engine))
    finally:
        await engine.dispose()
