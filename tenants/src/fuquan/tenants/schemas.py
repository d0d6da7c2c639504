"""API shapes of units."""

from __future__ import annotations

import msgspec


class UnitRead(msgspec.Struct, frozen=True):
    code: str
    name: str
    level: int
    parent_code: str | None
