"""机关与服务点: name a unit's organ, open, amend and close its service points — each audited in the same
transaction — and read them."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import Conflict, ValidationFailed
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.organs.models import AGENT_KINDS, SERVICE_POINT_KINDS, ServicePoint
from fuquan.platform.organs.repositories import ServicePointRepository
from fuquan.platform.organs.schemas import OrganRead, OrganWrite, ServicePointRead, ServicePointWrite
from fuquan.tenants.divisions import LEVEL_NAMES
from fuquan.tenants.models import Unit
from fuquan.tenants.organs import KINDS_BY_LEVEL, ORGAN_KIND_NAMES, default_kind, default_name, organ_of
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()


def organ_read(unit: Unit) -> OrganRead:
    organ = organ_of(unit.code, unit.level, unit.name, unit.organ_name, unit.organ_kind)
    kind = default_kind(unit.level, unit.name)
    return OrganRead(
        unit_code=unit.code, unit_name=unit.name, level=unit.level, organ_name=organ.name,
        organ_kind=organ.kind,  # type: ignore[arg-type]
        kind_name=ORGAN_KIND_NAMES[organ.kind], administrative=organ.administrative,
        default_name=default_name(unit.level, unit.name, organ.kind), default_kind=kind,  # type: ignore[arg-type]
        customised=unit.organ_name is not None or unit.organ_kind is not None,
    )  # fmt: skip


async def organ(session: AsyncSession, scope: TenantScope, code: str) -> OrganRead:
    return organ_read(await UnitRepository(session).get(scope, code))


async def name_organ(
    session: AsyncSession, actor: Actor, code: str, change: OrganWrite, request_id: str | None
) -> OrganRead:
    """Set the name (and kind) a unit signs its notices with; ``None`` restores the default. Notices printed from
    now on carry the new name; a court reading an older one reads what it was printed with."""
    actor.require("units.manage")
    units = UnitRepository(session)
    unit = await units.get(actor.scope, code)
    before = organ_read(unit)
    if change.organ_kind is not None and change.organ_kind not in KINDS_BY_LEVEL[unit.level]:
        allowed = "、".join(ORGAN_KIND_NAMES[kind] for kind in KINDS_BY_LEVEL[unit.level])
        raise ValidationFailed(
            f"{unit.name}是{LEVEL_NAMES[unit.level]}级单位，只能是：{allowed}", rule="organ_kind_level"
        )
    await units.set_organ(unit, change.organ_name, change.organ_kind)
    after = organ_read(unit)
    await append(session, actor.audit_entry(
        "unit.organ_named", resource=f"unit:{code}", request_id=request_id,
        detail={"from": [before.organ_name, before.organ_kind], "to": [after.organ_name, after.organ_kind]},
    ))  # fmt: skip
    log.info("organ_named", unit=code, kind=after.organ_kind)
    return after


def point_read(point: ServicePoint, unit_name: str) -> ServicePointRead:
    return ServicePointRead(
        id=point.id, unit_code=point.unit_code, unit_name=unit_name, kind=point.kind,  # type: ignore[arg-type]
        kind_name=SERVICE_POINT_KINDS[point.kind], agent=point.kind in AGENT_KINDS, name=point.name,
        address=point.address, hours=point.hours, phone=point.phone, latitude=point.latitude,
        longitude=point.longitude, opened_at=point.opened_at, closed_at=point.closed_at,
    )  # fmt: skip


async def service_points(
    session: AsyncSession, scope: TenantScope, code: str, *, include_closed: bool = False
) -> list[ServicePointRead]:
    unit = await UnitRepository(session).get(scope, code)
    points = await ServicePointRepository(session).of_unit(scope, code, include_closed=include_closed)
    return [point_read(point, unit.name) for point in points]


def _fields(data: ServicePointWrite) -> dict[str, object]:
    return {"kind": data.kind, "name": data.name.strip(), "address": data.address.strip(), "hours": data.hours.strip(),
            "phone": data.phone, "latitude": data.latitude, "longitude": data.longitude}  # fmt: skip


async def open_service_point(
    session: AsyncSession,
    actor: Actor,
    code: str,
    data: ServicePointWrite,
    request_id: str | None,
    now: datetime | None = None,
) -> ServicePointRead:
    """开设服务点: a centre or station of the unit, or an agent outlet attached to it."""
    actor.require("units.manage")
    unit = await UnitRepository(session).get(actor.scope, code)
    point = ServicePoint(tenant_id=actor.tenant_id, unit_code=code, opened_at=now or utcnow(), closed_at=None,
                         created_by=actor.staff_id, **_fields(data))  # fmt: skip
    await ServicePointRepository(session).add(point)
    await _audit(session, actor, "service_point.opened", point, request_id, _fields(data))
    return point_read(point, unit.name)


async def amend_service_point(
    session: AsyncSession, actor: Actor, point_id: int, data: ServicePointWrite, request_id: str | None
) -> ServicePointRead:
    actor.require("units.manage")
    point = await ServicePointRepository(session).get(actor.scope, point_id, for_update=True)
    if point.closed_at is not None:
        raise Conflict("服务点已撤销，不能再修改", rule="service_point_closed")
    before = {name: getattr(point, name) for name in _fields(data)}
    for name, value in _fields(data).items():
        setattr(point, name, value)
    await session.flush()
    await _audit(session, actor, "service_point.amended", point, request_id, {"from": before, "to": _fields(data)})
    names = await UnitRepository(session).names(actor.scope, [point.unit_code])
    return point_read(point, names.get(point.unit_code, point.unit_code))


async def close_service_point(
    session: AsyncSession, actor: Actor, point_id: int, request_id: str | None
) -> ServicePointRead:
    """撤销服务点: kept, with the moment it closed (where earlier cases were received stays explained)."""
    actor.require("units.manage")
    point = await ServicePointRepository(session).get(actor.scope, point_id, for_update=True)
    if point.closed_at is not None:
        raise Conflict("服务点已撤销", rule="service_point_closed")
    point.closed_at = utcnow()
    await session.flush()
    await _audit(session, actor, "service_point.closed", point, request_id, {})
    names = await UnitRepository(session).names(actor.scope, [point.unit_code])
    return point_read(point, names.get(point.unit_code, point.unit_code))


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    point: ServicePoint,
    request_id: str | None,
    detail: dict[str, object],
) -> None:
    entry = actor.audit_entry(action, resource=f"service_point:{point.id}", request_id=request_id,
                              detail={"unit": point.unit_code, "name": point.name, **detail})  # fmt: skip
    await append(session, entry)
    log.info(action.replace(".", "_"), point_id=point.id, unit=point.unit_code)
