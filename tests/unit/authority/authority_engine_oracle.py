"""Plain-Python oracle: decides straight from GrantSpecs with the semantics of DESIGN §6.1.

No policy lines, no buckets, no windows precomputed: each question walks the grant chain.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from fuquan.authority.engine.lines import GrantSpec


def effective(grant: GrantSpec, t: datetime, grants_by_id: Mapping[int, GrantSpec]) -> bool:
    if t < grant.valid_from:
        return False
    if grant.valid_until is not None and not t < grant.valid_until:
        return False
    if grant.revoked_at is not None and not t < grant.revoked_at:
        return False
    if grant.parent_id is None:
        return True
    return effective(grants_by_id[grant.parent_id], t, grants_by_id)


LEVEL_OF_LENGTH = {2: 1, 4: 2, 6: 3, 9: 4, 12: 5, 15: 6}


def covers(grant: GrantSpec, node: str) -> bool:
    """On the grant's unit or (subtree) below it — and never below the item's floor for the action."""
    if LEVEL_OF_LENGTH[len(node)] > grant.floor:
        return False
    return node == grant.unit or (grant.subtree and node.startswith(grant.unit))


def allowing_grants(
    grants_by_id: Mapping[int, GrantSpec],
    root: str,
    items: Collection[str],
    node: str,
    item: str,
    act: str,
    t: datetime,
) -> set[int]:
    """Ids of grants that let ``node`` perform item/act at t (0 = the root's statutory authority)."""
    found = {
        g.id
        for g in grants_by_id.values()
        if g.item == item and g.action == act and covers(g, node) and effective(g, t, grants_by_id)
    }
    if node == root and item in items:
        found.add(0)
    return found


def allowed(
    grants_by_id: Mapping[int, GrantSpec],
    roles: Collection[tuple[str, str]],
    root: str,
    items: Collection[str],
    node: str,
    item: str,
    act: str,
    role: str,
    t: datetime,
) -> bool:
    if role and (role, f"{item}|{act}") not in roles:
        return False
    return bool(allowing_grants(grants_by_id, root, items, node, item, act, t))
