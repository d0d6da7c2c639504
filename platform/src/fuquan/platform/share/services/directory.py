"""One per process: each tenant's applications, keys (secrets decrypted) and grants, read once and kept until
they change, and the keys' daily call counts (``quota``). Every change bumps the tenant's ``share`` setting
version in its own transaction (``changed``): the process that made it forgets its copy when it commits, every
other replica within its catch-up interval (about a second). A call is then admitted without reading its
application, key, tenant or grants again.

Expiry and validity windows are checked against the clock at each call, on the kept rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.core.versions.services import TenantSettingCache
from fuquan.platform.share.models import ShareApp, ShareGrant, ShareKey, share_secret_context
from fuquan.platform.share.repositories import ShareAppRepository, ShareGrantRepository, ShareKeyRepository
from fuquan.platform.share.services.apps import SHARE_SETTING, SigningKey, live
from fuquan.platform.share.services.grants import Access, decide_access, in_force
from fuquan.platform.share.services.quota import DailyQuota
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

_KEY_PREFIX: Final = "fq"


@dataclass(frozen=True, slots=True)
class ShareConfig:
    scope: TenantScope
    keys: dict[str, tuple[ShareKey, ShareApp, str]] = field(default_factory=dict)  # key id → key, app, secret
    grants: dict[int, list[ShareGrant]] = field(default_factory=dict)  # app id → its grants (revoked ones too)


def tenant_code_of(key_id: str) -> str | None:
    """``fq640000-1a2b…`` → ``640000``: a key id names its tenant (services.apps makes them so)."""
    head, _, tail = key_id.partition("-")
    code = head.removeprefix(_KEY_PREFIX)
    return code if head.startswith(_KEY_PREFIX) and tail and code.isascii() and code.isdigit() else None


class ShareDirectory:
    def __init__(self, keys: KeyRing, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._keys = keys
        self._session_maker = session_maker
        self._configs: TenantSettingCache[TenantScope, ShareConfig] = TenantSettingCache(
            SHARE_SETTING, self._load, session_maker
        )
        self._tenants: dict[str, TenantScope | None] = {}  # a tenant's code and id never change
        self.quota = DailyQuota()

    async def _load(self, session: AsyncSession, scope: TenantScope) -> ShareConfig:
        cipher = await self._keys.cipher(scope, session)  # a command's key ring reads through this session
        apps = {app.id: app for app in await ShareAppRepository(session).all(scope)}
        config = ShareConfig(scope)
        for key in await ShareKeyRepository(session).of_apps(list(apps)):
            context = share_secret_context(scope.tenant_code, key.key_id)
            config.keys[key.key_id] = (key, apps[key.app_id], cipher.decrypt(key.secret_cipher, context=context))
        for grant in await ShareGrantRepository(session).of_apps(list(apps)):
            config.grants.setdefault(grant.app_id, []).append(grant)
        session.expunge_all()  # shared by every request of the process: detached, never changed
        return config

    async def _scope(self, session: AsyncSession, tenant_code: str) -> TenantScope | None:
        if tenant_code not in self._tenants:
            tenant = await TenantRepository(session).by_code(tenant_code)
            self._tenants[tenant_code] = None if tenant is None else whole_tenant(tenant)
        return self._tenants[tenant_code]

    async def signing_key(self, session: AsyncSession, key_id: str) -> SigningKey | None:
        """The secret of a key that may sign a call now: known, not expired, its application not suspended. None
        otherwise — the caller answers every such case alike (no oracle of which keys exist)."""
        tenant_code = tenant_code_of(key_id.strip())
        scope = None if tenant_code is None else await self._scope(session, tenant_code)
        if scope is None:
            return None
        config = await self._configs.get(scope)
        found = config.keys.get(key_id.strip())
        if found is None:
            return None
        key, app, secret = found
        if app.suspended_at is not None or not live(key, utcnow()):
            return None
        return SigningKey(app, config.scope, secret)

    async def access(
        self, scope: TenantScope, app: ShareApp, dataset: str, purpose: str, asked: list[str] | tuple[str, ...] = ()
    ) -> Access:
        """As ``services.access``, from the kept grants."""
        config = await self._configs.get(scope)
        now: datetime = utcnow()
        return decide_access(in_force(config.grants.get(app.id, []), dataset, now), dataset, purpose, asked)
