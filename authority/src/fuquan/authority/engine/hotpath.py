"""Compiled hot path: the same policy lines as the Casbin enforcer, in plain dicts.

A decision walks the node's ≤6 ancestor prefixes instead of evaluating a matcher per line, and
reproduces Casbin's answer exactly, including its key semantics: a subtree line above township
level only reaches units in the buckets it was written for.

Index (scope first, so a bulk matrix gets every perm of a unit in one lookup):

- ``_local[scope][perm]`` → ``win`` fields — unit lines and subtree lines at township level or
  below (their key is implied by the scope).
- ``_wide["CODE*"][perm][win]`` → buckets — subtree lines above township level, one line per
  bucket; the bucket set gives set semantics per line, so removing a grant's lines is exact.

Entries are the lines' own ``win`` strings (shared with the Casbin lines, parsed by slicing when
asked), held in tuples: nearly every (scope, perm) has one, and a one-element set costs 4x.
"""

from __future__ import annotations

from collections.abc import Iterable

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
)

# win = "LO/HI#ID": LO is win[:20], HI is win[21:41], ID is win[42:]; literal slices are fastest
assert INSTANT_WIDTH == 20
_LOCAL_PATTERN_LENGTHS = (9, 12, 15)
_WIDE_PATTERN_LENGTHS = (2, 4, 6)


