"""Units by code for hot paths (权限核验): read from the database once per process, then from memory.

Units are only ever added (``fuquan tenants import`` adds the codes a tenant lacks; nothing renames or removes
one), so a unit read once stays true; the directory is bounded and forgets the least recently used. Lookups
keep the repository's rule: a unit in another tenant or outside the caller's scope reads exactly like one that
does not exist (404).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import NotFound
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope


@dataclass(frozen=True, slots=True)
class UnitFacts:
    code: str
    name: str
    level: int
    parent_code: str | None


class UnitDirectory:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession] | None, capacity: int = 200_000) -> None:
        self._session_maker = session_maker
        self._capacity = capacity
        self._units: OrderedDict[tuple[int, str], UnitFacts] = OrderedDict()

    async def get(self, scope: TenantScope, code: str, session: AsyncSession) -> UnitFacts:
        """The unit, or NotFound when it is absent, in another tenant, or outside the scope. ``session`` is
        used only without a session maker of its own (commands, tests)."""
        key = (scope.tenant_id, code)
        facts = self._units.get(key) if scope.covers(code) else None
        if facts is not None:
            self._units.move_to_end(key)
            return facts
        if self._session_maker is None:
            unit = await UnitRepository(session).get(scope, code)
        else:
            async with own_session(self._session_maker, writes=False) as own:
                unit = await UnitRepository(own).get(scope, code)
        facts = UnitFacts(unit.code, unit.name, unit.level, unit.parent_code)
        self._units[key] = facts
        if len(self._units) > self._capacity:
            self._units.popitem(last=False)
        return facts


__all__ = ["NotFound", "UnitDirectory", "UnitFacts"]
