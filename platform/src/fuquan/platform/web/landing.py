"""What the landing page shows a staff member: who and where they are, and what they may accept here now."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.catalog.services import Catalog, item_spec, needs_only_id_card
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.services import get_unit

CAN_ACCEPT = "cases.create"


@dataclass(frozen=True, slots=True)
class AcceptableItem:
    code: str
    name: str
    id_card_only: bool


@dataclass(frozen=True, slots=True)
class Landing:
    display_name: str
    username: str
    unit_code: str
    unit_name: str
    roles: list[str]
    accepts_cases: bool
    acceptable: list[AcceptableItem]


async def landing(session: AsyncSession, registry: AuthorityRegistry, actor: Actor, catalog: Catalog) -> Landing:
    unit = await get_unit(session, actor.scope, actor.unit_code)
    accepts = CAN_ACCEPT in actor.permissions
    acceptable: list[AcceptableItem] = []
    if accepts:
        now = utcnow()
        for code in sorted(catalog.items):
            # the same two checks as opening a case: 组织权限 (the unit's grant), then 岗位权限 (the roles)
            if not await authority.unit_may(session, registry, actor.scope, unit.code, code, "accept", now):
                continue
            if not await authority.roles_permit(
                session, registry, actor.scope, unit.code, code, "accept", actor.roles, now
            ):
                continue
            item = catalog.items[code]
            acceptable.append(AcceptableItem(code, item.name, needs_only_id_card(item_spec(item))))
    return Landing(
        display_name=actor.display_name,
        username=actor.username,
        unit_code=unit.code,
        unit_name=unit.name,
        roles=[ROLE_NAMES.get(role, role) for role in sorted(actor.roles)],
        accepts_cases=accepts,
        acceptable=acceptable,
    )
