"""Authority verbs: delegate (赋权), revoke (撤销), check and explain, matrix.

Rules of DESIGN §6.1, each with the name a 4xx answer carries when it is broken:
``target_below_grantor``, ``floor``, ``grantor_holds``, ``redelegable``,
``target_in_parent_scope``, ``within_parent_window``, ``window_order``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.engine.lines import (
    STATUTORY_GRANT_ID,
    GrantSpec,
    chain_window,
    compile_grant,
    instant,
    role_line,
    statutory_lines,
)
from fuquan.authority.models import Grant
from fuquan.authority.registry import AuthorityRegistry, LoadedTenant
from fuquan.authority.repositories import GrantRepository, PolicyLine, PolicyRepository
from fuquan.authority.schemas import GrantCreate, GrantRead
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import Conflict, FuquanError, NotFound, PermissionDenied, RuleViolation
from fuquan.platform.core.timeutil import local_date, local_midnight, utcnow
from fuquan.tenants.divisions import LEVEL_NAMES, ancestor_codes
from fuquan.tenants.models import Unit
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

ACTION_NAMES = {"accept": "受理", "decide": "办理（审批）"}
STATUTORY = STATUTORY_GRANT_ID  # the tenant root's own lines (法定本级行使)


def spec_of(grant: Grant) -> GrantSpec:
    return GrantSpec(
        id=grant.id,
        item=grant.item_code,
        action=grant.action,
        unit=grant.unit_code,
        subtree=grant.subtree,
        valid_from=grant.valid_from,
        valid_until=grant.valid_until,
        revoked_at=grant.revoked_at,
        parent_id=grant.parent_id,
    )


def status_of(grant: Grant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "revoked"
    if grant.valid_from > now:
        return "scheduled"
    if grant.valid_until is not None and grant.valid_until <= now:
        return "expired"
    return "active"


def grant_read(grant: Grant, tz: str, now: datetime) -> GrantRead:
    return GrantRead(
        id=grant.id,
        parent_id=grant.parent_id,
        item=grant.item_code,
        action=grant.action,
        unit=grant.unit_code,
        scope=grant.scope,
        valid_from=local_date(grant.valid_from, tz),
        valid_until=None if grant.valid_until is None else local_date(grant.valid_until, tz),
        basis=grant.basis,
        instrument=grant.instrument,
        redelegable=grant.redelegable,
        grantor_unit=grant.grantor_unit_code,
        granted_by=grant.granted_by_name,
        catalog_edition=grant.catalog_edition,
        created_at=grant.created_at,
        status=status_of(grant, now),  # type: ignore[arg-type]
        revoked_at=grant.revoked_at,
        revoked_by=grant.revoked_by_name,
        revoke_reason=grant.revoke_reason,
        revoked_via=grant.revoked_via,
    )


def _fmt(day: datetime | None, tz: str) -> str:
    return "长期" if day is None else local_date(day, tz).isoformat()


async def _chain_specs(
    grants: GrantRepository, tenant_id: int, grant: Grant, known: dict[int, Grant]
) -> dict[int, GrantSpec]:
    """The grant and its ancestors as specs (loading ancestors not yet in ``known``)."""
    specs = {grant.id: spec_of(grant)}
    parent_id = grant.parent_id
    while parent_id is not None and parent_id not in specs:
        if parent_id not in known:
            known.update(await grants.by_ids(tenant_id, [parent_id]))
        parent = known[parent_id]
        specs[parent.id] = spec_of(parent)
        parent_id = parent.parent_id
    return specs


async def _compile(
    grants: GrantRepository, loaded: LoadedTenant, grant: Grant, known: dict[int, Grant] | None = None
) -> list[PolicyLine]:
    """The policy lines of ``grant`` on its chain's effective window."""
    specs = await _chain_specs(grants, grant.tenant_id, grant, {} if known is None else known)
    return compile_grant(specs[grant.id], chain_window(specs[grant.id], specs), loaded.bucket_codes_under)


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
            f"{_fmt(widest.valid_from, tz)} 至 {_fmt(widest.valid_until, tz)}）",
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
    codes = sorted({request.unit for request in requests})
    targets = await UnitRepository(session).get_many(scope, codes)
    held = [] if grantor == scope.tenant_code else await grants.held_by(scope.tenant_id, grantor)
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
    loaded = await registry.get(session, scope.tenant_id)
    known = {g.id: g for g in held}
    lines_by_grant = {grant.id: await _compile(grants, loaded, grant, known) for grant in created}
    await PolicyRepository(session).add_for_grants(scope.tenant_id, lines_by_grant)
    await registry.record(session, scope.tenant_id, added=[line for ls in lines_by_grant.values() for line in ls])
    for grant in created:
        detail = {
            "item": grant.item_code, "action": grant.action, "unit": grant.unit_code, "scope": grant.scope,
            "parent_id": grant.parent_id, "instrument": grant.instrument, "lines": len(lines_by_grant[grant.id]),
        }  # fmt: skip
        entry = actor.audit_entry("grant.create", resource=f"grant:{grant.id}", request_id=request_id, detail=detail)
        await append(session, entry)
    log.info("grants_created", count=len(created), first_id=created[0].id if created else None)
    return created


