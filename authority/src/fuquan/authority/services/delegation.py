"""赋权: delegate one grant or many, by the rules of DESIGN §6.1 (each named in the 4xx it causes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.models import Grant
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import GrantRepository, PolicyRepository
from fuquan.authority.schemas import GrantCreate
from fuquan.authority.services.reads import ACTION_NAMES, compile_chain, format_day
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import FuquanError, RuleViolation
from fuquan.platform.core.timeutil import local_midnight, utcnow
from fuquan.tenants.divisions import LEVEL_NAMES
from fuquan.tenants.repositories import UnitRepository

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime | None

    def inside(self, outer_start: datetime, outer_end: datetime | None) -> bool:
        ends_inside = outer_end is None or (self.end is not None and self.end <= outer_end)
        return outer_start <= self.start and ends_inside


def _requested_window(request: GrantCreate, tz: str) -> Window:
    start = local_midnight(request.valid_from, tz)
    end = None if request.valid_until is None else local_midnight(request.valid_until, tz)
    if end is not None and end <= start:
        raise RuleViolation("截止日期必须晚于生效日期（有效期为左闭右开区间）", rule="window_order")
    return Window(start, end)


def _choose_parent(candidates: list[Grant], target: str, window: Window, tz: str, what: str) -> Grant | None:
    """The nearest re-delegable grant held by the grantor whose scope and window contain the request."""
    if not candidates:
        raise RuleViolation(f"本单位没有{what}权限，不能向下赋权", rule="grantor_holds")
    redelegable = [g for g in candidates if g.redelegable]
    if not redelegable:
        raise RuleViolation(f"本单位持有的{what}权限不可再下放（上级赋权未允许再赋权）", rule="redelegable")
    in_scope = [g for g in redelegable if g.subtree and target.startswith(g.unit_code) and target != g.unit_code]
    if not in_scope:
        raise RuleViolation(f"赋权对象不在本单位所持{what}权限的覆盖范围内", rule="target_in_parent_scope")
    fitting = [g for g in in_scope if window.inside(g.valid_from, g.valid_until)]
    if not fitting:
        widest = max(in_scope, key=lambda g: (g.valid_until is None, g.valid_until or g.valid_from))
        raise RuleViolation(
            f"赋权期限不得超出上级赋权的期限（上级赋权 #{widest.id} 有效期 "
            f"{format_day(widest.valid_from, tz)} 至 {format_day(widest.valid_until, tz)}）",
            rule="within_parent_window",
        )
    return max(fitting, key=lambda g: (len(g.unit_code), g.valid_from, g.id))


async def delegate(
    session: AsyncSession,
    actor: Actor,
    request: GrantCreate,
    catalog: Catalog,
    registry: AuthorityRegistry,
    request_id: str | None,
) -> Grant:
    """赋权: the actor's unit grants (item, action) to a unit below it, under a grant it holds."""
    return (await delegate_many(session, actor, [request], catalog, registry, request_id))[0]


def _numbered(error: FuquanError, index: int, total: int) -> FuquanError:
    if total > 1:
        error.detail = f"第 {index + 1} 条：{error.detail}"
        error.extra["index"] = index
    return error


async def delegate_many(
    session: AsyncSession,
    actor: Actor,
    requests: Sequence[GrantCreate],
    catalog: Catalog,
    registry: AuthorityRegistry,
    request_id: str | None,
) -> list[Grant]:
    """Several grants by one unit, all or nothing (e.g. 20 items to every township under one 文件号).

    Every request is checked against every rule before anything is written.
    """
    actor.require("grants.manage")
    scope, tz, now = actor.scope, actor.scope.timezone, utcnow()
    grantor = actor.unit_code
    grants = GrantRepository(session)
    await registry.lock(session, scope)  # the parent grants read below are as committed, not stale
    codes = sorted({request.unit for request in requests})
    targets = await UnitRepository(session).get_many(scope, codes)
    held = [] if grantor == scope.tenant_code else await grants.held_by(scope, grantor)
    planned: list[tuple[GrantCreate, Window, Grant | None]] = []
    for index, request in enumerate(requests):
        try:
            item = catalog.get(request.item)
            target = targets[request.unit]
            what = f"“{item.name}”的{ACTION_NAMES[request.action]}"
            if target.code == grantor or not target.code.startswith(grantor):
                raise RuleViolation("只能向本单位的下级单位赋权", rule="target_below_grantor")
            floor = item.floor(request.action)
            if target.level > floor:
                raise RuleViolation(
                    f"{what}权限最低只能下放到{LEVEL_NAMES[floor]}级，{target.name}是{LEVEL_NAMES[target.level]}级",
                    rule="floor",
                )
            window = _requested_window(request, tz)
            parent = None
            if grantor != scope.tenant_code:
                # Re-delegation draws on grants made *to* the grantor unit: a subtree grant to a
                # county lets its streets act, but only the county may pass it on.
                candidates = [g for g in held if g.item_code == item.code and g.action == request.action]
                parent = _choose_parent(candidates, target.code, window, tz, what)
        except FuquanError as error:
            raise _numbered(error, index, len(requests)) from None
        planned.append((request, window, parent))
    created = await grants.add_all(
        [
            Grant(
                tenant_id=scope.tenant_id, item_code=request.item, action=request.action, unit_code=request.unit,
                scope=request.scope, valid_from=window.start, valid_until=window.end, basis=request.basis,
                instrument=request.instrument, redelegable=request.redelegable,
                parent_id=None if parent is None else parent.id, grantor_unit_code=grantor,
                granted_by=actor.staff_id, granted_by_name=actor.username,
                catalog_edition=catalog.edition.number, created_at=now,
            )
            for request, window, parent in planned
        ]
    )  # fmt: skip
    loaded = await registry.get(session, scope)
    known = {g.id: g for g in held}
    lines_by_grant = {
        grant.id: await compile_chain(grants, loaded, grant, catalog.get(grant.item_code).floor(grant.action), known)
        for grant in created
    }
    await PolicyRepository(session).add_for_grants(scope, lines_by_grant)
    await registry.record(session, scope, added=[line for ls in lines_by_grant.values() for line in ls])
    for grant in created:
        detail = {
            "item": grant.item_code, "action": grant.action, "unit": grant.unit_code, "scope": grant.scope,
            "parent_id": grant.parent_id, "instrument": grant.instrument, "lines": len(lines_by_grant[grant.id]),
        }  # fmt: skip
        entry = actor.audit_entry("grant.create", resource=f"grant:{grant.id}", request_id=request_id, detail=detail)
        await append(session, entry)
    log.info("grants_created", count=len(created), first_id=created[0].id if created else None)
    return created
