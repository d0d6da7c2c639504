"""Catalogue verbs: publish the default catalogue, revise an item (a new edition), look items up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import resources
from typing import Any

import msgspec
import structlog
from litestar.di import NamedDependency
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.catalog.models import CatalogEdition, CatalogItem
from fuquan.platform.catalog.repositories import CatalogRepository
from fuquan.platform.catalog.schemas import (
    PERSONAL_TYPES,
    POWER_SOURCE_NAMES,
    SUBJECT_NATURE_NAMES,
    CatalogFile,
    EditionDiff,
    EditionRead,
    Fee,
    FieldChange,
    FormField,
    ItemChange,
    ItemRead,
    ItemRevision,
    ItemSpec,
    Material,
)
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import Conflict, NotFound, ValidationFailed
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.tenants.divisions import LEVEL_NAMES
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

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
        subject_nature=item.subject_nature, power_source=item.power_source,  # type: ignore[arg-type]
        conditions=list(item.conditions or []), fees=msgspec.convert(item.fees or [], list[Fee]),
        flow=list(item.flow or []), result_name=item.result_name,
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
    session: AsyncSession, scope: TenantScope, specs: list[ItemSpec], *, actor: str | None, note: str,
    effective_from: date | None = None,
) -> CatalogEdition:  # fmt: skip
    """Publish a whole new edition (in force from ``effective_from``, or at once)."""
    repository = CatalogRepository(session)
    codes = [spec.code for spec in specs]
    if len(set(codes)) != len(codes):
        raise ValidationFailed("目录中有重复的事项编码", rule="unique_item_code")
    number = await repository.next_edition_number(scope)
    edition = CatalogEdition(tenant_id=scope.tenant_id, number=number, created_at=utcnow(), created_by=actor, note=note,
                             effective_from=effective_from)  # fmt: skip
    return await repository.add_edition(edition, [_row(scope, spec) for spec in specs])


def in_force_from(edition: CatalogEdition, tz: str) -> date:
    return edition.effective_from or local_date(edition.created_at, tz)


@dataclass(frozen=True, slots=True)
class Editions:
    """A tenant's editions in order: the one in force on a day, the next one scheduled after it."""

    all: list[CatalogEdition]
    tz: str

    def in_force(self, today: date) -> CatalogEdition | None:
        return next((e for e in reversed(self.all) if in_force_from(e, self.tz) <= today), None)

    def next_after(self, edition: CatalogEdition) -> date | None:
        return next((in_force_from(e, self.tz) for e in self.all if e.number > edition.number), None)

    def state(self, edition: CatalogEdition, today: date) -> str:
        current = self.in_force(today)
        if current is not None and edition.number == current.number:
            return "in_force"
        return "scheduled" if in_force_from(edition, self.tz) > today else "superseded"


async def editions(session: AsyncSession, scope: TenantScope) -> Editions:
    return Editions(await CatalogRepository(session).editions(scope), scope.timezone)


async def current(session: AsyncSession, scope: TenantScope, today: date | None = None) -> Catalog:
    """The edition in force today (a scheduled one takes over on its day)."""
    known = await editions(session, scope)
    return await _in_force(session, known, today or local_date(utcnow(), scope.timezone))


async def _in_force(session: AsyncSession, known: Editions, today: date) -> Catalog:
    edition = known.in_force(today)
    if edition is None:
        raise NotFound("该租户尚未发布事项目录")
    return Catalog(edition, {item.code: item for item in await CatalogRepository(session).items(edition.id)})


async def edition_item(session: AsyncSession, scope: TenantScope, number: int, code: str) -> CatalogItem:
    """An item as edition ``number`` states it: what a case opened under that edition keeps to."""
    repository = CatalogRepository(session)
    found = await repository.edition(scope, number)
    item = None if found is None else await repository.item(found.id, code)
    if item is None:
        raise NotFound(f"事项目录第 {number} 版中没有事项 {code}")
    return item


async def edition_reads(session: AsyncSession, scope: TenantScope) -> list[EditionRead]:
    known = await editions(session, scope)
    counts = await CatalogRepository(session).item_counts(scope)
    today = local_date(utcnow(), scope.timezone)
    return [
        EditionRead(number=e.number, effective_from=in_force_from(e, scope.timezone), state=known.state(e, today),  # type: ignore[arg-type]
                    created_at=e.created_at, created_by=e.created_by, note=e.note, items=counts.get(e.id, 0))
        for e in reversed(known.all)
    ]  # fmt: skip