async def _revocation_cascade(grants: GrantRepository, scope: TenantScope, grant_id: int) -> tuple[Grant, list[Grant]]:
    """What revoking ``grant_id`` ends: the grant, then every unrevoked grant derived from it.

    Shared by ``revoke`` and ``revocation_preview``, so the preview shows exactly what the revocation does.
    """
    grant = await grants.get(scope, grant_id)
    if grant is None:
        raise NotFound(f"赋权记录 #{grant_id} 不存在或不在您的管辖范围内")
    if not scope.covers(grant.grantor_unit_code):
        raise PermissionDenied("只有作出赋权的单位或其上级单位可以撤销该赋权", rule="revoker_is_grantor")
    if grant.revoked_at is not None:
        raise Conflict(f"赋权 #{grant.id} 已于 {grant.revoked_at.isoformat()} 撤销", rule="already_revoked")
    return grant, [grant, *await grants.unrevoked_descendants(grant)]


async def revoke(
    session: AsyncSession,
    actor: Actor,
    grant_id: int,
    reason: str,
    registry: AuthorityRegistry,
    request_id: str | None,
) -> tuple[list[Grant], datetime]:
    """撤销: revoke a grant and every grant derived from it, at one instant, in one transaction.

    Windows are truncated, never deleted, so decisions about the past stay reproducible.
    """
    actor.require("grants.manage")
    scope = actor.scope
    grants = GrantRepository(session)
    grant, cascade = await _revocation_cascade(grants, scope, grant_id)
    now = utcnow()
    ids = [g.id for g in cascade]
    policy = PolicyRepository(session)
    old_lines = [line for lines in (await policy.lines_of_grants(ids)).values() for line in lines]
    await grants.record_revocations(cascade, at=now, by=actor.username, reason=reason, via=grant.id)
    loaded = await registry.get(session, scope.tenant_id)
    await policy.remove_for_grants(ids)
    known = {g.id: g for g in cascade}
    lines_by_grant = {g.id: await _compile(grants, loaded, g, known) for g in cascade}
    await policy.add_for_grants(scope.tenant_id, lines_by_grant)
    new_lines = [line for lines in lines_by_grant.values() for line in lines]
    await registry.record(session, scope.tenant_id, added=new_lines, removed=old_lines)
    for revoked in cascade:
        detail = {"reason": reason, "via": grant.id, "cascade": revoked.id != grant.id}
        entry = actor.audit_entry("grant.revoke", resource=f"grant:{revoked.id}", request_id=request_id, detail=detail)
        await append(session, entry)
    log.info("grant_revoked", grant_id=grant.id, cascade=len(cascade) - 1)
    return cascade, now


@dataclass(frozen=True, slots=True)
class RevocationPreview:
    """撤销预览: what ``revoke`` would end now, and how many units would lose the right with it."""

    grant: Grant
    descendants: list[Grant]  # every derived grant that ends with it, nearest first
    units_losing: list[str]  # codes of the units that may act now and no longer could


