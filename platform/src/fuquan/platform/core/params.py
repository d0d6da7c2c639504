"""Path and query numbers shared by the API and the pages, bounded to what the database can hold.

An id or offset past a 64-bit integer cannot name a row; unbounded, it reaches the database driver and
fails there (SQLite: "Python int too large to convert to SQLite INTEGER") as a 500. Bounded here, it is
a 400 that says which parameter is wrong.
"""

from __future__ import annotations

from typing import Annotated, Final

from litestar.params import PathParameter, QueryParameter

MAX_ROW_ID: Final = 2**63 - 1  # the largest BIGINT (and SQLite INTEGER)
MAX_MATERIALS: Final = 99  # a catalogue item lists a handful of materials; 1-based

RowId = Annotated[int, PathParameter(ge=1, le=MAX_ROW_ID, description="记录编号（正整数）")]
# an optional filter: the bounds stand beside ``None`` (inside a union Litestar would not apply them)
RowIdFilter = Annotated[int | None, QueryParameter(ge=1, le=MAX_ROW_ID, description="按记录编号筛选（正整数）")]
MaterialIndex = Annotated[int, PathParameter(ge=1, le=MAX_MATERIALS, description="材料序号（从 1 起）")]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_ROW_ID, description="跳过的条数")]

__all__ = ["MAX_MATERIALS", "MAX_ROW_ID", "MaterialIndex", "Offset", "RowId", "RowIdFilter"]
