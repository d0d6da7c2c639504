"""Declarative base, engines and sessions shared by every feature's models and repositories."""

from __future__ import annotations

import asyncio
import inspect
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from datetime import datetime
from typing import Any

import anyio
import msgspec
from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import JSON, BigInteger, Integer, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import Insert as PgInsert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import Insert as SqliteInsert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.util import await_only

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments an INTEGER PRIMARY KEY, PostgreSQL gets a real BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JsonB = JSON().with_variant(JSONB(), "postgresql")

__all__ = [
    "Base", "BigId", "DateTimeUTC", "JsonB", "autocommitted", "conflict_insert", "create_engine", "on_commit",
    "own_session", "session_factory", "session_scope", "writing",
]  # fmt: skip


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTimeUTC(timezone=True)}


class IdMixin:
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


_WRITES: ContextVar[bool] = ContextVar("fuquan_writes", default=False)


def writing(writes: bool) -> Token[bool]:
    """Say whether the work in this context writes (a POST request, a job's unit of work), so that its SQLite
    transactions take the write lock as they begin; other work (a GET, a command) begins as a reader."""
    return _WRITES.set(writes)


WRITER_WAIT_SECONDS = 5.0  # as SQLite's busy_timeout: then the request is refused (409), never left hanging
_writer_queues: weakref.WeakKeyDictionary[Engine, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]]
_writer_queues = weakref.WeakKeyDictionary()
_HOLDS_WRITER_QUEUE = "fuquan.writer_queue"  # connection.info: the queue this transaction holds


def _sqlite_begin(connection: Connection) -> None:
    """A transaction that writes takes SQLite's write lock when it begins: a transaction that read first cannot
    wait when it comes to write after another connection committed — SQLite answers "database is locked" at
    once, and the request would have to be refused. Other work keeps the driver's way: reads outside a
    transaction, which begins at the first write.

    The writers of one process queue for the lock in arrival order first (SQLite's own wait polls with growing
    sleeps, and a request that keeps losing the race waited seconds); other processes are still waited for by
    busy_timeout."""
    if not _WRITES.get():
        return
    queues = _writer_queues.setdefault(connection.engine, weakref.WeakKeyDictionary())
    queue = queues.setdefault(asyncio.get_running_loop(), asyncio.Lock())
    try:
        await_only(asyncio.wait_for(queue.acquire(), WRITER_WAIT_SECONDS))
    except TimeoutError as waited:
        raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")) from waited
    connection.info[_HOLDS_WRITER_QUEUE] = queue
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        _leave_writer_queue(connection)
        raise


def _leave_writer_queue(connection: Connection) -> None:
    queue = connection.info.pop(_HOLDS_WRITER_QUEUE, None)
    if queue is not None:
        queue.release()


def _json_text(value: Any) -> str:
    return msgspec.json.encode(value).decode()


# JSON columns through msgspec: a case's form and materials are decoded on every read of the case
_JSON_CODEC: dict[str, Any] = {"json_serializer": _json_text, "json_deserializer": msgspec.json.decode}


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **_JSON_CODEC)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        event.listen(engine.sync_engine, "commit", _leave_writer_queue)
        event.listen(engine.sync_engine, "rollback", _leave_writer_queue)
        return engine
    # no ping before each checkout (a round trip per request): a connection the server dropped fails its
    # first statement, SQLAlchemy then discards the whole pool, and that one request answers 503
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_recycle=1800, **_JSON_CODEC)


@asynccontextmanager
async def autocommitted(bind: AsyncEngine | AsyncConnection) -> AsyncIterator[AsyncConnection]:
    """Another pooled PostgreSQL connection of ``bind``'s engine whose every statement commits by itself: one
    round trip for one statement that must not wait for the request's commit (no BEGIN, no COMMIT, no session)."""
    engine = bind if isinstance(bind, AsyncEngine) else bind.engine
    if is_sqlite(engine):
        raise ValueError("SQLite work takes its write lock as a transaction begins: use own_session")
    async with engine.connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A unit of work for the CLI and background jobs: commit on success, roll back on error."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


@asynccontextmanager
async def own_session(factory: async_sessionmaker[AsyncSession], *, writes: bool) -> AsyncIterator[AsyncSession]:
    """A session for work outside a request's own (background jobs, per-process caches). Its connection goes
    back to the pool even when the work is cancelled mid-way, as at shutdown: a connection left to the
    garbage collector is closed on whichever event loop runs then, and with aiosqlite that can hang for ever.
    A cache filled in the middle of a writing request says ``writes=False``: on SQLite it must not wait for
    the write lock its own request holds."""
    said = _WRITES.set(writes)
    session = factory()
    try:
        yield session
    finally:
        with anyio.CancelScope(shield=True):
            await session.close()
        _WRITES.reset(said)


_ON_COMMIT = "fuquan.on_commit"
_background: set[asyncio.Task[None]] = set()  # strong references: a task nobody holds may vanish mid-way


def on_commit(session: AsyncSession, callback: Callable[[], Awaitable[None] | None]) -> None:
    """Run ``callback`` once ``session``'s transaction commits (never if it rolls back): for caches and
    announcements that must follow what is stored, not what was merely attempted. A coroutine it returns
    runs as a task on the running loop."""
    session.sync_session.info.setdefault(_ON_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_on_commit(session: Session) -> None:
    for callback in session.info.pop(_ON_COMMIT, []):
        result = callback()
        if inspect.isawaitable(result):
            task = asyncio.get_running_loop().create_task(_awaited(result))
            _background.add(task)
            task.add_done_callback(_background.discard)


async def _awaited(result: Awaitable[None]) -> None:
    await result


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_ON_COMMIT, None)


def conflict_insert(session: AsyncSession, table: Any) -> PgInsert | SqliteInsert:
    """``INSERT`` in the session's dialect, which can say ``ON CONFLICT DO NOTHING / DO UPDATE``: how a
    concurrent first insert of a unique key is settled on both backends (a SAVEPOINT is not: pysqlite
    commits the transaction a savepoint opened when it is released)."""
    bind = session.bind
    return pg_insert(table) if bind is not None and bind.dialect.name == "postgresql" else sqlite_insert(table)


def is_sqlite(engine: AsyncEngine | Engine) -> bool:
    return engine.dialect.name == "sqlite"
