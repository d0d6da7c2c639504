"""The tenant's starting policy: which roles may act on which items (角色策略)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.engine.lines import role_line, statutory_lines
from fuquan.authority.repositories import PolicyLine, PolicyRepository
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

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


async def initialise_policy(session: AsyncSession, scope: TenantScope, item_codes: list[str]) -> int:
    """Write a new tenant's starting policy: the root's statutory lines and the default role permissions."""
    policy = PolicyRepository(session)
    await policy.add(scope, "p", statutory_lines(scope.tenant_code, item_codes))
    await policy.add(scope, "g", default_role_lines(item_codes))
    return await policy.bump_version(scope)
