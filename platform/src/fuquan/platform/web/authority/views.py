"""What the 赋权管理 pages show: the matrix, the grant form's context, a grant with its chain, explain.

Every answer comes from fuquan.authority (matrix, check, revocation_preview, …); this module only
gathers names and turns the engine's answers into sentences a clerk understands.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.models import Grant
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.services.reads import child_grants, covering_grants, find_grant, grants_by_ids, grants_held_by
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.accounts.services import staff_display_names
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.errors import NotFound, PermissionDenied
from fuquan.platform.core.timeutil import local_date, local_time, utcnow
from fuquan.tenants.divisions import LEVEL_NAMES
from fuquan.tenants.models import Unit
from fuquan.tenants.scope import TenantScope
from fuquan.tenants.services import get_unit, unit_ancestors, unit_names, unit_subtree

ACTION_LABELS = {"accept": "受理", "decide": "办理（审批）"}
SCOPE_LABELS = {"unit": "仅本单位", "subtree": "本单位及全部下级"}
BASIS_LABELS = {"devolved": "上级下放", "authorised": "上级授权", "entrusted": "上级委托", "statutory": "法定本级行使"}
STATUS_LABELS = {"active": "生效中", "scheduled": "尚未生效", "expired": "已到期", "revoked": "已撤销"}
# Why a unit may not act, in words for the clerk (the rule names of authority.services.checks._denial)
DENIAL_HINTS = {
    "no_grant": "该单位没有获得这项权限：它自己和它的上级单位都没有被赋予覆盖它的这项权限。"
    "需要由持有该权限（且可再赋权）的上级单位为它赋权。",
    "not_yet_valid": "赋权已经作出，但还没有到生效日期；到生效日零时起才可以办理。",
    "expired": "赋权的有效期已经结束。如需继续办理，需要上级单位重新赋权。",
    "revoked": "赋权已被撤销。撤销一条赋权时，由它派生出的下级赋权会一并撤销。",
    "parent_not_effective": "该单位的赋权所依据的上级赋权已失效（到期、撤销或尚未生效），下级赋权随之失效。",
    "role_lacks": "单位本身有这项权限，但所选岗位没有这项岗位权限（例如审批人员不负责受理）。"
    "请由有相应岗位的工作人员办理，或请系统管理员调整岗位权限。",
}
# The re-delegation rules of DESIGN §6.1 by the name a refusal carries (authority.services)
RULE_NAMES = {
    "target_below_grantor": "只能赋给本单位的下级单位",
    "floor": "不得低于事项的最低可下放层级",
    "grantor_holds": "只能下放本单位持有的权限",
    "redelegable": "上级赋权须允许再赋权",
    "target_in_parent_scope": "赋权对象须在本单位所持赋权的覆盖范围内",
    "within_parent_window": "期限不得超出本单位所持赋权的期限",
    "window_order": "截止日期须晚于生效日期",
    "revoker_is_grantor": "只有作出赋权的单位或其上级可以撤销",
    "already_revoked": "赋权已撤销",
}
UNIT_OPTION_DEPTH = 2  # the datalist offers units down to two levels below the viewer (typing any code works too)
MAX_UNIT_OPTIONS = 400
ROLE_CHOICES = ("grid_specialist", "village_agent", "window_clerk", "approver")


def unit_label(unit: Unit) -> str:
    return f"{unit.name}（{LEVEL_NAMES[unit.level]}，{unit.code}）"


def item_label(item: CatalogItem) -> str:
    return (
        f"{item.code} {item.name}（受理最低到{LEVEL_NAMES[item.accept_floor]}，"
        f"办理最低到{LEVEL_NAMES[item.decide_floor]}）"
    )


async def unit_options(session: AsyncSession, actor: Actor, *, include_self: bool) -> list[Unit]:
    """Units in the viewer's scope to choose from (their own unit and up to two levels below)."""
    scope = actor.scope
    own = await get_unit(session, scope, actor.unit_code)
    units = await unit_subtree(session, scope, own.code, max_level=min(6, own.level + UNIT_OPTION_DEPTH))
    return [u for u in units if include_self or u.code != own.code][:MAX_UNIT_OPTIONS]


