"""Grants (赋权) compiled to Casbin policy lines.

A policy line is ``(key, perm, scope, win, eft)`` (the model is model.conf):

- ``key`` and ``perm`` are the two keyed fields of Casbin's FastPolicy index. A unit-scope grant
  is one line keyed by its unit: ``(unit, perm, unit, win, "allow")``. A subtree grant is keyed
  by bucket — ``code[:9]``: the township, or the unit itself above township level — one line
  ``(unit[:9], perm, "UNIT*", win, "allow")`` at township level or below, else one line per unit
  code of length <= 9 inside the subtree (the unit included). A decision looks up the node's own
  key (its unit lines), then, below township level, its bucket (the subtree lines that can reach
  it), so nothing large is ever scanned: ~1M lines are mostly unit lines of villages and grids.
- ``perm`` is ``"ITEM|act"``: the action folded into the keyed field (measured faster).
- ``scope`` is the unit code (that unit only), ``"CODE*"`` (the whole subtree) or ``"CODE*N"`` (the
  subtree down to codes of length N: the item's floor for the action, DESIGN §6.1 "floors bind coverage
  too" — a county subtree grant of an item whose accept floor is the township is ``"640202*9"`` and
  covers the townships, never their villages and grids). The matcher function is :func:`in_scope`.
- ``win`` is ``"LO/HI#GRANT_ID"``: the grant chain's window plus the grant id, which makes every
  line unique per grant (FastPolicy keeps lines in sets) and lets a matched line name its grant.

Instants are whole seconds formatted ``%Y-%m-%dT%H:%M:%SZ``, so string order is time order.
Grant id 0 is reserved for the tenant root's statutory authority. A grant to a unit below its
item's floor covers nothing (delegation refuses one; the engine never lets one through either).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

PolicyLine = tuple[str, str, str, str, str]
RoleLine = tuple[str, str]
BucketCodes = Callable[[str], Iterable[str]]

ACTIONS: tuple[str, str] = ("accept", "decide")
ALLOW = "allow"
FOREVER = "9999-12-31T23:59:59Z"
BEGINNING = "0001-01-01T00:00:00Z"
INSTANT_WIDTH = len(FOREVER)
BUCKET_LENGTH = 9
CODE_LENGTHS: tuple[int, ...] = (2, 4, 6, 9, 12, 15)
STATUTORY_GRANT_ID = 0
GRID_LEVEL = 6
_HI_START = INSTANT_WIDTH + 1
_ID_START = 2 * INSTANT_WIDTH + 2


def is_code(code: str) -> bool:
    """A division code: 2, 4, 6, 9, 12 or 15 ASCII digits."""
    return len(code) in CODE_LENGTHS and code.isascii() and code.isdigit()


@dataclass(frozen=True, slots=True)
class GrantSpec:
    """What the engine needs of a grant: who, what, where, when, and its parent in the chain."""

    id: int
    item: str
    action: str
    unit: str
    subtree: bool
    valid_from: datetime
    valid_until: datetime | None = None
    revoked_at: datetime | None = None
    parent_id: int | None = None
    floor: int = GRID_LEVEL  # the lowest level that may hold item/action (1 province … 6 grid: no limit)

    def __post_init__(self) -> None:
        for name in ("valid_from", "valid_until", "revoked_at"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"grant {self.id}: {name} must be timezone-aware")
        if self.id <= STATUTORY_GRANT_ID:
            raise ValueError(f"grant ids are positive (0 is the root's statutory authority), not {self.id}")
        if self.action not in ACTIONS:
            raise ValueError(f"grant {self.id}: unknown action {self.action!r}")
        if not is_code(self.unit):
            raise ValueError(f"grant {self.id}: unit {self.unit!r} is not a division code")
        if not self.item or any(c in self.item for c in "|*,"):
            raise ValueError(f"grant {self.id}: item {self.item!r} may not contain '|', '*' or ','")
        if not 1 <= self.floor <= GRID_LEVEL:
            raise ValueError(f"grant {self.id}: floor {self.floor} is not a level 1-{GRID_LEVEL}")

    @property
    def perm(self) -> str:
        return perm_of(self.item, self.action)


def floor_length(floor: int) -> int:
    """The longest code a unit at or above ``floor`` has (level 4, township: 9)."""
    return CODE_LENGTHS[floor - 1]


def subtree_scope(unit: str, floor: int = GRID_LEVEL) -> str:
    """``"CODE*"``, or ``"CODE*N"`` when the floor stops coverage above the grids."""
    bound = floor_length(floor)
    return f"{unit}*" if bound == CODE_LENGTHS[-1] else f"{unit}*{bound}"


def scope_parts(scope: str) -> tuple[str, int | None]:
    """(code, longest covered code length) of a scope; ``None`` for a unit scope (the code alone)."""
    star = scope.find("*")
    if star < 0:
        return scope, None
    bound = scope[star + 1 :]
    return scope[:star], int(bound) if bound else CODE_LENGTHS[-1]


def in_scope(node: str, scope: str) -> bool:
    """Casbin matcher function: ``node`` is the scope's unit, or (for ``CODE*`` / ``CODE*N``) inside
    its subtree and not below the floor (no longer than N)."""
    star = scope.find("*")
    if star < 0:
        return node == scope
    if not node.startswith(scope[:star]):
        return False
    return star + 1 == len(scope) or len(node) <= int(scope[star + 1 :])


def perm_of(item: str, act: str) -> str:
    """The keyed ``perm`` field: ``"ITEM|act"``."""
    return f"{item}|{act}"


@lru_cache(maxsize=65536)
def instant(dt: datetime) -> str:
    """Fixed-width UTC instant of an aware datetime, floored to the second."""
    if dt.utcoffset() is None:
        raise ValueError("instant() needs a timezone-aware datetime")
    u = dt.astimezone(UTC)
    # strftime("%Y") does not zero-pad years < 1000 on glibc; fixed width is what makes str order work
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"


def bucket_of(code: str) -> str:
    """The bucket of a unit: its township, or itself above township level."""
    return code[:BUCKET_LENGTH]


def chain_window(grant: GrantSpec, grants_by_id: Mapping[int, GrantSpec]) -> tuple[str, str]:
    """[lo, hi) during which the grant and every ancestor are in force and unrevoked.

    Effective-at-t is a conjunction of half-open intervals along the chain, i.e. their
    intersection. lo >= hi means never effective (e.g. revoked before valid_from).
    """
    lo, hi = BEGINNING, FOREVER
    seen: set[int] = set()
    g: GrantSpec | None = grant
    while g is not None:
        if g.id in seen:
            raise ValueError(f"grant {grant.id}: parent chain has a cycle at {g.id}")
        seen.add(g.id)
        lo = max(lo, instant(g.valid_from))
        if g.valid_until is not None:
            hi = min(hi, instant(g.valid_until))
        if g.revoked_at is not None:
            hi = min(hi, instant(g.revoked_at))
        if g.parent_id is None:
            break
        parent_id = g.parent_id
        g = grants_by_id.get(parent_id)
        if g is None:
            raise KeyError(f"grant {grant.id}: ancestor grant {parent_id} is unknown")
    return lo, hi


def window_field(lo: str, hi: str, grant_id: int) -> str:
    return f"{lo}/{hi}#{grant_id}"


def parse_window(win: str) -> tuple[str, str, int]:
    """(lo, hi, grant_id) of a ``win`` field; ValueError unless it is exactly what we write."""
    lo, hi = win[:INSTANT_WIDTH], win[_HI_START : _ID_START - 1]
    gid = int(win[_ID_START:])
    if window_field(lo, hi, gid) != win or not lo < hi:
        raise ValueError(f"malformed window field {win!r}")
    return lo, hi, gid


def grant_id_of(win: str) -> int:
    return int(win[_ID_START:])


def in_window(now: str, win: str) -> bool:
    """Casbin matcher function: LO <= now < HI (fixed-width instants compare as strings)."""
    return win[:INSTANT_WIDTH] <= now < win[_HI_START : _ID_START - 1]


def compile_grant(grant: GrantSpec, window: tuple[str, str], bucket_codes_under: BucketCodes) -> list[PolicyLine]:
    """The policy lines of one grant for its chain window (none if the window is empty).

    ``bucket_codes_under(code)`` yields the unit codes of length <= 9 inside ``code``'s subtree;
    it is only called for subtree grants above township level, which need one line per bucket —
    so a township or county created later is covered by them once they are recompiled.
    """
    lo, hi = window
    bound = floor_length(grant.floor)
    if lo >= hi or len(grant.unit) > bound:
        return []
    win = window_field(lo, hi, grant.id)
    unit, perm = grant.unit, grant.perm
    if not grant.subtree:
        return [(unit, perm, unit, win, ALLOW)]
    scope = subtree_scope(unit, grant.floor)
    if len(unit) >= BUCKET_LENGTH:
        return [(bucket_of(unit), perm, scope, win, ALLOW)]
    # a bucket's line reaches the codes filed under it: below township level only the bucket itself,
    # so buckets longer than the floor's codes would never match
    buckets = {c for c in bucket_codes_under(unit) if len(c) <= min(BUCKET_LENGTH, bound) and c.startswith(unit)}
    buckets.add(unit)
    return [(b, perm, scope, win, ALLOW) for b in sorted(buckets)]


def compile_grants(
    grants: Iterable[GrantSpec],
    grants_by_id: Mapping[int, GrantSpec],
    bucket_codes_under: BucketCodes,
) -> dict[int, list[PolicyLine]]:
    """The grant → policy lines table for some grants (each compiled on its chain window)."""
    return {g.id: compile_grant(g, chain_window(g, grants_by_id), bucket_codes_under) for g in grants}


def children_index(grants: Iterable[GrantSpec]) -> dict[int, list[int]]:
    """parent id → ids of the grants derived directly from it."""
    children: dict[int, list[int]] = {}
    for g in grants:
        if g.parent_id is not None:
            children.setdefault(g.parent_id, []).append(g.id)
    return children


def chain_descendants(grant_id: int, children: Mapping[int, Iterable[int]]) -> list[int]:
    """The grant and every grant derived from it: what a revocation must recompile."""
    out, todo = [], [grant_id]
    while todo:
        gid = todo.pop()
        out.append(gid)
        todo.extend(children.get(gid, ()))
    return out


def statutory_lines(root: str, items: Iterable[str], actions: Iterable[str] = ACTIONS) -> list[PolicyLine]:
    """The tenant root's statutory authority (法定本级行使): every item, for itself only, forever."""
    win = window_field(BEGINNING, FOREVER, STATUTORY_GRANT_ID)
    return [(root, perm_of(item, act), root, win, ALLOW) for item in items for act in actions]


