"""Who is calling (登录身份): a bearer token or a page session resolved to its staff member, once per request.

The database answers the first time a token is seen; the answer is then kept in the Litestar store
``logins`` (in memory, or in Redis shared by every process), keyed by the token's digest, for at most
``cache_seconds`` and never past the token's expiry — so a request with a known token costs no database
round trip. In front of the store each process keeps what it resolved for at most ``RECENT_SECONDS`` (a
busy token then costs no Redis round trip either). Logging out deletes the entry before the revocation is
written and again once it has committed, and announces it (``on_forgotten``) so every other process drops
its own copy at once — at worst it lapses within the second. Anything else that ends a login (a staff
member disabled, roles changed) calls :meth:`LoginDirectory.forget` the same way.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

import msgspec
from litestar.stores.base import Store
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import TokenRepository
from fuquan.platform.core.db import own_session
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import scope_for


class Login(msgspec.Struct, frozen=True, kw_only=True):
    """A live login: the staff member, where they work, and until when the token holds."""

    staff_id: int
    username: str
    display_name: str
    unit_code: str
    roles: list[str]
    tenant_id: int
    tenant_code: str
    tenant_name: str
    timezone: str
    token_id: int
    expires_at: datetime

    def actor(self) -> Actor:
        return Actor(
            staff_id=self.staff_id,
            username=self.username,
            display_name=self.display_name,
            unit_code=self.unit_code,
            roles=frozenset(self.roles),
            scope=scope_for(self.tenant_id, self.tenant_code, self.unit_code, self.timezone),
            token_id=self.token_id,
        )


_decode = msgspec.json.Decoder(Login).decode
_encode = msgspec.json.Encoder().encode


RECENT_SECONDS = 1.0  # how long a process answers a token from its own memory
RECENT_KEPT = 10_000  # tokens remembered per process at most


class LoginDirectory:
    def __init__(self, store: Store, session_maker: async_sessionmaker[AsyncSession], cache_seconds: int = 60) -> None:
        self._store = store
        self._session_maker = session_maker
        self._cache_seconds = cache_seconds
        self._recent: OrderedDict[str, tuple[float, Login]] = OrderedDict()
        self.on_forgotten: Callable[[str], None] | None = None  # tells the other processes (see app.background)

    async def resolve(self, digest: str) -> Login | None:
        """The live login of the token with this digest, or None (unknown, expired, revoked, staff inactive)."""
        now = utcnow()
        recent = self._recent.get(digest)
        if recent is not None:
            until, known = recent
            if time.monotonic() < until and known.expires_at > now:
                return known
            del self._recent[digest]
        login = await self._stored(digest, now)
        if login is not None:
            self._recent[digest] = (time.monotonic() + RECENT_SECONDS, login)
            if len(self._recent) > RECENT_KEPT:
                self._recent.popitem(last=False)
        return login

    def drop(self, digest: str) -> None:
        """Forget this process's own copy (another process announced a logout)."""
        self._recent.pop(digest, None)

    async def _stored(self, digest: str, now: datetime) -> Login | None:
        cached = await self._store.get(digest)
        if cached is not None:
            known = _decode(cached)
            if known.expires_at > now:
                return known
            await self._store.delete(digest)
        async with own_session(self._session_maker, writes=False) as session:
            login = await _from_database(session, digest, now)
        if login is not None:
            seconds = min(self._cache_seconds, int((login.expires_at - now).total_seconds()))
            if seconds > 0:
                await self._store.set(digest, _encode(login), expires_in=seconds)
        return login

    async def forget(self, digest: str) -> None:
        self.drop(digest)
        await self._store.delete(digest)
        if self.on_forgotten is not None:
            self.on_forgotten(digest)


async def _from_database(session: AsyncSession, digest: str, now: datetime) -> Login | None:
    found = await TokenRepository(session).live(digest, now)
    if found is None:
        return None
    token, staff = found
    tenant = await TenantRepository(session).by_id(staff.tenant_id)
    if tenant is None:  # pragma: no cover - a staff row always has its tenant (FK)
        return None
    return Login(
        staff_id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        unit_code=staff.unit_code,
        roles=sorted(r.role for r in staff.roles if r.unit_code == staff.unit_code),
        tenant_id=tenant.id,
        tenant_code=tenant.code,
        tenant_name=tenant.name,
        timezone=tenant.timezone,
        token_id=token.id,
        expires_at=token.expires_at,
    )