async def breadcrumb(session: AsyncSession, scope: TenantScope, unit: Unit) -> list[Unit]:
    """The unit's ancestors inside the viewer's scope, then the unit: the way back up."""
    above = await unit_ancestors(session, scope, unit.code)
    return [u for u in above if scope.covers(u.code)] + [unit]


# -- matrix -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cell:
    allowed: bool
    how: str = ""  # statutory, the unit's own grant, or inherited from an ancestor's subtree grant
    grant_id: int | None = None
    grant_visible: bool = False  # the grant's page is in the viewer's scope


@dataclass(frozen=True, slots=True)
class Column:
    unit: Unit
    is_self: bool  # the unit whose children are shown; every other column links one level down


@dataclass(frozen=True, slots=True)
class Row:
    item: CatalogItem
    floor: str
    cells: list[Cell]


@dataclass(frozen=True, slots=True)
class MatrixPage:
    unit: Unit
    action: str
    columns: list[Column]
    rows: list[Row]
    trail: list[Unit]
    allowed_counts: dict[str, int] = field(default_factory=dict)  # unit code -> items it may act on


async def matrix_page(
    session: AsyncSession, actor: Actor, catalog: Catalog, registry: AuthorityRegistry, code: str, action: str
) -> MatrixPage:
    """The unit and its children × the catalogue, for one action, at this moment."""
    scope, now = actor.scope, utcnow()
    units, allowed = await authority.matrix(session, scope, catalog, registry, unit=code, depth=1, at=now)
    root = next(u for u in units if u.code == code)
    children = [u for u in units if u.code != code]
    shown = [root, *children]
    cells = [
        (u.code, item, action) for u in shown for item in sorted(catalog.items) if (item, action) in allowed[u.code]
    ]
    by_cell = await authority.deciding_grants(session, registry, scope, cells, now)
    ids = {gid for gid in by_cell.values() if gid}
    grants = await grants_by_ids(session, scope, ids)
    names = await unit_names(session, scope, sorted({g.unit_code for g in grants.values()}))
    rows = []
    for item_code in sorted(catalog.items):
        item = catalog.items[item_code]
        row_cells = []
        for unit in shown:
            key = (unit.code, item_code, action)
            if key not in by_cell:
                row_cells.append(Cell(False))
                continue
            grant = grants.get(by_cell[key] or 0)
            if grant is None:
                row_cells.append(Cell(True, "法定本级行使"))
            elif grant.unit_code == unit.code:
                row_cells.append(Cell(True, "本级赋权", grant.id, scope.covers(grant.unit_code)))
            else:
                source = names.get(grant.unit_code, grant.unit_code)
                row_cells.append(Cell(True, f"随{source}赋权", grant.id, scope.covers(grant.unit_code)))
        floor = LEVEL_NAMES[item.floor(action)]
        rows.append(Row(item, floor, row_cells))
    counts = {u.code: sum(1 for item in catalog.items if (item, action) in allowed[u.code]) for u in shown}
    columns = [Column(u, u.code == code) for u in shown]
    return MatrixPage(root, action, columns, rows, await breadcrumb(session, scope, root), counts)


# -- grants -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantView:
    """One grant as a clerk reads it."""

    id: int
    item: str
    action: str
    unit: str
    unit_code: str
    scope: str
    window: str
    status: str
    status_code: str
    basis: str
    instrument: str
    redelegable: bool
    grantor: str
    granted_by: str
    parent_id: int | None
    visible: bool  # its page is in the viewer's scope
    revoked_at: str | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    revoked_via: int | None = None


