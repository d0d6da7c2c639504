"""A tenant's authority: Casbin as the source of truth, the compiled hot path derived from it.

Every change goes to both engines from the same lines. Callers that rebuild (e.g. after a policy
version gap) build a new TenantAuthority and swap the reference: the swap is the atomic step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from fuquan.authority.engine.casbin_engine import CasbinAuthority, RowFilter, RowsAdapter
from fuquan.authority.engine.hotpath import CompiledAuthority
from fuquan.authority.engine.lines import PolicyLine, RoleLine, check_line, check_role_line

Engine = Literal["casbin", "hot"]


class TenantAuthority:
    """Both engines of one tenant, kept identical."""

    def __init__(self) -> None:
        self.casbin = CasbinAuthority()
        self.hot = CompiledAuthority()

    @classmethod
    def from_store(cls, rows: Iterable[tuple[str, ...]]) -> TenantAuthority:
        """Load a tenant's stored rows through Casbin's adapter interface, then derive the hot
        path from exactly what Casbin loaded (``("p", key, perm, scope, win, eft)`` / ``("g", role, perm)``)."""
        authority = cls()
        authority.casbin = CasbinAuthority(RowsAdapter(rows), RowFilter())
        authority.hot.load(authority.casbin.iter_lines(), authority.casbin.role_permissions(), check=False)
        return authority

    def load(self, p_lines: Iterable[PolicyLine], g_lines: Iterable[RoleLine] = ()) -> None:
        """Replace the whole policy of both engines (lines are checked once)."""
        lines = list(p_lines)
        roles = list(g_lines)
        for line in lines:
            check_line(line)
        for role in roles:
            check_role_line(role)
        self.casbin.load(lines, roles, check=False)
        self.hot.load(lines, roles, check=False)

    def apply(
        self,
        added_lines: Iterable[PolicyLine] = (),
        removed_lines: Iterable[PolicyLine] = (),
        *,
        added_roles: Iterable[RoleLine] = (),
        removed_roles: Iterable[RoleLine] = (),
    ) -> None:
        """Apply one change set to both engines: removals first, so a line that is removed and
        re-added (a recompiled grant whose window did not change) stays.

        Everything is validated before anything changes, so a bad line changes nothing.
        """
        added, removed = list(added_lines), list(removed_lines)
        roles_added, roles_removed = list(added_roles), list(removed_roles)
        for line in (*added, *removed):
            check_line(line)
        for role in (*roles_added, *roles_removed):
            check_role_line(role)
        for engine in (self.casbin, self.hot):
            engine.remove_lines(removed, check=False)
            engine.add_lines(added, check=False)
            engine.remove_role_permissions(roles_removed)
            engine.add_role_permissions(roles_added)

    def decide(
        self, node: str, item: str, act: str, role: str, now: str, engine: Engine = "hot"
    ) -> tuple[bool, int | None]:
        """May ``node`` perform item/act at instant ``now`` as ``role`` ("" = unit authority only)?"""
        if engine == "hot":
            return self.hot.decide(node, item, act, role, now)
        if engine == "casbin":
            return self.casbin.decide(node, item, act, role, now)
        raise ValueError(f"unknown engine {engine!r}")

    def matrix(
        self, codes: Iterable[str], now: str, items: Iterable[str], role: str = ""
    ) -> dict[str, set[tuple[str, str]]]:
        """Allowed (item, act) pairs of every unit in ``codes`` (hot path)."""
        return self.hot.matrix(codes, now, items, role)
