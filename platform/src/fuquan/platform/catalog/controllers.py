"""/api/v1/items — the tenant's catalogue edition in force, and its maintenance (事项维护): an edit makes a new
edition in force from a day; /api/v1/catalog/editions lists the editions and compares two."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog import services
from fuquan.platform.catalog.schemas import EditionDiff, EditionRead, ItemRead, ItemRevision
from fuquan.platform.catalog.services import Catalog, CatalogCache
from fuquan.platform.core.db import on_commit
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.request_context import request_id_of
from fuquan.tenants.scope import TenantScope

MAX_EDITION = 1_000_000

Against = Annotated[int | None, QueryParameter(description="与哪一版比较（默认：上一版）", ge=1, le=MAX_EDITION)]
Edition = Annotated[int, PathParameter(ge=1, le=MAX_EDITION, description="目录版本号")]


class ItemController(Controller):
    path = "/api/v1/items"
    tags = ["items 事项目录"]

    @get("/", summary="事项目录（当前施行的版本）", opt={"permission": "catalog.read"})
    async def list_items(self, catalog: NamedDependency[Catalog]) -> list[ItemRead]:
        return [catalog.read(item) for item in catalog.items.values()]

    @get("/{code:str}", summary="一个事项", opt={"permission": "catalog.read"})
    async def get_item(self, code: FromPath[str], catalog: NamedDependency[Catalog]) -> ItemRead:
        return catalog.read(catalog.get(code))

    @put("/{code:str}", summary="修改或新增事项（发布新版本，自生效日期起施行）", status_code=201,
         opt={"permission": "catalog.manage"})  # fmt: skip
    async def revise_item(
        self, request: Request[Any, Any, Any], code: FromPath[str], data: JSONBody[ItemRevision],
        db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        catalogs: NamedDependency[CatalogCache],
    ) -> EditionRead:  # fmt: skip
        if data.item.code != code:
            raise ValidationFailed(f"请求体中的事项编码 {data.item.code} 与地址中的 {code} 不一致", rule="item_code")
        edition = await services.revise_item(db_session, actor.scope.whole(), data, actor=actor.username,
                                             actor_id=actor.staff_id, request_id=request_id_of(request))  # fmt: skip
        # this process's cache learns of it when the transaction commits; the others at their next catch-up
        on_commit(db_session, lambda: catalogs.told(actor.tenant_id, edition.number))
        return edition


class EditionController(Controller):
    path = "/api/v1/catalog/editions"
    tags = ["items 事项目录"]

    @get("/", summary="事项目录的各个版本（施行中、已排定、已被取代）", opt={"permission": "catalog.read"})
    async def list_editions(
        self, db_session: NamedDependency[AsyncSession], tenant_scope: NamedDependency[TenantScope]
    ) -> list[EditionRead]:
        return await services.edition_reads(db_session, tenant_scope.whole())

    @get("/{number:int}/diff", summary="版本比对：与另一版相比增、删、改了什么", opt={"permission": "catalog.read"})
    async def diff(
        self, number: Edition, db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope], against: Against = None,
    ) -> EditionDiff:  # fmt: skip
        return await services.diff(db_session, tenant_scope.whole(), against or max(number - 1, 1), number)

    @get("/{number:int}/items/{code:str}", summary="某一版中的事项（办件按其受理时的版本办理）",
         opt={"permission": "catalog.read"})  # fmt: skip
    async def edition_item(
        self, number: Edition, code: FromPath[str], db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
    ) -> ItemRead:  # fmt: skip
        catalog = await services.edition(db_session, tenant_scope.whole(), number)
        return catalog.read(catalog.get(code))