def window_text(grant: Grant, tz: str) -> str:
    start = local_date(grant.valid_from, tz).isoformat()
    end = "长期" if grant.valid_until is None else local_date(grant.valid_until, tz).isoformat()
    return f"{start} 起" if grant.valid_until is None else f"{start} 至 {end}（不含）"


def _person(display_names: dict[str, str], username: str) -> str:
    """经办人: the display name with the account in brackets (the account alone if no longer on staff)."""
    display = display_names.get(username)
    return f"{display}（{username}）" if display and display != username else username


async def grant_views(
    session: AsyncSession, scope: TenantScope, catalog: Catalog, grants: list[Grant]
) -> list[GrantView]:
    now = utcnow()
    codes = sorted({g.unit_code for g in grants} | {g.grantor_unit_code for g in grants})
    names = await unit_names(session, scope, codes)
    staff = await staff_display_names(
        session, scope, [g.granted_by_name for g in grants] + [g.revoked_by_name for g in grants if g.revoked_by_name]
    )
    views = []
    for g in grants:
        item = catalog.items.get(g.item_code)
        status = authority.status_of(g, now)
        revoked_at = revoked_by = None
        if g.revoked_at is not None:
            revoked_at = local_time(g.revoked_at, scope.timezone)
        if g.revoked_by_name is not None:
            revoked_by = _person(staff, g.revoked_by_name)
        views.append(
            GrantView(
                id=g.id, item=f"{g.item_code} {item.name if item else ''}".strip(), action=ACTION_LABELS[g.action],
                unit=names.get(g.unit_code, g.unit_code), unit_code=g.unit_code, scope=SCOPE_LABELS[g.scope],
                window=window_text(g, scope.timezone), status=STATUS_LABELS[status], status_code=status,
                basis=BASIS_LABELS.get(g.basis, g.basis), instrument=g.instrument, redelegable=g.redelegable,
                grantor=names.get(g.grantor_unit_code, g.grantor_unit_code),
                granted_by=_person(staff, g.granted_by_name), parent_id=g.parent_id,
                visible=scope.covers(g.unit_code), revoked_at=revoked_at, revoked_by=revoked_by,
                revoke_reason=g.revoke_reason, revoked_via=g.revoked_via,
            )
        )  # fmt: skip
    return views


async def chain_of(session: AsyncSession, scope: TenantScope, grant: Grant) -> list[Grant]:
    """The grants above ``grant`` (its parent, grandparent, … up to the province's grant), top first."""
    chain: list[Grant] = []
    parent_id = grant.parent_id
    while parent_id is not None and all(g.id != parent_id for g in chain):
        parent = (await grants_by_ids(session, scope, [parent_id])).get(parent_id)
        if parent is None:  # pragma: no cover - parent_id is a foreign key
            break
        chain.append(parent)
        parent_id = parent.parent_id
    return list(reversed(chain))


@dataclass(frozen=True, slots=True)
class HeldRight:
    """What the viewer's unit may pass on: shown beside the grant form."""

    text: str
    redelegable: bool


async def held_rights(session: AsyncSession, actor: Actor, catalog: Catalog) -> list[HeldRight] | None:
    """The grants made to the viewer's unit (None for the tenant root, which holds everything)."""
    if actor.unit_code == actor.scope.tenant_code:
        return None
    now = utcnow()
    held = await grants_held_by(session, actor.scope, actor.unit_code)
    rights = []
    for g in held:
        if authority.status_of(g, now) in ("expired", "revoked"):
            continue
        item = catalog.items.get(g.item_code)
        name = item.name if item else g.item_code
        text = (
            f"{name}的{ACTION_LABELS[g.action]}（赋权 #{g.id}，{SCOPE_LABELS[g.scope]}，"
            f"{window_text(g, actor.scope.timezone)}）"
        )
        rights.append(HeldRight(text, g.redelegable and g.subtree))
    return rights


# -- explain ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Explanation:
    allowed: bool
    unit: Unit
    item: CatalogItem
    action: str
    at: datetime
    at_text: str
    reason: str
    rule: str | None
    hint: str | None
    chain: list[GrantView]
    related: list[GrantView]
    role: str | None


