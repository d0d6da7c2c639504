"""INSERT … ON CONFLICT statements compiled once per dialect.

SQLAlchemy 2.0 gives its dialects' ``Insert`` no cache key (``inherit_cache = False``), so every execution of
an ``ON CONFLICT`` statement is compiled again, and the ORM sets up a bulk insert around it: on the case
intake path that was about a tenth of the server's CPU. An :class:`Upsert` compiles the statement once into
text with typed parameters, which SQLAlchemy does cache, and fills in the Python-side column defaults and
literal values that the compiled statement would have bound itself.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.dialects.sqlite.base import SQLiteDialect
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql import ColumnElement, Executable

from fuquan.platform.core.db import Base


def _named(dialect: Dialect) -> Dialect:
    """The SQL the driver's dialect writes, with plain ``:name`` parameters that text() can carry: the driver's
    dialect adds its casts (``$1::JSONB``) to the typed parameters when it runs the text."""
    dialect.bind_typing = BindTyping.NONE
    return dialect


_NAMED = {"postgresql": _named(PGDialect(paramstyle="named")), "sqlite": _named(SQLiteDialect(paramstyle="named"))}


@dataclass(frozen=True, slots=True)
class Upsert:
    statement: Executable
    bound: Mapping[str, Any]  # literals the statement binds itself (``last + 1``)
    defaults: Mapping[str, Callable[[], Any]]  # Python-side column defaults for values not given

    def parameters(self, values: Mapping[str, Any]) -> dict[str, Any]:
        filled = dict(self.bound)
        filled.update({name: default() for name, default in self.defaults.items() if name not in values})
        filled.update(values)
        return filled


_COMPILED: dict[tuple[str, Hashable], Upsert] = {}


def compiled_upsert(
    runner: AsyncSession | AsyncConnection,
    key: Hashable,
    build: Callable[[Any], Any],
    *,
    entity: type[Base] | None = None,
) -> Upsert:
    """The statement ``build(insert)`` makes from the dialect's ``insert`` construct, compiled once per dialect
    under ``key``, for a session or a connection to run. With ``entity``, its ``RETURNING`` of that model's
    columns comes back as ORM instances (through a session)."""
    dialect = runner.bind.dialect.name if isinstance(runner, AsyncSession) else runner.dialect.name
    found = _COMPILED.get((dialect, key))
    if found is not None:
        return found
    statement = build(pg_insert if dialect == "postgresql" else sqlite_insert)
    compiled = statement.compile(dialect=_NAMED[dialect])
    binds = {name: parameter for parameter, name in compiled.bind_names.items()}  # as rendered in the SQL
    textual = text(compiled.string).bindparams(*(bindparam(name, type_=p.type) for name, p in binds.items()))
    runnable: Executable = textual
    if entity is not None:
        columns: list[ColumnElement[Any]] = list(entity.__table__.columns)
        runnable = select(entity).from_statement(textual.columns(*columns))
    defaults = {column.key: _default(column) for column in compiled.insert_prefetch}
    bound = {name: p.effective_value for name, p in binds.items() if not p.required and name not in defaults}
    found = _COMPILED[(dialect, key)] = Upsert(runnable, bound, defaults)
    return found


def column_defaults(table: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` with the table's Python-side column defaults added for the columns not given."""
    filled = dict(values)
    for column in table.columns:
        if column.key in filled or column.default is None:
            continue
        if not (column.default.is_scalar or column.default.is_callable):  # a SQL expression or a sequence
            raise ValueError(f"give {table.name}.{column.key} explicitly: its default is not computed in Python")
        filled[column.key] = _default(column)()
    return filled


def _default(column: Any) -> Callable[[], Any]:
    default = column.default
    if default.is_scalar:
        return lambda: default.arg
    return lambda: default.arg(None)  # SQLAlchemy wraps a zero-argument default to take the context
