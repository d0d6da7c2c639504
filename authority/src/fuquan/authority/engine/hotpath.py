"""Compiled hot path: the same policy lines as the Casbin enforcer, in plain dicts.

It is Casbin's own index with the matcher compiled away: the same two keyed lookups (the node's
unit lines, then the subtree lines of its bucket ``node[:9]``), each followed by a plain test
instead of a simpleeval walk per line. So it reproduces Casbin's answer exactly, bucket semantics
included (a subtree line above township level reaches only the buckets it was written for).
Walking the node's ≤6 ancestor prefixes instead would cost 7 probes into dicts of ~400k units
where this needs 2.

- ``_units[unit][perm]`` → the ``win`` fields of that unit's unit-scope lines;
- ``_subtrees[bucket][perm]`` → ``(prefix, bound, win)`` of each subtree line keyed there
  (``prefix`` is the scope's code, ``bound`` the longest code it covers: the item's floor).

``win`` strings are the lines' own (shared with the Casbin lines), parsed by slicing when
asked; entries sit in tuples: nearly every (unit, perm) holds one, and a one-element set costs
4x a one-element tuple.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from fuquan.authority.engine.lines import (
    ACTIONS,
    ALLOW,
    BUCKET_LENGTH,
    INSTANT_WIDTH,
    PolicyLine,
    RoleLine,
    bulk_load,
    check_line,
    check_role_line,
    perm_of,
    scope_parts,
    subtree_scope,
)

# win = "LO/HI#ID": LO is win[:20], HI is win[21:41], ID is win[42:]; literal slices are fastest
assert INSTANT_WIDTH == 20

SubtreeEntry = tuple[str, int, str]  # (prefix, bound, win)
E = TypeVar("E", str, SubtreeEntry)
Index = dict[str, dict[str, tuple[str, ...]]]
PatternIndex = dict[str, dict[str, tuple[SubtreeEntry, ...]]]
_NO_PATTERNS: dict[str, tuple[SubtreeEntry, ...]] = {}
_FLOOR_OF_LENGTH = {2: 1, 4: 2, 6: 3, 9: 4, 12: 5, 15: 6}


class CompiledAuthority:
    """Dict-based decisions and bulk matrices over a tenant's policy lines."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._units: Index = {}
        self._subtrees: PatternIndex = {}
        self._roles: set[RoleLine] = set()
        self._count = 0

    def __len__(self) -> int:
        """Number of policy lines held."""
        return self._count

    # -- changes ---------------------------------------------------------------------------

    def load(self, p_lines: Iterable[PolicyLine], g_lines: Iterable[RoleLine] = (), *, check: bool = True) -> None:
        """Replace everything with these lines."""
        self._reset()
        with bulk_load():
            self._add(p_lines, check)
        self.add_role_permissions(g_lines)

    def add_lines(self, lines: Iterable[PolicyLine], *, check: bool = True) -> None:
        """Add policy lines (lines form a set: adding a present one changes nothing)."""
        batch = list(lines)
        if check:
            for line in batch:
                check_line(line)
        self._add(batch, False)

    def _add(self, lines: Iterable[PolicyLine], check: bool) -> None:
        units, subtrees = self._units, self._subtrees
        added = 0
        for line in lines:
            if check:
                check_line(line)
            key, perm, scope, win, _ = line
            prefix, bound = scope_parts(scope)
            if bound is not None:
                added += _insert(subtrees, key, perm, (prefix, bound, win))
            else:
                added += _insert(units, key, perm, win)
        self._count += added

    def remove_lines(self, lines: Iterable[PolicyLine], *, check: bool = True) -> None:
        """Remove exactly these lines (absent ones are ignored)."""
        batch = list(lines)
        if check:
            for line in batch:
                check_line(line)
        for key, perm, scope, win, _ in batch:
            prefix, bound = scope_parts(scope)
            if bound is not None:
                self._count -= _delete(self._subtrees, key, perm, (prefix, bound, win))
            else:
                self._count -= _delete(self._units, key, perm, win)

    def add_role_permissions(self, lines: Iterable[RoleLine]) -> None:
        batch = list(lines)
        for line in batch:
            check_role_line(line)
        self._roles.update((line[0], line[1]) for line in batch)

    def remove_role_permissions(self, lines: Iterable[RoleLine]) -> None:
        for line in lines:
            self._roles.discard((line[0], line[1]))

    def role_permissions(self) -> set[RoleLine]:
        return set(self._roles)

    def lines(self) -> set[PolicyLine]:
        """Every policy line, rebuilt from the index (O(N); for tests and reconciliation)."""
        out: set[PolicyLine] = set()
        for unit, by_perm in self._units.items():
            for perm, wins in by_perm.items():
                out.update((unit, perm, unit, win, ALLOW) for win in wins)
        for bucket, by_perm_p in self._subtrees.items():
            for perm, entries in by_perm_p.items():
                out.update(
                    (bucket, perm, subtree_scope(prefix, _FLOOR_OF_LENGTH[bound]), win, ALLOW)
                    for prefix, bound, win in entries
                )
        return out

    # -- decisions -------------------------------------------------------------------------

    def decide(self, node: str, item: str, act: str, role: str, now: str) -> tuple[bool, int | None]:
        """Same question and answer as CasbinAuthority.decide."""
        perm = f"{item}|{act}"
        if role and (role, perm) not in self._roles:
            return False, None
        by_perm = self._units.get(node)
        if by_perm is not None:
            for win in by_perm.get(perm, ()):
                if win[:20] <= now < win[21:41]:
                    return True, int(win[42:])
        by_perm_p = self._subtrees.get(node[:BUCKET_LENGTH])
        if by_perm_p is not None:
            for prefix, bound, win in by_perm_p.get(perm, ()):
                # in_scope(node, scope) is exactly startswith, and no longer than the floor's codes
                if win[:20] <= now < win[21:41] and node.startswith(prefix) and len(node) <= bound:
                    return True, int(win[42:])
        return False, None

    def matrix(
        self, codes: Iterable[str], now: str, items: Iterable[str], role: str = ""
    ) -> dict[str, set[tuple[str, str]]]:
        """Every unit's allowed (item, act) pairs at ``now``: a county's whole authority view.

        Codes are visited parents first: below township level a unit inherits what its parent's
        subtree lines cover (as far as their floors reach) and adds its own (computed on the side
        for a parent not asked for).
        """
        pairs = {perm_of(item, act): (item, act) for item in items for act in ACTIONS}
        if role:
            pairs = {p: pair for p, pair in pairs.items() if (role, p) in self._roles}
        wanted = frozenset(pairs)
        by_prefix: dict[str, dict[str, Reach]] = {}
        inherited: dict[str, Reach] = {}
        out: dict[str, set[tuple[str, str]]] = {}
        for code in sorted(set(codes), key=len):
            reach = self._subtree_reach(code, now, wanted, by_prefix, inherited)
            perms = {perm for perm, bound in reach.items() if len(code) <= bound}
            by_perm = self._units.get(code)
            if by_perm is not None:
                for perm, wins in by_perm.items():
                    if perm in wanted and perm not in perms:
                        for win in wins:
                            if win[:20] <= now < win[21:41]:
                                perms.add(perm)
                                break
            out[code] = {pairs[p] for p in perms}
        return out

    def _subtree_reach(
        self,
        code: str,
        now: str,
        wanted: frozenset[str],
        by_prefix: dict[str, dict[str, Reach]],
        memo: dict[str, Reach],
    ) -> Reach:
        """perm → the longest code reached, over the subtree lines (of ``code`` or an ancestor) in its
        bucket that cover ``code``'s subtree at ``now``."""
        found = memo.get(code)
        if found is not None:
            return found
        bucket = code[:BUCKET_LENGTH]
        groups = by_prefix.get(bucket)
        if groups is None:
            groups = by_prefix[bucket] = self._effective_by_prefix(bucket, now, wanted)
        reach: Reach = {}
        if len(code) <= BUCKET_LENGTH:  # the bucket itself: every prefix of it counts
            for prefix, perms in groups.items():
                if code.startswith(prefix):
                    _widen(reach, perms)
        else:
            parent = code[: 12 if len(code) > 12 else BUCKET_LENGTH]
            _widen(reach, self._subtree_reach(parent, now, wanted, by_prefix, memo))
            _widen(reach, groups.get(code, {}))
        memo[code] = reach
        return reach

    def _effective_by_prefix(self, bucket: str, now: str, wanted: frozenset[str]) -> dict[str, Reach]:
        """prefix → perm → longest code reached, of the bucket's subtree lines in force at ``now``."""
        groups: dict[str, Reach] = {}
        for perm, entries in self._subtrees.get(bucket, _NO_PATTERNS).items():
            if perm in wanted:
                for prefix, bound, win in entries:
                    if win[:20] <= now < win[21:41]:
                        _widen(groups.setdefault(prefix, {}), {perm: bound})
        return groups