async def edition(session: AsyncSession, scope: TenantScope, number: int) -> Catalog:
    """An earlier (or the current) edition, as it was published."""
    repository = CatalogRepository(session)
    found = await repository.edition(scope, number)
    if found is None:
        raise NotFound(f"事项目录第 {number} 版不存在")
    return Catalog(found, {item.code: item for item in await repository.items(found.id)})


async def revise(session: AsyncSession, scope: TenantScope, spec: ItemSpec, *, actor: str | None, note: str) -> Catalog:
    """Edit (or add) one item at once: the result is a new edition holding every item (seeding, commands)."""
    catalog = await current(session, scope)
    specs = [item_spec(item) for code, item in catalog.items.items() if code != spec.code]
    await publish(session, scope, [*specs, spec], actor=actor, note=note)
    return await current(session, scope)


async def revise_item(
    session: AsyncSession, scope: TenantScope, revision: ItemRevision, *, actor: str, actor_id: int | None,
    request_id: str | None,
) -> EditionRead:  # fmt: skip
    """维护事项: a new edition from the newest one (scheduled ones included: editions take effect in order) with
    ``revision.item`` edited or added, in force from ``revision.effective_from``; audited. Cases already opened keep
    the edition they were opened under."""
    known = await editions(session, scope)
    newest = known.all[-1] if known.all else None
    if newest is None or revision.base_edition != newest.number:
        raise Conflict(f"事项目录已有更新的版本（第 {newest.number if newest else 0} 版），请刷新后在其基础上修改",
                       rule="stale_edition", newest_edition=newest.number if newest else 0)  # fmt: skip
    today = local_date(utcnow(), scope.timezone)
    floor = max(today, in_force_from(newest, scope.timezone))
    if revision.effective_from < floor:
        raise ValidationFailed(f"生效日期不能早于 {floor.isoformat()}（今天，且不早于已排定的最新版本）",
                               rule="effective_from")  # fmt: skip
    spec = revision.item
    items = {item.code: item_spec(item) for item in await CatalogRepository(session).items(newest.id)}
    before = items.get(spec.code)
    if before == spec:
        raise ValidationFailed("提交的内容与当前版本相同，没有需要发布的修改", rule="no_change")
    items[spec.code] = spec
    edition = await publish(session, scope, list(items.values()), actor=actor, note=revision.note.strip(),
                            effective_from=revision.effective_from)  # fmt: skip
    await append(session, AuditEntry(
        action="catalog.revise", tenant_id=scope.tenant_id, actor=actor, actor_id=actor_id,
        resource=f"item:{spec.code}", request_id=request_id,
        detail={"edition": edition.number, "effective_from": revision.effective_from.isoformat(),
                "added": before is None, "note": revision.note.strip()},
    ))  # fmt: skip
    log.info("catalog_revised", item=spec.code, edition=edition.number)
    return EditionRead(number=edition.number, effective_from=revision.effective_from,
                       state="in_force" if revision.effective_from <= today else "scheduled",
                       created_at=edition.created_at, created_by=edition.created_by, note=edition.note,
                       items=len(items))  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Cached:
    catalog: Catalog
    newest: int  # the newest edition published when it was loaded (scheduled ones included)
    until: date | None  # the day the next scheduled edition takes over