def role_line(role: str, item: str, act: str) -> RoleLine:
    """g-line granting post authority (岗位权限) for item|act to a role."""
    line = (role, perm_of(item, act))
    check_role_line(line)
    return line


def check_role_line(line: RoleLine) -> None:
    """Role names may not contain '|', so no role can alias a perm and g-links never chain."""
    role, perm = line
    if not role or "|" in role or perm.count("|") != 1:
        raise ValueError(f"malformed role line {line!r}")


_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", re.ASCII)
_PERM = re.compile(r"[^|*,]+\|(?:accept|decide)")
# perms and instants repeat across ~1M lines: validate each distinct value once (bounded)
_good_perms: set[str] = set()
_good_instants: set[str] = set()
_MEMO_LIMIT = 100_000


def _memo_ok(value: str, good: set[str], pattern: re.Pattern[str]) -> bool:
    if value in good:
        return True
    if pattern.fullmatch(value) is None:
        return False
    if len(good) < _MEMO_LIMIT:
        good.add(value)
    return True


def check_line(line: PolicyLine) -> None:
    """ValueError unless the line has exactly the shape compile_grant writes.

    Both engines refuse anything else, so they cannot disagree over odd lines (a pattern in a
    keyed field, a key the scope can never be looked up under, a deny line the effect ignores).
    """
    if len(line) != 5:
        raise ValueError(f"policy line needs 5 fields: {line!r}")
    key, perm, scope, win, eft = line
    code, bound = _checked_scope(scope)
    gid = win[_ID_START:]
    ok = (
        eft == ALLOW
        and is_code(code)
        and is_code(key)
        and _memo_ok(perm, _good_perms, _PERM)
        and win[INSTANT_WIDTH:_HI_START] == "/"
        and win[_ID_START - 1 : _ID_START] == "#"
        and gid.isascii()
        and gid.isdigit()
        and (gid == "0" or gid[0] != "0")  # so that the field round-trips through int()
        and _memo_ok(win[:INSTANT_WIDTH], _good_instants, _INSTANT)
        and _memo_ok(win[_HI_START : _ID_START - 1], _good_instants, _INSTANT)
        and win[:INSTANT_WIDTH] < win[_HI_START : _ID_START - 1]
    )
    if ok:
        if bound is None:
            ok = key == code
        elif len(code) >= BUCKET_LENGTH:
            ok = key == code[:BUCKET_LENGTH] and len(code) <= bound
        else:
            ok = len(key) <= min(BUCKET_LENGTH, bound) and key.startswith(code)
    if not ok:
        raise ValueError(f"malformed policy line {line!r}")


