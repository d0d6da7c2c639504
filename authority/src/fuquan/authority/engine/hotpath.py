"""Compiled hot path: the same policy lines as the Casbin enforcer, in plain dicts.

A decision walks the node's ≤6 ancestor prefixes instead of evaluating a matcher per line, and
reproduces Casbin's answer exactly, including its bucket semantics: a subtree line above township
level only reaches units in the buckets it was written for.

Index (scope first, so a bulk matrix gets every perm of a unit in one lookup):

- ``_local[scope][perm]`` → entries ``(lo, hi, grant_id)`` — unit lines and subtree lines at
  township level or below (their bucket is implied by the scope).
- ``_wide["CODE*"][perm][entry]`` → buckets — subtree lines above township level, one line per
  bucket; the bucket set gives set semantics per line, so removing a grant's lines is exact.

Entries are tuples (not sets): nearly every (scope, perm) holds one entry, and at ~1M lines a
one-element set costs 4x a tuple.
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
    check_line,
    check_role_line,
    perm_of,
    window_field,
)

Entry = tuple[str, str, int]
_HI = slice(INSTANT_WIDTH + 1, 2 * INSTANT_WIDTH + 1)
_LOCAL_PATTERN_LENGTHS = (9, 12, 15)
_WIDE_PATTERN_LENGTHS = (2, 4, 6)


class CompiledAuthority:
    """Dict-based decisions and bulk matrices over a tenant's policy lines."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._local: dict[str, dict[str, tuple[Entry, ...]]] = {}
        self._wide: dict[str, dict[str, dict[Entry, set[str]]]] = {}
        self._roles: set[RoleLine] = set()
        self._strings: dict[str, str] = {}  # instants repeat across lines: keep one copy each
        self._count = 0

    def __len__(self) -> int:
        """Number of policy lines held."""
        return self._count

    # -- changes ---------------------------------------------------------------------------

    def load(self, p_lines: Iterable[PolicyLine], g_lines: Iterable[RoleLine] = (), *, check: bool = True) -> None:
        """Replace everything with these lines."""
        self._reset()
        self._add(p_lines, check)
        self.add_role_permissions(g_lines)

    def add_lines(self, lines: Iterable[PolicyLine]) -> None:
        """Add policy lines (lines form a set: adding a present one changes nothing)."""
        batch = list(lines)
        for line in batch:
            check_line(line)
        self._add(batch, False)

    def _entry(self, win: str) -> Entry:
        s = self._strings
        lo, hi = win[:INSTANT_WIDTH], win[_HI]
        return (s.setdefault(lo, lo), s.setdefault(hi, hi), int(win[2 * INSTANT_WIDTH + 2 :]))

    def _add(self, lines: Iterable[PolicyLine], check: bool) -> None:
        local, wide = self._local, self._wide
        for line in lines:
            if check:
                check_line(line)
            bucket, perm, scope, win, _ = line
            entry = self._entry(win)
            if scope[-1] == "*" and len(scope) <= BUCKET_LENGTH:
                buckets = wide.setdefault(scope, {}).setdefault(perm, {}).setdefault(entry, set())
                if bucket not in buckets:
                    buckets.add(bucket)
                    self._count += 1
            else:
                by_perm = local.get(scope)
                if by_perm is None:
                    by_perm = local[scope] = {}
                entries = by_perm.get(perm, ())
                if entry not in entries:
                    by_perm[perm] = (*entries, entry)
                    self._count += 1

    def remove_lines(self, lines: Iterable[PolicyLine]) -> None:
        """Remove exactly these lines (absent ones are ignored)."""
        batch = list(lines)
        for line in batch:
            check_line(line)
        for bucket, perm, scope, win, _ in batch:
            entry = self._entry(win)
            if scope[-1] == "*" and len(scope) <= BUCKET_LENGTH:
                w_perms = self._wide.get(scope)
                by_entry = w_perms.get(perm) if w_perms else None
                buckets = by_entry.get(entry) if by_entry else None
                if not buckets or bucket not in buckets:
                    continue
                buckets.discard(bucket)
                self._count -= 1
                if not buckets:
                    del by_entry[entry]  # type: ignore[union-attr]
                    if not by_entry:
                        del w_perms[perm]  # type: ignore[union-attr]
                        if not w_perms:
                            del self._wide[scope]
            else:
                by_perm = self._local.get(scope)
                entries = by_perm.get(perm, ()) if by_perm else ()
                if entry not in entries:
                    continue
                self._count -= 1
                rest = tuple(e for e in entries if e != entry)
                if rest:
                    by_perm[perm] = rest  # type: ignore[index]
                else:
                    del by_perm[perm]  # type: ignore[union-attr]
                    if not by_perm:
                        del self._local[scope]

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
            bucket = scope.rstrip("*")[:BUCKET_LENGTH]
            for perm, entries in by_perm.items():
                out.update((bucket, perm, scope, window_field(*e), ALLOW) for e in entries)
        for scope, w_perms in self._wide.items():
            for perm, by_entry in w_perms.items():
                for e, buckets in by_entry.items():
                    win = window_field(*e)
                    out.update((b, perm, scope, win, ALLOW) for b in buckets)
        return out

    # -- decisions -------------------------------------------------------------------------

    def decide(self, node: str, item: str, act: str, role: str, now: str) -> tuple[bool, int | None]:
        """Same question and answer as CasbinAuthority.decide."""
        perm = f"{item}|{act}"
        if role and (role, perm) not in self._roles:
            return False, None
        local = self._local
        by_perm = local.get(node)
        if by_perm is not None:
            for lo, hi, gid in by_perm.get(perm, ()):
                if lo <= now < hi:
                    return True, gid
        n = len(node)
        for k in _LOCAL_PATTERN_LENGTHS:
            if k > n:
                break
            by_perm = local.get(node[:k] + "*")
            if by_perm is not None:
                for lo, hi, gid in by_perm.get(perm, ()):
                    if lo <= now < hi:
                        return True, gid
        wide = self._wide
        if wide:
            bucket = node[:BUCKET_LENGTH]
            for k in _WIDE_PATTERN_LENGTHS:
                if k > n:
                    break
                w_perms = wide.get(node[:k] + "*")
                if w_perms is None:
                    continue
                by_entry = w_perms.get(perm)
                if by_entry is None:
                    continue
                for (lo, hi, gid), buckets in by_entry.items():
                    if lo <= now < hi and bucket in buckets:
                        return True, gid
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
                for perm, by_entry in w_perms.items():
                    if perm in wanted and perm not in acc:
                        for (lo, hi, _), buckets in by_entry.items():
                            if lo <= now < hi and code in buckets:
                                acc.add(perm)
                                break
            perms = frozenset(acc)
        if n >= BUCKET_LENGTH:
            by_perm = self._local.get(code + "*")
            if by_perm is not None:
                perms = perms | _effective(by_perm, now, wanted)
        memo[code] = perms
        return perms


def _effective(by_perm: dict[str, tuple[Entry, ...]], now: str, wanted: frozenset[str]) -> frozenset[str]:
    return frozenset(
        perm
        for perm, entries in by_perm.items()
        if perm in wanted and any(lo <= now < hi for lo, hi, _ in entries)
    )
