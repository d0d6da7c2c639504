"""办事指南: an item as the edition in force states it — conditions, materials (those shared data supply marked
无需提交), time limits, fees, basis, flow — and, for a village or community, the units that can accept it today by
the live grants, nearest first, with their service points (便民服务中心/站 and agent outlets)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.integrations.shared_data import describe
from fuquan.platform.catalog.schemas import ItemSpec
from fuquan.platform.catalog.services import Catalog, element_text, item_spec
from fuquan.platform.organs.models import AGENT_KINDS, SERVICE_POINT_KINDS
from fuquan.platform.organs.repositories import ServicePointRepository
from fuquan.platform.public.schemas import GuideRead, MaterialGuide, PlaceMatch, PlaceRead, PointRead
from fuquan.tenants.divisions import ancestor_codes, level_of
from fuquan.tenants.models import Unit
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

RELATIONS = {6: "网格", 5: "本村（社区）", 4: "所属乡镇（街道）", 3: "所属县（区）", 2: "所属市", 1: "省级"}
MAX_CANDIDATES = 12
COUNTY = 3


def materials(spec: ItemSpec) -> list[MaterialGuide]:
    found = []
    for material in spec.materials:
        shared = material.shared is not None
        notes = []
        if material.shared is not None:
            notes.append(f"无需提交：由{describe(material.shared.source, material.shared.evidence)}共享数据核验")
        if material.pledge:
            notes.append("可以书面承诺代替（告知承诺）")
        if material.deferrable:
            notes.append("可以先受理、后补交（容缺受理）")
        found.append(MaterialGuide(
            name=material.name, required=material.required, shared=shared, note="；".join(notes),
            pledge=material.pledge, deferrable=material.deferrable,
        ))  # fmt: skip
    return found


async def _matches(session: AsyncSession, scope: TenantScope, units: list[Unit]) -> list[PlaceMatch]:
    """Each unit with the names above it (below the province), to tell namesakes apart."""
    paths = await UnitRepository(session).names(scope, sorted({a for u in units for a in ancestor_codes(u.code)}))
    return [
        PlaceMatch(code=unit.code, name=unit.name,
                   path=" ".join(paths[a] for a in ancestor_codes(unit.code)[1:] if a in paths))
        for unit in units
    ]  # fmt: skip


async def match_places(session: AsyncSession, scope: TenantScope, text: str) -> list[PlaceMatch]:
    """Villages, communities and townships whose name contains ``text`` (a resident types part of it)."""
    units = await UnitRepository(session).named_like(scope, text.strip(), levels=(4, 5), limit=MAX_CANDIDATES)
    return await _matches(session, scope, units)


async def where_to_go(
    session: AsyncSession, registry: AuthorityRegistry, scope: TenantScope, item: str, unit: str, now: datetime
) -> list[PlaceRead]:
    """The units on the way up from ``unit`` that may accept ``item`` now, nearest first, with their open points."""
    path = [unit, *reversed(ancestor_codes(unit))]
    holders = [code for code in path if await authority.unit_may(session, registry, scope, code, item, "accept", now)]
    local = [code for code in holders if level_of(code) >= COUNTY]
    holders = local or holders[:1]  # within the county; the city's or province's hall only when nothing nearer can
    if not holders:
        return []
    organs = await UnitRepository(session).organs(scope, holders)
    names = await UnitRepository(session).names(scope, holders)
    points = await ServicePointRepository(session).open_of_units(scope, holders)
    return [
        PlaceRead(
            unit_code=code, unit_name=names.get(code, code), organ_name=organs[code].name if code in organs else code,
            relation=RELATIONS.get(level_of(code), ""), on_behalf=code in organs and not organs[code].administrative,
            points=[
                PointRead(name=p.name, kind_name=SERVICE_POINT_KINDS.get(p.kind, p.kind), agent=p.kind in AGENT_KINDS,
                          address=p.address, hours=p.hours, phone=p.phone, latitude=p.latitude, longitude=p.longitude)
                for p in points if p.unit_code == code
            ],
        )
        for code in holders
    ]  # fmt: skip


async def guide(
    session: AsyncSession, registry: AuthorityRegistry, scope: TenantScope, catalog: Catalog, code: str,
    *, place_text: str = "", place_code: str = "", now: datetime,
) -> GuideRead:  # fmt: skip
    """The guide of ``code``; with a place (its code, or words of its name) also where to go."""
    spec = item_spec(catalog.get(code))
    place, places, candidates = None, [], []
    if place_code:
        unit = await UnitRepository(session).get(scope, place_code)  # an unknown place is a 404, never a cached page
        place = (await _matches(session, scope, [unit]))[0]
    elif place_text:
        candidates = await match_places(session, scope, place_text)
        place = candidates[0] if len(candidates) == 1 else None
    if place is not None:
        places = await where_to_go(session, registry, scope, spec.code, place.code, now)
    return GuideRead(
        tenant=scope.tenant_code, code=spec.code, name=spec.name, item_type=element_text("item_type", spec.item_type),
        handling=element_text("handling", spec.handling), statutory_days=spec.statutory_days,
        promised_days=spec.promised_days, subject_nature=element_text("subject_nature", spec.subject_nature),
        power_source=element_text("power_source", spec.power_source), legal_basis=spec.legal_basis,
        conditions=spec.conditions, materials=materials(spec), fees=spec.fees, flow=spec.flow,
        result_name=spec.result_name, id_only=spec.id_only, edition=catalog.edition.number, place=place,
        places=places, candidates=candidates if place is None else [],
    )  # fmt: skip
