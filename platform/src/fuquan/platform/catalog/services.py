"""Catalogue verbs: publish the default catalogue, revise an item (a new edition), look items up."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import msgspec
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.catalog.models import CatalogEdition, CatalogItem
from fuquan.platform.catalog.repositories import CatalogRepository
from fuquan.platform.catalog.schemas import PERSONAL_TYPES, CatalogFile, FormField, ItemRead, ItemSpec, Material
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import NotFound, ValidationFailed
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.scope import TenantScope

DEFAULT_CATALOG = "catalog_hrss_township_20.yaml"
ACTIONS = ("accept", "decide")


def default_catalog() -> list[ItemSpec]:
    """The 20 HRSS items devolved to townships, villages and grids (shipped with the package)."""
    text = (resources.files("fuquan.platform.catalog") / "data" / DEFAULT_CATALOG).read_bytes()
    return msgspec.yaml.decode(text, type=CatalogFile).items


def _check(spec: ItemSpec) -> None:
    for floor in (spec.accept_floor, spec.decide_floor):
        if not 1 <= floor <= 6:
            raise ValidationFailed(f"事项 {spec.code} 的层级下限必须在 1（省）到 6（网格）之间", rule="floor_range")
    names = [field.name for field in spec.fields]
    if len(set(names)) != len(names):
        raise ValidationFailed(f"事项 {spec.code} 的申请表中有重复的字段名", rule="form_fields")
    for field in spec.fields:
        if (field.type == "choice") != bool(field.options):
            raise ValidationFailed(
                f"事项 {spec.code} 的“{field.label}”：只有选择项才列出选项，且选择项至少要有一个选项",
                rule="form_fields",
            )
        if field.type in PERSONAL_TYPES and not field.personal:
            raise ValidationFailed(
                f"事项 {spec.code} 的“{field.label}”是个人信息（电话、证件号码、银行账号），须标为 personal",
                rule="form_fields",
            )


def _row(scope: TenantScope, spec: ItemSpec) -> CatalogItem:
    _check(spec)
    values = msgspec.to_builtins(spec)
    return CatalogItem(tenant_id=scope.tenant_id, **values)


def item_spec(item: CatalogItem) -> ItemSpec:
    return ItemSpec(
        code=item.code, name=item.name, name_en=item.name_en, category=item.category,  # type: ignore[arg-type]
        item_type=item.item_type, handling=item.handling,  # type: ignore[arg-type]
        statutory_days=item.statutory_days, promised_days=item.promised_days,
        accept_floor=item.accept_floor, decide_floor=item.decide_floor, separation=item.separation,
        legal_basis=item.legal_basis, id_only=item.id_only,
        materials=msgspec.convert(item.materials, list[Material]),
        produces=item.produces,  # type: ignore[arg-type]
        fields=msgspec.convert(item.fields or [], list[FormField]),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Catalog:
    """One edition of a tenant's catalogue, loaded."""

    edition: CatalogEdition
    items: dict[str, CatalogItem]

    def get(self, code: str) -> CatalogItem:
        item = self.items.get(code)
        if item is None:
            raise NotFound(f"事项 {code} 不在目录中")
        return item

    def read(self, item: CatalogItem) -> ItemRead:
        spec = msgspec.to_builtins(item_spec(item))
        return msgspec.convert({**spec, "edition": self.edition.number}, ItemRead)


async def publish(
    session: AsyncSession, scope: TenantScope, specs: list[ItemSpec], *, actor: str | None, note: str
) -> CatalogEdition:
    """Publish a whole new edition."""
    repository = CatalogRepository(session)
    codes = [spec.code for spec in specs]
    if len(set(codes)) != len(codes):
        raise ValidationFailed("目录中有重复的事项编码", rule="unique_item_code")
    number = await repository.next_edition_number(scope)
    edition = CatalogEdition(tenant_id=scope.tenant_id, number=number, created_at=utcnow(), created_by=actor, note=note)
    return await repository.add_edition(edition, [_row(scope, spec) for spec in specs])


async def current(session: AsyncSession, scope: TenantScope) -> Catalog:
    repository = CatalogRepository(session)
    edition = await repository.current_edition(scope)
    if edition is None:
        raise NotFound("该租户尚未发布事项目录")
    return Catalog(edition, {item.code: item for item in await repository.items(edition.id)})


async def edition(session: AsyncSession, scope: TenantScope, number: int) -> Catalog:
    """An earlier (or the current) edition, as it was published."""
    repository = CatalogRepository(session)
    found = await repository.edition(scope, number)
    if found is None:
        raise NotFound(f"事项目录第 {number} 版不存在")
    return Catalog(found, {item.code: item for item in await repository.items(found.id)})


async def revise(session: AsyncSession, scope: TenantScope, spec: ItemSpec, *, actor: str | None, note: str) -> Catalog:
    """Edit (or add) one item: the result is a new edition holding every item."""
    catalog = await current(session, scope)
    specs = [item_spec(item) for code, item in catalog.items.items() if code != spec.code]
    await publish(session, scope, [*specs, spec], actor=actor, note=note)
    return await current(session, scope)


class CatalogCache:
    """Each tenant's current catalogue edition, loaded once per process and kept until a newer edition is
    known: seen by the periodic catch-up (one small query a second). Editions are never changed once
    published, so a cached one is exact until it is superseded. It is read through its own session and
    detached from it, so no request's rollback can expire what every request shares; nothing may change it."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._session_maker = session_maker
        self._catalogs: dict[int, Catalog] = {}
        self._newest: dict[int, int] = {}

    async def current(self, scope: TenantScope) -> Catalog:
        cached = self._catalogs.get(scope.tenant_id)
        if cached is not None and cached.edition.number >= self._newest.get(scope.tenant_id, 0):
            return cached
        async with own_session(self._session_maker, writes=False) as session:
            catalog = await current(session, scope)
            session.expunge_all()
        self._catalogs[scope.tenant_id] = catalog
        self.told(scope.tenant_id, catalog.edition.number)
        return catalog

    def told(self, tenant_id: int, number: int) -> None:
        if number > self._newest.get(tenant_id, 0):
            self._newest[tenant_id] = number

    async def poll(self, session: AsyncSession) -> None:
        for tenant_id, number in (await CatalogRepository(session).newest_editions()).items():
            self.told(tenant_id, number)


async def provide_catalog(
    tenant_scope: NamedDependency[TenantScope], catalogs: NamedDependency[CatalogCache]
) -> Catalog:
    """The caller's tenant's current catalogue (a request dependency; the API's and the pages' alike)."""
    return await catalogs.current(tenant_scope)


def paper_needed(spec: ItemSpec) -> list[Material]:
    """Required materials no partner source can supply: what the applicant must still bring when
    every source answers (a pledge or deferral may stand in, but it is still not "ID card only")."""
    return [material for material in spec.materials if material.required and material.shared is None]


def needs_only_id_card(spec: ItemSpec) -> bool:
    """只需身份证: with every shared source answering, nothing but the ID card (or social security
    card) is needed — every required material has a shared source."""
    return not paper_needed(spec)