async def explain(
    session: AsyncSession,
    actor: Actor,
    catalog: Catalog,
    registry: AuthorityRegistry,
    *,
    unit_code: str,
    item_code: str,
    action: str,
    at: datetime,
    role: str | None,
) -> Explanation:
    """能不能办、为什么: the engine's decision with its grant chain, or the first rule that denies."""
    scope = actor.scope
    unit = await get_unit(session, scope, unit_code)
    item = catalog.get(item_code)
    decision = await authority.check(
        session, scope, catalog, registry, unit=unit.code, item=item.code, action=action, at=at
    )
    allowed, reason, rule = decision.allowed, decision.reason, decision.rule
    # 岗位权限 on top of 组织权限: the same two checks as opening a case
    if (
        allowed
        and role
        and not await authority.roles_permit(
            session, registry, scope, unit.code, item.code, action, frozenset({role}), at
        )
    ):
        allowed, rule = False, "role_lacks"
        reason = f"{reason}；但岗位“{ROLE_NAMES.get(role, role)}”没有“{item.name}”的{ACTION_LABELS[action]}岗位权限"
    chain_grants = list((await grants_by_ids(session, scope, decision.chain)).values()) if allowed else []
    chain_grants.sort(key=lambda g: decision.chain.index(g.id))
    related = await covering_grants(session, scope, item.code, action, unit.code)
    return Explanation(
        allowed=allowed, unit=unit, item=item, action=action, at=at, at_text=local_time(at, scope.timezone),
        reason=reason, rule=rule, hint=None if rule is None else DENIAL_HINTS.get(rule),
        chain=await grant_views(session, scope, catalog, chain_grants),
        related=await grant_views(session, scope, catalog, related), role=role,
    )  # fmt: skip


# -- one grant --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RevokeOutlook:
    """The revoke section: the cascade (from authority.revocation_preview) or why it cannot be revoked here."""

    descendants: list[GrantView]
    losing: list[str]  # names of (the first MAX_LOSING_NAMES) units that would no longer be able to act
    losing_count: int
    blocked: str | None = None


@dataclass(frozen=True, slots=True)
class GrantPage:
    grant: GrantView
    chain: list[GrantView]
    children: list[GrantView]
    outlook: RevokeOutlook | None  # None once revoked
    item_name: str
    action: str


MAX_LOSING_NAMES = 50


async def grant_page(
    session: AsyncSession, actor: Actor, catalog: Catalog, registry: AuthorityRegistry, grant_id: int
) -> GrantPage:
    scope = actor.scope
    grant = await find_grant(session, scope, grant_id)
    if grant is None:
        raise NotFound(f"赋权记录 #{grant_id} 不存在或不在您的管辖范围内")
    outlook = None
    if grant.revoked_at is None:
        try:
            preview = await authority.revocation_preview(session, scope, registry, grant.id)
        except PermissionDenied as refused:  # the viewer's unit neither made the grant nor sits above who did
            outlook = RevokeOutlook([], [], 0, refused.detail)
        else:
            first = preview.units_losing[:MAX_LOSING_NAMES]
            names = await unit_names(session, scope, first)
            descendants = await grant_views(session, scope, catalog, preview.descendants)
            losing = [f"{names.get(code, code)}（{code}）" for code in first]
            outlook = RevokeOutlook(descendants, losing, len(preview.units_losing))
    item = catalog.items.get(grant.item_code)
    [view] = await grant_views(session, scope, catalog, [grant])
    return GrantPage(
        grant=view,
        chain=await grant_views(session, scope, catalog, await chain_of(session, scope, grant)),
        children=await grant_views(session, scope, catalog, await child_grants(session, scope, grant.id)),
        outlook=outlook,
        item_name=item.name if item else grant.item_code,
        action=ACTION_LABELS[grant.action],
    )