class CompiledAuthority:
    """Dict-based decisions and bulk matrices over a tenant's policy lines."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._local: dict[str, dict[str, tuple[str, ...]]] = {}
        self._wide: dict[str, dict[str, dict[str, set[str]]]] = {}
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
        local, wide = self._local, self._wide
        added = 0
        for line in lines:
            if check:
                check_line(line)
            key, perm, scope, win, _ = line
            if scope[-1] == "*" and len(scope) <= BUCKET_LENGTH:
                buckets = wide.setdefault(scope, {}).setdefault(perm, {}).setdefault(win, set())
                if key not in buckets:
                    buckets.add(key)
                    added += 1
            else:
                by_perm = local.get(scope)
                if by_perm is None:
                    by_perm = local[scope] = {}
                wins = by_perm.get(perm)
                if wins is None:
                    by_perm[perm] = (win,)
                    added += 1
                elif win not in wins:
                    by_perm[perm] = (*wins, win)
                    added += 1
        self._count += added

    def remove_lines(self, lines: Iterable[PolicyLine], *, check: bool = True) -> None:
        """Remove exactly these lines (absent ones are ignored)."""
        batch = list(lines)
        if check:
            for line in batch:
                check_line(line)
        for key, perm, scope, win, _ in batch:
            if scope[-1] == "*" and len(scope) <= BUCKET_LENGTH:
                self._remove_wide(key, perm, scope, win)
                continue
            by_perm = self._local.get(scope)
            wins = by_perm.get(perm, ()) if by_perm is not None else ()
            if by_perm is None or win not in wins:
                continue
            self._count -= 1
            rest = tuple(w for w in wins if w != win)
            if rest:
                by_perm[perm] = rest
            else:
                del by_perm[perm]
                if not by_perm:
                    del self._local[scope]

    def _remove_wide(self, key: str, perm: str, scope: str, win: str) -> None:
        w_perms = self._wide.get(scope)
        by_win = w_perms.get(perm) if w_perms is not None else None
        buckets = by_win.get(win) if by_win is not None else None
        if w_perms is None or by_win is None or buckets is None or key not in buckets:
            return
        self._count -= 1
        buckets.discard(key)
        if not buckets:
            del by_win[win]
            if not by_win:
                del w_perms[perm]
                if not w_perms:
                    del self._wide[scope]

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
        for scope, by_perm in self._local.items():
            key = scope[:BUCKET_LENGTH] if scope[-1] == "*" else scope
            for perm, wins in by_perm.items():
                out.update((key, perm, scope, win, ALLOW) for win in wins)
        for scope, w_perms in self._wide.items():
            for perm, by_win in w_perms.items():
                for win, buckets in by_win.items():
                    out.update((b, perm, scope, win, ALLOW) for b in buckets)
        return out

    # -- decisions -------------------------------------------------------------------------

    def decide(self, node: str, item: str, act: str, role: str, now: str) -> tuple[bool, int | None]:
        """Same question and answer as CasbinAuthority.decide."""
        perm = f"{item}|{act}"
        if role and (role, perm) not in self._roles:
            return False, None
        local = self._local
        by_perm = local.get(node)  # the node's own unit lines
        if by_perm is not None:
            for win in by_perm.get(perm, ()):
                if win[:20] <= now < win[21:41]:
                    return True, int(win[42:])
        n = len(node)
        for k in _LOCAL_PATTERN_LENGTHS:  # subtree lines from township level down
            if k > n:
                break
            by_perm = local.get(node[:k] + "*")
            if by_perm is not None:
                for win in by_perm.get(perm, ()):
                    if win[:20] <= now < win[21:41]:
                        return True, int(win[42:])
        wide = self._wide
        if wide:  # subtree lines above township level, if written for the node's bucket
            bucket = node[:BUCKET_LENGTH]
            for k in _WIDE_PATTERN_LENGTHS:
                if k > n:
                    break
                w_perms = wide.get(node[:k] + "*")
                if w_perms is None:
                    continue
                by_win = w_perms.get(perm)
                if by_win is None:
                    continue
                for win, buckets in by_win.items():
                    if win[:20] <= now < win[21:41] and bucket in buckets:
                        return True, int(win[42:])
        return False, None

    def matrix(
        self, codes: Iterable[str], now: str, items: Iterable[str], role: str = ""
    ) -> dict[str, set[tuple[str, str]]]:
        """Every unit's allowed (item, act) pairs at ``now``: a county's whole authority view.

        Codes are visited parents first; a unit inherits the perms its parent's subtree lines
        cover (computed on the side when the parent itself was not asked for).
        """
        pairs = {perm_of(item, act): (item, act) for item in items for act in ACTIONS}
        if role:
            pairs = {p: pair for p, pair in pairs.items() if (role, p) in self._roles}
        wanted = frozenset(pairs)
        subtree: dict[str, frozenset[str]] = {}
        out: dict[str, set[tuple[str, str]]] = {}
        for code in sorted(set(codes), key=len):
            perms = self._subtree_perms(code, now, wanted, subtree)
            by_perm = self._local.get(code)
            if by_perm is not None:
                perms = perms | _effective(by_perm, now, wanted)
            out[code] = {pairs[p] for p in perms}
        return out

    def _subtree_perms(
        self, code: str, now: str, wanted: frozenset[str], memo: dict[str, frozenset[str]]
    ) -> frozenset[str]:
        """Perms ``code`` holds through subtree lines of itself or its ancestors."""
        found = memo.get(code)
        if found is not None:
            return found
        n = len(code)
        if n > BUCKET_LENGTH:
            parent = code[: 12 if n > 12 else BUCKET_LENGTH]
            perms = self._subtree_perms(parent, now, wanted, memo)
        else:
            acc: set[str] = set()
            for k in _WIDE_PATTERN_LENGTHS:
                if k > n:
                    break
                w_perms = self._wide.get(code[:k] + "*")
                if w_perms is None:
                    continue
                for perm, by_win in w_perms.items():
                    if perm in wanted and perm not in acc:
                        for win, buckets in by_win.items():
                            if win[:20] <= now < win[21:41] and code in buckets:
                                acc.add(perm)
                                break
            perms = frozenset(acc)
        if n >= BUCKET_LENGTH:
            by_perm = self._local.get(code + "*")
            if by_perm is not None:
                perms = perms | _effective(by_perm, now, wanted)
        memo[code] = perms
        return perms


def _effective(by_perm: dict[str, tuple[str, ...]], now: str, wanted: frozenset[str]) -> frozenset[str]:
    return frozenset(
        perm for perm, wins in by_perm.items() if perm in wanted and any(w[:20] <= now < w[21:41] for w in wins)
    )
