"""What the other verbs share: a grant as a spec, its status and read model, its compiled lines (策略行); and
the grants a caller may read, by id, holder, coverage or filter (always bounded by the caller's TenantScope)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.engine.lines import STATUTORY_GRANT_ID, GrantSpec, chain_window, compile_grant
from fuquan.authority.models import Grant
from fuquan.authority.registry import LoadedTenant
from fuquan.authority.repositories import GrantRepository, PolicyLine
from fuquan.authority.schemas import GrantRead
from fuquan.platform.core.timeutil import local_date
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


def format_day(day: datetime | None, tz: str) -> str:
    return "长期" if day is None else local_date(day, tz).isoformat()


async def chain_specs(
    grants: GrantRepository, scope: TenantScope, grant: Grant, known: dict[int, Grant]
) -> dict[int, GrantSpec]:
    """The grant and its ancestors as specs (loading ancestors not yet in ``known``)."""
    specs = {grant.id: spec_of(grant)}
    parent_id = grant.parent_id
    while parent_id is not None and parent_id not in specs:
        if parent_id not in known:
            known.update(await grants.by_ids(scope, [parent_id]))
        parent = known[parent_id]
        specs[parent.id] = spec_of(parent)
        parent_id = parent.parent_id
    return specs


async def compile_chain(
    grants: GrantRepository, loaded: LoadedTenant, grant: Grant, floor: int, known: dict[int, Grant] | None = None
) -> list[PolicyLine]:
    """The policy lines of ``grant`` on its chain's effective window, covering nothing below ``floor``
    (the item's lowest level for the action, from the catalogue)."""
    specs = await chain_specs(grants, loaded.scope, grant, {} if known is None else known)
    spec = replace(specs[grant.id], floor=floor)
    return [*compile_grant(spec, chain_window(spec, specs), loaded.bucket_codes_under)]


# -- grants, as the caller's scope sees them --------------------------------------------------------


async def find_grant(session: AsyncSession, scope: TenantScope, grant_id: int) -> Grant | None:
    """The grant as stored now, or None when it is absent, in another tenant, or made to a unit outside the
    scope."""
    return await GrantRepository(session).get(scope, grant_id)


async def grants_by_ids(session: AsyncSession, scope: TenantScope, ids: Iterable[int]) -> dict[int, Grant]:
    """The tenant's grants among ``ids``, by id (an id the tenant lacks is left out)."""
    return await GrantRepository(session).by_ids(scope, ids)


async def grants_held_by(session: AsyncSession, scope: TenantScope, unit: str) -> list[Grant]:
    """The unrevoked grants made to ``unit`` itself — what it may pass on (if re-delegable)."""
    return await GrantRepository(session).held_by(scope, unit)


async def covering_grants(session: AsyncSession, scope: TenantScope, item: str, action: str, code: str) -> list[Grant]:
    """The grants of ``item``/``action`` that could cover unit ``code``: made to it, or to an ancestor for its
    whole subtree, whatever their status."""
    return await GrantRepository(session).covering(scope, item, action, code)


async def child_grants(session: AsyncSession, scope: TenantScope, grant_id: int) -> list[Grant]:
    """The grants made directly under grant ``grant_id`` (any status): its re-delegations."""
    return await GrantRepository(session).children(scope, grant_id)


async def search_grants(
    session: AsyncSession,
    scope: TenantScope,
    *,
    unit: str | None,
    item: str | None,
    action: str | None,
    status: str | None,
    now: datetime,
    limit: int,
    offset: int,
) -> list[Grant]:
    """One page of the grants made to units in the scope, oldest first, narrowed by unit, item, action and
    status (active, scheduled, expired or revoked at ``now``)."""
    return await GrantRepository(session).search(
        scope, unit=unit, item=item, action=action, status=status, now=now, limit=limit, offset=offset
    )
