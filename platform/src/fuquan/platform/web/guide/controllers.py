"""Public pages (no login, cached): 办事指南 with where to go, a unit's 权力清单和责任清单 (with XLSX and PDF), and the
政策法规库. Their paths are kept out of sessions and CSRF (``sessions.CACHED_PAGES``), so a cached answer carries no
cookie: the response cache hands one visitor's page to the next."""

from __future__ import annotations

from typing import Final
from urllib.parse import quote

import anyio
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.public.controllers import CACHE_SECONDS, MAX_QUERY
from fuquan.platform.public.services import exports, guides, lists, policies
from fuquan.platform.public.services.tenants import PublicDirectory
from fuquan.platform.web.pages import OPEN, PageController, render

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class GuidePagesController(PageController):
    path = "/guide"

    @get("/", opt=OPEN)
    async def regions(
        self, db_session: NamedDependency[AsyncSession], public_directory: NamedDependency[PublicDirectory]
    ) -> Template:
        """Where the platform serves: each tenant (province) with its guides, policy library and provincial lists."""
        return render("guide/regions.html", None, tenants=await public_directory.provinces(db_session))

    @get("/{tenant:str}", opt=OPEN, cache=CACHE_SECONDS)
    async def index(
        self,
        tenant: FromPath[str],
        db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory],
        catalogs: NamedDependency[CatalogCache],
    ) -> Template:
        scope = await public_directory.province(db_session, tenant)
        catalog = await catalogs.current(scope)
        items = sorted(catalog.items.values(), key=lambda item: item.code)
        return render("guide/index.html", None, tenant=scope.tenant_code, items=items)

    @get("/{tenant:str}/{code:str}", opt=OPEN, cache=CACHE_SECONDS)
    async def guide(
        self, tenant: FromPath[str], code: FromPath[str], db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory],
        authority_registry: NamedDependency[AuthorityRegistry], catalogs: NamedDependency[CatalogCache],
        place: FromQuery[str] = "", unit: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        scope = await public_directory.province(db_session, tenant)
        catalog = await catalogs.current(scope)
        found = await guides.guide(
            db_session,
            authority_registry,
            scope,
            catalog,
            code,
            place_text=place.strip()[:MAX_QUERY],
            place_code=unit.strip()[:15],
            now=utcnow(),
        )
        return render("guide/item.html", None, guide=found, place=place.strip()[:MAX_QUERY])


class PowerListPagesController(PageController):
    path = "/lists"

    @get("/{unit:str}", opt=OPEN, cache=CACHE_SECONDS)
    async def power_list(
        self, unit: FromPath[str], db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory],
        authority_registry: NamedDependency[AuthorityRegistry], catalogs: NamedDependency[CatalogCache],
        format: FromQuery[str] = "",
    ) -> Template | Response[bytes]:  # fmt: skip
        """The lists; ``format=xlsx`` or ``pdf`` for the file."""
        if format not in ("", "html", "xlsx", "pdf"):
            raise ValidationFailed(f"没有“{format[:16]}”格式：可选 xlsx 或 pdf", rule="format")
        scope = await public_directory.tenant(db_session, unit)
        read = await lists.power_list(db_session, authority_registry, scope, await catalogs.current(scope), unit,
                                      utcnow())  # fmt: skip
        if format == "xlsx":
            return _file(exports.to_xlsx(read), XLSX, f"{read.unit_code}-权力清单和责任清单.xlsx")
        if format == "pdf":
            return _file(await anyio.to_thread.run_sync(exports.to_pdf, read), "application/pdf",
                         f"{read.unit_code}-权力清单和责任清单.pdf")  # fmt: skip
        return render("guide/lists.html", None, lists=read)


class PolicyPagesController(PageController):
    path = "/policies"

    @get("/{tenant:str}", opt=OPEN, cache=CACHE_SECONDS)
    async def library(
        self, tenant: FromPath[str], db_session: NamedDependency[AsyncSession],
        public_directory: NamedDependency[PublicDirectory], catalogs: NamedDependency[CatalogCache],
        q: FromQuery[str] = "",
    ) -> Template:  # fmt: skip
        scope = await public_directory.province(db_session, tenant)
        entries = await public_directory.library(db_session, scope, await catalogs.current(scope))
        query = q.strip()[:MAX_QUERY]
        return render("guide/policies.html", None, tenant=scope.tenant_code, entries=policies.search(entries, query),
                      total=len(entries), q=query)  # fmt: skip


def _file(content: bytes, media_type: str, filename: str) -> Response[bytes]:
    disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media_type, headers={"Content-Disposition": disposition})