class CatalogCache:
    """Each tenant's catalogue edition in force, loaded once per process and kept until a newer edition is
    published (seen by the periodic catch-up: one small query a second) or a scheduled one's day comes. Editions
    are never changed once published, so a cached one is exact until then. It is read through its own session
    and detached from it, so no request's rollback can expire what every request shares; nothing may change it."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self._session_maker = session_maker
        self._catalogs: dict[int, _Cached] = {}
        self._newest: dict[int, int] = {}

    async def current(self, scope: TenantScope) -> Catalog:
        today = local_date(utcnow(), scope.timezone)
        cached = self._catalogs.get(scope.tenant_id)
        if (
            cached is not None
            and cached.newest >= self._newest.get(scope.tenant_id, 0)
            and (cached.until is None or today < cached.until)
        ):
            return cached.catalog
        async with own_session(self._session_maker, writes=False) as session:
            known = await editions(session, scope)
            catalog = await _in_force(session, known, today)
            session.expunge_all()
        newest = known.all[-1].number
        self._catalogs[scope.tenant_id] = _Cached(catalog, newest, known.next_after(catalog.edition))
        self.told(scope.tenant_id, newest)
        return catalog

    def known_edition(self, tenant_id: int) -> int:
        """The newest edition this process knows was published (what a cached page depends on)."""
        return self._newest.get(tenant_id, 0)

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


# -- 版本比对 (the diff between two editions, in words) -----------------------------------------------------------

ITEM_TYPE_NAMES = {"05": "行政给付", "07": "行政确认", "10": "其他行政权力", "20": "公共服务"}
HANDLING_NAMES = {"immediate": "即办件", "promised": "承诺件"}
SOURCE_NAMES = {"public_security": "公安", "civil_affairs": "民政", "market_regulation": "市场监管",
                "disabled_persons": "残联", "veterans": "退役军人事务", "hrss": "人社自有数据"}  # fmt: skip
ELEMENT_NAMES = {
    "name": "事项名称", "name_en": "英文名称", "category": "业务类别", "item_type": "事项类型", "handling": "办件类型",
    "statutory_days": "法定办结时限", "promised_days": "承诺办结时限", "accept_floor": "可下放受理的最低层级",
    "decide_floor": "可下放审批的最低层级", "separation": "受审分离", "legal_basis": "设定依据",
    "id_only": "只需身份证", "materials": "申请材料", "produces": "办结后记入人社业务记录", "fields": "申请表字段",
    "subject_nature": "实施主体性质", "power_source": "权力来源", "conditions": "受理条件", "fees": "收费标准",
    "flow": "办理流程", "result_name": "办理结果名称",
}  # fmt: skip


def material_text(material: Material) -> str:
    parts = [material.name, "必需" if material.required else "非必需"]
    if material.shared is not None:
        parts.append(f"可由{SOURCE_NAMES.get(material.shared.source, material.shared.source)}共享数据核验")
    if material.pledge:
        parts.append("可告知承诺")
    if material.deferrable:
        parts.append("可容缺后补")
    return "，".join(parts)


def element_text(element: str, value: object) -> str:
    """One element's value as a clerk reads it."""
    if value is None or value in ("", []):
        return {"fees": "不收费"}.get(element, "（无）")
    if isinstance(value, bool):
        return "是" if value else "否"
    names: dict[str, dict[Any, str]] = {
        "item_type": ITEM_TYPE_NAMES, "handling": HANDLING_NAMES, "subject_nature": SUBJECT_NATURE_NAMES,
        "power_source": POWER_SOURCE_NAMES, "accept_floor": LEVEL_NAMES, "decide_floor": LEVEL_NAMES,
    }  # fmt: skip
    named = names.get(element)
    if named is not None:
        return str(named.get(value, value))
    if element in ("statutory_days", "promised_days"):
        return f"{value}个工作日"
    if element == "materials":
        return "；".join(material_text(m) for m in value)  # type: ignore[attr-defined]
    if element == "fields":
        return "；".join(f"{f.label}（{f.name}，{f.type}{'，必填' if f.required else ''}）" for f in value)  # type: ignore[attr-defined]
    if element == "fees":
        return "；".join(f"{fee.name} {fee.amount}" + (f"（{fee.basis}）" if fee.basis else "") for fee in value)  # type: ignore[attr-defined]
    if element == "flow":
        return " → ".join(value)  # type: ignore[arg-type]
    if element == "conditions":
        return "；".join(value)  # type: ignore[arg-type]
    return str(value)


def diff_items(before: ItemSpec | None, after: ItemSpec | None) -> ItemChange | None:
    """What changed in one item between two editions (None: nothing)."""
    if before == after:
        return None
    shown = after or before
    assert shown is not None
    if before is None or after is None:
        return ItemChange(code=shown.code, name=shown.name, change="added" if before is None else "removed")
    changes = [
        FieldChange(ELEMENT_NAMES.get(element, element), element_text(element, getattr(before, element)),
                    element_text(element, getattr(after, element)))
        for element in ELEMENT_NAMES
        if getattr(before, element) != getattr(after, element)
    ]  # fmt: skip
    return ItemChange(code=after.code, name=after.name, change="changed", fields=changes)


async def diff(session: AsyncSession, scope: TenantScope, before: int, after: int) -> EditionDiff:
    """版本比对: every item added, removed or changed from edition ``before`` to ``after``, element by element."""
    old, new = await edition(session, scope, before), await edition(session, scope, after)
    olds = {code: item_spec(item) for code, item in old.items.items()}
    news = {code: item_spec(item) for code, item in new.items.items()}
    changes = [diff_items(olds.get(code), news.get(code)) for code in sorted(olds.keys() | news.keys())]
    return EditionDiff(before=before, after=after, items=[change for change in changes if change is not None])
