"""Per-process caches of a tenant's settings, kept exact by version (DESIGN §4).

Every change of a setting bumps its ``(tenant, kind)`` version in the change's own transaction
(``changed``). The process that made the change forgets its cached value once the change commits; every
other process learns of the new version from the periodic catch-up (``poll``, one small query a second),
as with the catalogue's editions. A value is loaded with the version read *before* it, so a value is
never labelled newer than it is.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.db import on_commit, own_session
from fuquan.platform.core.tenancy import OfTenant
from fuquan.platform.core.versions.repositories import SettingVersionRepository

T = TypeVar("T")


S = TypeVar("S", bound=OfTenant)

CALENDAR = "calendar"
PARTNERS = "partners"

_caches: weakref.WeakSet[TenantSettingCache[OfTenant, object]] = weakref.WeakSet()  # every cache of this process


class TenantSettingCache(Generic[S, T]):
    """One value per tenant (its working calendar, its partner gateways…), loaded on first use and kept
    while its kind's version stays. Read through its own session: no request's rollback can touch it."""

    def __init__(
        self,
        kind: str,
        load: Callable[[AsyncSession, S], Awaitable[T]],
        session_maker: async_sessionmaker[AsyncSession],
    ) -> None:
        self.kind = kind
        self._load = load
        self._session_maker = session_maker
        self._values: dict[int, tuple[int, T]] = {}
        self._newest: dict[int, int] = {}
        self.database = _database_of(session_maker.kw.get("bind"))
        _caches.add(self)  # type: ignore[arg-type]

    async def get(self, scope: S) -> T:
        tenant_id = scope.tenant_id
        cached = self._values.get(tenant_id)
        if cached is not None and cached[0] >= self._newest.get(tenant_id, 0):
            return cached[1]
        async with own_session(self._session_maker, writes=False) as session:
            version = await SettingVersionRepository(session).version(scope, self.kind)
            value = await self._load(session, scope)
        self._values[tenant_id] = (version, value)
        self.told(tenant_id, version)
        return value

    def told(self, tenant_id: int, version: int) -> None:
        """A version announced or polled: it names the tenant by id, as the version table does."""
        if version > self._newest.get(tenant_id, 0):
            self._newest[tenant_id] = version


async def changed(session: AsyncSession, scope: OfTenant, kind: str) -> None:
    """Record that the tenant's setting of ``kind`` changes in this transaction; this process's caches
    learn of it when the transaction commits, the others within their catch-up interval."""
    version = await SettingVersionRepository(session).bump(scope, kind)
    database, tenant_id = _database_of(session.bind), scope.tenant_id
    on_commit(session, lambda: _tell(database, tenant_id, kind, version))


async def poll(session: AsyncSession) -> None:
    """Every process, every second or so: the versions other processes have moved."""
    database = _database_of(session.bind)
    for tenant_id, kind, version in await SettingVersionRepository(session).all():
        _tell(database, tenant_id, kind, version)


def _database_of(bind: object) -> str:
    """Which database a cache or a change belongs to (tests run apps on several in one process)."""
    url = getattr(bind, "url", None)
    return "" if url is None else url.render_as_string(hide_password=True)


def _tell(database: str, tenant_id: int, kind: str, version: int) -> None:
    for cache in list(_caches):
        if cache.kind == kind and cache.database == database:
            cache.told(tenant_id, version)


__all__ = ["CALENDAR", "PARTNERS", "TenantSettingCache", "changed", "poll"]
