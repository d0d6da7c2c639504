"""/api/v1/public/guides, /api/v1/public/units/{unit}/powers and /api/v1/public/policies: the public pages' data for
other sites (a provincial 网上办事大厅 embedding them), no login, cached like the pages."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.public.schemas import GuideRead, PolicyRead, PowerListRead
from fuquan.platform.public.services import guides, lists, policies
from fuquan.platform.public.services.tenants import PublicDirectory

PUBLIC = {"public": True, "exclude_from_auth": True}
CACHE_SECONDS = 300  # an upper bound: the key changes with the policy version, the catalogue edition and the minute
MAX_QUERY = 64


class PublicInformationController(Controller):
    path = "/api/v1/public"
    tags = ["public 公众查询"]

    @get("/guides/{tenant:str}/{code:str}", summary="办事指南（可带地点：去哪里办）", opt=PUBLIC, cache=CACHE_SECONDS)
    async def guide(
        self, tenant: FromPath[str], code: FromPath[str], db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory],
        authority_registry: NamedDependency[AuthorityRegistry], catalogs: NamedDependency[CatalogCache],
        place: FromQuery[str] = "", unit: FromQuery[str] = "",
    ) -> GuideRead:  # fmt: skip
        scope = await public_directory.province(db_session, tenant)
        return await guides.guide(db_session, authority_registry, scope, await catalogs.current(scope), code,
                                  place_text=place[:MAX_QUERY], place_code=unit[:15], now=utcnow())  # fmt: skip

    @get("/units/{unit:str}/powers", summary="权力清单和责任清单", opt=PUBLIC, cache=CACHE_SECONDS)
    async def powers(
        self, unit: FromPath[str], db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory],
        authority_registry: NamedDependency[AuthorityRegistry], catalogs: NamedDependency[CatalogCache],
    ) -> PowerListRead:  # fmt: skip
        scope = await public_directory.tenant(db_session, unit)
        return await lists.power_list(db_session, authority_registry, scope, await catalogs.current(scope), unit,
                                      utcnow())  # fmt: skip

    @get("/policies/{tenant:str}", summary="政策法规库（按中文词语检索）", opt=PUBLIC, cache=CACHE_SECONDS)
    async def policies(
        self, tenant: FromPath[str], db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory],
        catalogs: NamedDependency[CatalogCache],
        q: FromQuery[str] = "",
    ) -> list[PolicyRead]:  # fmt: skip
        scope = await public_directory.province(db_session, tenant)
        entries = await public_directory.library(db_session, scope, await catalogs.current(scope))
        return policies.search(entries, q[:MAX_QUERY])
