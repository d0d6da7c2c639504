"""The public pages' view of the tenants, one per app: the tenant a page is about, by its code (a province's 2
digits; a unit code begins with it), read once and kept; what a cached answer about it depends on (the policy
version and catalogue edition this process knows, and the minute, so that a grant starting or ending at a time
shows); and the policy library, built once per such state."""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.catalog.services import Catalog, CatalogCache
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.public.schemas import PolicyRead
from fuquan.platform.public.services import policies
from fuquan.tenants.models import Tenant
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

NOT_FOUND: Final = "没有这个地区的公开信息"


class PublicDirectory:
    def __init__(self, registry: AuthorityRegistry, catalogs: CatalogCache) -> None:
        self._registry = registry
        self._catalogs = catalogs
        self._known: dict[str, TenantScope] = {}
        self._libraries: dict[int, tuple[str, list[PolicyRead]]] = {}

    async def provinces(self, session: AsyncSession) -> list[Tenant]:
        """Every tenant (province) the platform serves, by code."""
        return sorted(await TenantRepository(session).all(), key=lambda tenant: tenant.code)

    async def province(self, session: AsyncSession, code: str) -> TenantScope:
        """The whole tenant named by its own code (two digits), or NotFound: no other spelling reaches a page."""
        if len(code) != 2:
            raise NotFound(NOT_FOUND)
        return await self.tenant(session, code)

    async def tenant(self, session: AsyncSession, code: str) -> TenantScope:
        """The whole tenant of ``code`` (a unit code: its first two digits), or NotFound."""
        tenant_code = code[:2]
        known = self._known.get(tenant_code)
        if known is not None:
            return known
        tenant = await TenantRepository(session).by_code(tenant_code) if tenant_code.isdigit() else None
        if tenant is None:
            raise NotFound(NOT_FOUND)
        scope = self._known[tenant_code] = whole_tenant(tenant)
        return scope

    def freshness(self, code: str) -> str:
        """What a cached public answer about tenant ``code`` depends on besides its URL (``-`` until this process
        has resolved the tenant once)."""
        scope = self._known.get(code[:2])
        minute = utcnow().strftime("%Y%m%d%H%M")
        if scope is None:
            return f"-:{minute}"
        version = self._registry.known_version(scope.tenant_id)
        return f"{version}:{self._catalogs.known_edition(scope.tenant_id)}:{minute}"

    async def library(self, session: AsyncSession, scope: TenantScope, catalog: Catalog) -> list[PolicyRead]:
        """The policy library, built once per state and kept: a search is then a scan of it in memory."""
        stamp = self.freshness(scope.tenant_code)
        built = self._libraries.get(scope.tenant_id)
        if built is not None and built[0] == stamp:
            return built[1]
        entries = await policies.library(session, scope, catalog)
        self._libraries[scope.tenant_id] = (stamp, entries)
        return entries
