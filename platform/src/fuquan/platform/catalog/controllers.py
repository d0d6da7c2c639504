"""GET /api/v1/items — the tenant's current catalogue edition."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from fuquan.platform.catalog.schemas import ItemRead
from fuquan.platform.catalog.services import Catalog


class ItemController(Controller):
    path = "/api/v1/items"
    tags = ["items 事项目录"]

    @get("/", summary="事项目录（当前版本）", opt={"permission": "catalog.read"})
    async def list_items(self, catalog: NamedDependency[Catalog]) -> list[ItemRead]:
        return [catalog.read(item) for item in catalog.items.values()]

    @get("/{code:str}", summary="一个事项", opt={"permission": "catalog.read"})
    async def get_item(self, code: FromPath[str], catalog: NamedDependency[Catalog]) -> ItemRead:
        return catalog.read(catalog.get(code))