Reach = dict[str, int]


def _widen(reach: Reach, more: Reach) -> None:
    for perm, bound in more.items():
        if bound > reach.get(perm, 0):
            reach[perm] = bound


def _insert(index: dict[str, dict[str, tuple[E, ...]]], key: str, perm: str, entry: E) -> int:
    """Add one entry (set semantics); 1 if it was new."""
    by_perm: dict[str, tuple[E, ...]] | None = index.get(key)
    if by_perm is None:
        by_perm = {}
        index[key] = by_perm
    entries: tuple[E, ...] | None = by_perm.get(perm)
    if entries is None:
        by_perm[perm] = (entry,)
    elif entry not in entries:
        by_perm[perm] = entries + (entry,)  # noqa: RUF005 (mypy rejects the unpacking form with a TypeVar)
    else:
        return 0
    return 1


def _delete(index: dict[str, dict[str, tuple[E, ...]]], key: str, perm: str, entry: E) -> int:
    """Remove one entry, pruning what empties; 1 if it was there."""
    by_perm = index.get(key)
    if by_perm is None or entry not in by_perm.get(perm, ()):
        return 0
    rest = tuple(e for e in by_perm[perm] if e != entry)
    if rest:
        by_perm[perm] = rest
    else:
        del by_perm[perm]
        if not by_perm:
            del index[key]
    return 1