def _checked_scope(scope: str) -> tuple[str, int | None]:
    """(code, bound) of a scope written by compile_grant; ("", None) for anything else (then refused)."""
    star = scope.find("*")
    if star < 0:
        return scope, None
    rest = scope[star + 1 :]
    if rest and not (rest.isascii() and rest.isdigit() and int(rest) in CODE_LENGTHS[:-1] and rest[0] != "0"):
        return "", None
    return scope[:star], int(rest) if rest else CODE_LENGTHS[-1]


def bucket_index(codes: Iterable[str]) -> Callable[[str], list[str]]:
    """``bucket_codes_under`` over a known set of unit codes (only codes of length <= 9 are kept)."""
    under: dict[str, list[str]] = {}
    for code in sorted({c for c in codes if len(c) <= BUCKET_LENGTH}):
        for n in CODE_LENGTHS:
            if n > len(code):
                break
            under.setdefault(code[:n], []).append(code)

    def bucket_codes_under(code: str) -> list[str]:
        return under.get(code, [code])

    return bucket_codes_under


@contextmanager
def bulk_load() -> Iterator[None]:
    """Pause the cyclic garbage collector while building ~1M long-lived objects.

    Every allocation-triggered collection would rescan everything built so far (halves load
    time at 1M lines); the previous state is restored afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
