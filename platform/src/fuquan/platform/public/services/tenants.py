"""The tenant a public page is about, by its code (a province's 2 digits; a unit code begins with it): read once per
process and kept — and what the pages' response cache keys carry (the tenant's policy version and catalogue
edition as this process knows them, and the minute, so that a grant starting or ending at a time shows)."""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

_KNOWN: dict[str, TenantScope] = {}
NOT_FOUND: Final = "没有这个地区的公开信息"


async def public_tenant(session: AsyncSession, code: str) -> TenantScope:
    """The whole tenant of ``code`` (its first two digits), or NotFound."""
    tenant_code = code[:2]
    known = _KNOWN.get(tenant_code)
    if known is not None:
        return known
    tenant = await TenantRepository(session).by_code(tenant_code) if tenant_code.isdigit() else None
    if tenant is None:
        raise NotFound(NOT_FOUND)
    scope = _KNOWN[tenant_code] = whole_tenant(tenant)
    return scope


def freshness(code: str, registry: AuthorityRegistry, catalogs: CatalogCache) -> str:
    """What a cached public answer about tenant ``code`` depends on besides its URL: policy version, catalogue
    edition and the current minute (``-`` until this process has resolved the tenant once)."""
    scope = _KNOWN.get(code[:2])
    minute = utcnow().strftime("%Y%m%d%H%M")
    if scope is None:
        return f"-:{minute}"
    return f"{registry.known_version(scope.tenant_id)}:{catalogs.known_edition(scope.tenant_id)}:{minute}"