async def revocation_preview(
    session: AsyncSession, scope: TenantScope, registry: AuthorityRegistry, grant_id: int
) -> RevocationPreview:
    """A dry run of ``revoke`` (same cascade, same refusals; writes nothing).

    A unit loses the right if it holds it now and no grant outside the cascade keeps it in force
    (e.g. a county's subtree grant still covers a village whose own grant is revoked).
    """
    grants = GrantRepository(session)
    grant, cascade = await _revocation_cascade(grants, scope, grant_id)
    now = utcnow()
    moment = instant(now)
    ending = {g.id for g in cascade}
    covered = await UnitRepository(session).subtree(scope, grant.unit_code) if grant.subtree else []
    codes = [u.code for u in covered] or [grant.unit_code]
    loaded = await registry.get(session, scope.tenant_id)
    allowed = loaded.authority.matrix(codes, moment, [grant.item_code])
    holding = [code for code in codes if (grant.item_code, grant.action) in allowed.get(code, set())]
    known = {g.id: g for g in cascade}
    keeping: list[Grant] = []
    for other in await grants.under(scope.tenant_id, grant.item_code, grant.action, grant.unit_code):
        if other.id in ending or other.revoked_at is not None:
            continue
        specs = await _chain_specs(grants, scope.tenant_id, other, known)
        lo, hi = chain_window(specs[other.id], specs)
        if lo <= moment < hi:
            keeping.append(other)
    losing = [code for code in holding if not any(g.covers(code) for g in keeping)]
    return RevocationPreview(grant, cascade[1:], losing)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    chain: list[int]
    reason: str
    rule: str | None


def _denial(covering: list[Grant], by_id: dict[int, Grant], at: datetime, tz: str, what: str) -> tuple[str, str]:
    """The first rule that denies, reading the covering grants nearest first."""
    if not covering:
        return f"没有任何赋权使该单位拥有{what}权限", "no_grant"
    for grant in sorted(covering, key=lambda g: (-len(g.unit_code), -g.id)):
        if at < grant.valid_from:
            return f"赋权 #{grant.id}（{grant.instrument}）自 {_fmt(grant.valid_from, tz)} 起才生效", "not_yet_valid"
        if grant.valid_until is not None and at >= grant.valid_until:
            return f"赋权 #{grant.id}（{grant.instrument}）已于 {_fmt(grant.valid_until, tz)} 到期", "expired"
        if grant.revoked_at is not None and at >= grant.revoked_at:
            when = grant.revoked_at.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")
            return f"赋权 #{grant.id}（{grant.instrument}）已于 {when} 撤销：{grant.revoke_reason}", "revoked"
        parent = by_id.get(grant.parent_id) if grant.parent_id else None
        if parent is not None:
            return f"赋权 #{grant.id} 所依据的上级赋权 #{parent.id} 在该时刻无效", "parent_not_effective"
    return f"没有有效的赋权使该单位拥有{what}权限", "no_grant"


async def check(
    session: AsyncSession,
    scope: TenantScope,
    catalog: Catalog,
    registry: AuthorityRegistry,
    *,
    unit: str,
    item: str,
    action: str,
    at: datetime | None,
    role: str = "",
) -> Decision:
    """May ``unit`` perform ``action`` on ``item`` at ``at`` (default now)? And why."""
    target = await UnitRepository(session).get(scope, unit)
    catalog_item = catalog.get(item)
    when = at or utcnow()
    loaded = await registry.get(session, scope.tenant_id)
    allowed, grant_id = loaded.authority.decide(target.code, item, action, role, instant(when), engine="casbin")
    what = f"“{catalog_item.name}”的{ACTION_NAMES.get(action, action)}"
    grants = GrantRepository(session)
    if allowed:
        if grant_id in (None, STATUTORY):
            return Decision(True, [], f"{target.name}作为省级人社部门法定本级行使{what}权限", None)
        chain_ids: list[int] = []
        by_id = await grants.by_ids(scope.tenant_id, [grant_id])  # type: ignore[list-item]
        current: Grant | None = by_id.get(grant_id)  # type: ignore[arg-type]
        while current is not None:
            chain_ids.append(current.id)
            if current.parent_id is None:
                break
            current = (await grants.by_ids(scope.tenant_id, [current.parent_id])).get(current.parent_id)
        chain_ids.reverse()
        top = by_id[grant_id]  # type: ignore[index]
        return Decision(
            True,
            chain_ids,
            f"{target.name}经赋权 #{top.id}（{top.instrument}，{top.grantor_unit_code} 授予）拥有{what}权限",
            None,
        )
    covering = await grants.covering(scope.tenant_id, item, action, target.code)
    parents = await grants.by_ids(scope.tenant_id, [g.parent_id for g in covering if g.parent_id])
    reason, rule = _denial(covering, parents, when, scope.timezone, what)
    return Decision(False, [], reason, rule)


