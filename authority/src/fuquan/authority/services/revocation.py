"""撤销: revoke a grant and the grants derived from it, and preview that cascade first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.engine.lines import GRID_LEVEL, chain_window, instant
from fuquan.authority.models import Grant
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import GrantRepository, PolicyRepository
from fuquan.authority.services.reads import chain_specs, compile_chain
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()


def floor_of(catalog: Catalog, grant: Grant) -> int:
    """The item's floor for the grant's action; an item gone from the current edition keeps no limit
    (its truncated lines then end its coverage anyway)."""
    item = catalog.items.get(grant.item_code)
    return GRID_LEVEL if item is None else item.floor(grant.action)


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
        when = grant.revoked_at.astimezone(ZoneInfo(scope.timezone)).strftime("%Y-%m-%d %H:%M:%S")
        via = "" if grant.revoked_via in (None, grant.id) else f"（随赋权 #{grant.revoked_via} 一并撤销）"
        raise Conflict(
            f"赋权 #{grant.id} 已于 {when} 由 {grant.revoked_by_name} 撤销{via}，不能再次撤销",
            rule="already_revoked",
            revoked_at=grant.revoked_at.isoformat(),
            revoked_by=grant.revoked_by_name,
        )
    return grant, [grant, *await grants.unrevoked_descendants(grant)]


async def revoke(
    session: AsyncSession,
    actor: Actor,
    grant_id: int,
    reason: str,
    catalog: Catalog,
    registry: AuthorityRegistry,
    request_id: str | None,
) -> tuple[list[Grant], datetime]:
    """撤销: revoke a grant and every grant derived from it, at one instant, in one transaction.

    Windows are truncated, never deleted, so decisions about the past stay reproducible.
    """
    actor.require("grants.manage")
    scope = actor.scope
    grants = GrantRepository(session)
    await registry.lock(session, scope)  # a concurrent revocation finishes first; then we see it
    grant, cascade = await _revocation_cascade(grants, scope, grant_id)
    now = utcnow()
    ids = [g.id for g in cascade]
    policy = PolicyRepository(session)
    old_lines = [line for lines in (await policy.lines_of_grants(ids)).values() for line in lines]
    await grants.record_revocations(cascade, at=now, by=actor.username, reason=reason, via=grant.id)
    loaded = await registry.get(session, scope)
    await policy.remove_for_grants(ids)
    known = {g.id: g for g in cascade}
    lines_by_grant = {g.id: await compile_chain(grants, loaded, g, floor_of(catalog, g), known) for g in cascade}
    await policy.add_for_grants(scope, lines_by_grant)
    new_lines = [line for lines in lines_by_grant.values() for line in lines]
    await registry.record(session, scope, added=new_lines, removed=old_lines)
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
    loaded = await registry.get(session, scope)
    allowed = loaded.authority.matrix(codes, moment, [grant.item_code])
    holding = [code for code in codes if (grant.item_code, grant.action) in allowed.get(code, set())]
    known = {g.id: g for g in cascade}
    keeping: list[Grant] = []
    for other in await grants.under(scope, grant.item_code, grant.action, grant.unit_code):
        if other.id in ending or other.revoked_at is not None:
            continue
        specs = await chain_specs(grants, scope, other, known)
        lo, hi = chain_window(specs[other.id], specs)
        if lo <= moment < hi:
            keeping.append(other)
    losing = [code for code in holding if not any(g.covers(code) for g in keeping)]
    return RevocationPreview(grant, cascade[1:], losing)
