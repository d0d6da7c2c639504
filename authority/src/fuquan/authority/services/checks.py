"""Check and explain (能不能办、为什么), the authority matrix, and the questions the case workflow asks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.engine.lines import instant
from fuquan.authority.models import Grant
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import GrantRepository
from fuquan.authority.services.reads import ACTION_NAMES, STATUTORY, format_day
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.errors import RuleViolation
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.divisions import LEVEL_NAMES, ancestor_codes
from fuquan.tenants.models import Unit
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

# 决策: the questions the engines answer, per tenant — an operator's "decisions per second" (rate() of this)
DECISIONS = Counter("fuquan_authority_decisions", "Authority questions answered", ["tenant", "question", "outcome"])


def _counted(scope: TenantScope, question: str, allowed: bool) -> bool:
    DECISIONS.labels(scope.tenant_code, question, "allowed" if allowed else "denied").inc()
    return allowed


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    chain: list[int]
    reason: str
    rule: str | None


@dataclass(frozen=True, slots=True)
class GrantFacts:
    """What an explanation says of a grant (kept between requests, so never a database row)."""

    id: int
    unit_code: str
    instrument: str
    grantor_unit_code: str
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    revoke_reason: str | None
    parent_id: int | None
    basis: str = "devolved"

    @classmethod
    def of(cls, grant: Grant) -> GrantFacts:
        return cls(
            grant.id, grant.unit_code, grant.instrument, grant.grantor_unit_code, grant.valid_from,
            grant.valid_until, grant.revoked_at, grant.revoke_reason, grant.parent_id, grant.basis,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Covering:
    grants: tuple[GrantFacts, ...]  # every grant (any state) for the item/action covering the unit
    parents: dict[int, GrantFacts]


def _denial(covering: Covering, at: datetime, tz: str, what: str) -> tuple[str, str]:
    """The first rule that denies, reading the covering grants nearest first."""
    if not covering.grants:
        return f"没有任何赋权使该单位拥有{what}权限", "no_grant"
    for grant in sorted(covering.grants, key=lambda g: (-len(g.unit_code), -g.id)):
        if at < grant.valid_from:
            return (
                f"赋权 #{grant.id}（{grant.instrument}）自 {format_day(grant.valid_from, tz)} 起才生效",
                "not_yet_valid",
            )
        if grant.valid_until is not None and at >= grant.valid_until:
            return f"赋权 #{grant.id}（{grant.instrument}）已于 {format_day(grant.valid_until, tz)} 到期", "expired"
        if grant.revoked_at is not None and at >= grant.revoked_at:
            when = grant.revoked_at.astimezone(ZoneInfo(tz)).isoformat(timespec="seconds")
            return f"赋权 #{grant.id}（{grant.instrument}）已于 {when} 撤销：{grant.revoke_reason}", "revoked"
        parent = covering.parents.get(grant.parent_id) if grant.parent_id else None
        if parent is not None:
            return f"赋权 #{grant.id} 所依据的上级赋权 #{parent.id} 在该时刻无效", "parent_not_effective"
    return f"没有有效的赋权使该单位拥有{what}权限", "no_grant"


async def grant_chain(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    unit: str,
    item: str,
    action: str,
    at: datetime,
) -> tuple[GrantFacts, ...] | None:
    """The chain of grants by which ``unit`` holds (item, action) at ``at``, the grant covering it first and the
    grant made by the tenant root last; empty for the root's own statutory authority, None when nothing allowed it.
    Read once per policy version (the explanations' cache)."""
    loaded = await registry.get(session, scope)
    allowed, grant_id = loaded.authority.decide(unit, item, action, "", instant(at), engine="hot")
    if not allowed:
        return None
    if grant_id in (None, STATUTORY):
        return ()
    key = ("chain", grant_id)
    chain = loaded.explanations.get(key)
    if chain is None:
        chain = await _chain(GrantRepository(session), scope, grant_id)
        loaded.remember(loaded.version, key, chain)
    return chain


async def _chain(grants: GrantRepository, scope: TenantScope, grant_id: int) -> tuple[GrantFacts, ...]:
    """The grant that allows, then its parent, … up to the grant made by the tenant root."""
    chain: list[GrantFacts] = []
    next_id: int | None = grant_id
    while next_id is not None:
        found = (await grants.by_ids(scope, [next_id])).get(next_id)
        if found is None:
            break
        chain.append(GrantFacts.of(found))
        next_id = found.parent_id
    return tuple(chain)


async def _covering(grants: GrantRepository, scope: TenantScope, item: str, action: str, code: str) -> Covering:
    found = await grants.covering(scope, item, action, code)
    parents = await grants.by_ids(scope, [g.parent_id for g in found if g.parent_id])
    return Covering(tuple(GrantFacts.of(g) for g in found), {i: GrantFacts.of(g) for i, g in parents.items()})


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
    """May ``unit`` perform ``action`` on ``item`` at ``at`` (default now)? And why.

    The decision is Casbin's; the grants the explanation names are read once per policy version, so a
    repeated question costs no database round trip."""
    target = await registry.units.get(scope, unit, session)
    catalog_item = catalog.get(item)
    when = at or utcnow()
    loaded = await registry.get(session, scope)
    version = loaded.version
    allowed, grant_id = loaded.authority.decide(target.code, item, action, role, instant(when), engine="casbin")
    _counted(scope, "check", allowed)
    what = f"“{catalog_item.name}”的{ACTION_NAMES.get(action, action)}"
    if allowed:
        if grant_id in (None, STATUTORY):
            return Decision(True, [], f"{target.name}作为省级人社部门法定本级行使{what}权限", None)
        key = ("chain", grant_id)
        chain = loaded.explanations.get(key)
        if chain is None:
            chain = await _chain(GrantRepository(session), scope, grant_id)
            loaded.remember(version, key, chain)
        top = chain[0]
        return Decision(
            True,
            [facts.id for facts in reversed(chain)],
            f"{target.name}经赋权 #{top.id}（{top.instrument}，{top.grantor_unit_code} 授予）拥有{what}权限",
            None,
        )
    floor = catalog_item.floor(action)
    if target.level > floor:
        reason = f"{what}权限最低只能下放到{LEVEL_NAMES[floor]}级，{target.name}是{LEVEL_NAMES[target.level]}级"
        return Decision(False, [], reason, "floor")
    covering_key = ("covering", item, action, target.code)
    covering = loaded.explanations.get(covering_key)
    if covering is None:
        covering = await _covering(GrantRepository(session), scope, item, action, target.code)
        loaded.remember(version, covering_key, covering)
    reason, rule = _denial(covering, when, scope.timezone, what)
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
    loaded = await registry.get(session, scope)
    allowed = loaded.authority.matrix([u.code for u in units], instant(at or utcnow()), sorted(catalog.items))
    return units, allowed


async def deciding_grants(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    cells: Sequence[tuple[str, str, str]],
    at: datetime,
) -> dict[tuple[str, str, str], int | None]:
    """For allowed (unit, item, action) cells: the grant whose line allows each (hot path, the unit's own
    grant before a subtree grant above it); ``STATUTORY`` for the tenant root's own authority."""
    loaded = await registry.get(session, scope)
    moment = instant(at)
    found: dict[tuple[str, str, str], int | None] = {}
    for unit, item, action in cells:
        allowed, grant_id = loaded.authority.decide(unit, item, action, "", moment, engine="hot")
        if allowed:
            found[(unit, item, action)] = grant_id
    return found


async def unit_may(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    unit: str,
    item: str,
    action: str,
    at: datetime,
) -> bool:
    """组织权限: does ``unit`` hold an effective grant for (item, action) at ``at``?"""
    loaded = await registry.get(session, scope)
    return _counted(scope, "unit", loaded.authority.decide(unit, item, action, "", instant(at), engine="hot")[0])


async def roles_permit(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    unit: str,
    item: str,
    action: str,
    roles: frozenset[str],
    at: datetime,
) -> bool:
    """岗位权限 on top of the unit's: does one of ``roles`` at ``unit`` permit (item, action)?"""
    loaded = await registry.get(session, scope)
    moment = instant(at)
    permitted = any(
        loaded.authority.decide(unit, item, action, role, moment, engine="hot")[0] for role in sorted(roles)
    )
    return _counted(scope, "role", permitted)


async def nearest_holder(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    unit: str,
    item: str,
    action: str,
    at: datetime,
) -> str | None:
    """The nearest unit at or above ``unit`` holding (item, action) at ``at`` — where a case is routed."""
    loaded = await registry.get(session, scope)
    moment = instant(at)
    for code in [unit, *reversed(ancestor_codes(unit))]:
        if loaded.authority.decide(code, item, action, "", moment, engine="hot")[0]:
            _counted(scope, "route", True)
            return code
    _counted(scope, "route", False)
    return None