MAX_MATRIX_UNITS = 60_000


async def matrix(
    session: AsyncSession,
    scope: TenantScope,
    catalog: Catalog,
    registry: AuthorityRegistry,
    *,
    unit: str,
    depth: int,
    at: datetime | None,
) -> tuple[list[Unit], dict[str, set[tuple[str, str]]]]:
    """Which item/actions the unit and its descendants down to ``depth`` levels may perform (hot path)."""
    root = await UnitRepository(session).get(scope, unit)
    units = await UnitRepository(session).subtree(scope, root.code, max_level=min(6, root.level + depth))
    if len(units) > MAX_MATRIX_UNITS:
        raise RuleViolation(f"范围内单位过多（{len(units)} 个），请缩小层级深度或选择下级单位", rule="matrix_too_large")
    loaded = await registry.get(session, scope.tenant_id)
    allowed = loaded.authority.matrix([u.code for u in units], instant(at or utcnow()), sorted(catalog.items))
    return units, allowed


async def deciding_grants(
    session: AsyncSession,
    registry: AuthorityRegistry,
    tenant_id: int,
    cells: Sequence[tuple[str, str, str]],
    at: datetime,
) -> dict[tuple[str, str, str], int | None]:
    """For allowed (unit, item, action) cells: the grant whose line allows each (hot path, the unit's own
    grant before a subtree grant above it); ``STATUTORY`` for the tenant root's own authority."""
    loaded = await registry.get(session, tenant_id)
    moment = instant(at)
    found: dict[tuple[str, str, str], int | None] = {}
    for unit, item, action in cells:
        allowed, grant_id = loaded.authority.decide(unit, item, action, "", moment, engine="hot")
        if allowed:
            found[(unit, item, action)] = grant_id
    return found


# Post authority (岗位权限) seeded for a new tenant: front-desk roles accept, approvers decide.
DEFAULT_ROLE_ACTIONS = {
    "grid_specialist": ("accept",),
    "village_agent": ("accept",),
    "window_clerk": ("accept",),
    "approver": ("decide",),
}


def default_role_lines(item_codes: list[str]) -> list[PolicyLine]:
    return [
        role_line(role, item, action)
        for role, actions in DEFAULT_ROLE_ACTIONS.items()
        for item in item_codes
        for action in actions
    ]


async def initialise_policy(session: AsyncSession, tenant_id: int, root_code: str, item_codes: list[str]) -> int:
    """Write a new tenant's starting policy: the root's statutory lines and the default role permissions."""
    policy = PolicyRepository(session)
    await policy.add(tenant_id, "p", statutory_lines(root_code, item_codes))
    await policy.add(tenant_id, "g", default_role_lines(item_codes))
    return await policy.bump_version(tenant_id)


async def unit_may(
    session: AsyncSession, registry: AuthorityRegistry, tenant_id: int, unit: str, item: str, action: str, at: datetime
) -> bool:
    """组织权限: does ``unit`` hold an effective grant for (item, action) at ``at``?"""
    loaded = await registry.get(session, tenant_id)
    return loaded.authority.decide(unit, item, action, "", instant(at), engine="hot")[0]


async def roles_permit(
    session: AsyncSession,
    registry: AuthorityRegistry,
    tenant_id: int,
    unit: str,
    item: str,
    action: str,
    roles: frozenset[str],
    at: datetime,
) -> bool:
    """岗位权限 on top of the unit's: does one of ``roles`` at ``unit`` permit (item, action)?"""
    loaded = await registry.get(session, tenant_id)
    moment = instant(at)
    return any(loaded.authority.decide(unit, item, action, role, moment, engine="hot")[0] for role in sorted(roles))


async def nearest_holder(
    session: AsyncSession, registry: AuthorityRegistry, tenant_id: int, unit: str, item: str, action: str, at: datetime
) -> str | None:
    """The nearest unit at or above ``unit`` holding (item, action) at ``at`` — where a case is routed."""
    loaded = await registry.get(session, tenant_id)
    moment = instant(at)
    for code in [unit, *reversed(ancestor_codes(unit))]:
        if loaded.authority.decide(code, item, action, "", moment, engine="hot")[0]:
            return code
    return None
