"""Deterministic benchmark worlds: real division codes, generated grids, realistic grants."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from fuquan.authority.engine.lines import (
    ACTIONS,
    GrantSpec,
    PolicyLine,
    RoleLine,
    bucket_index,
    chain_window,
    compile_grant,
    role_line,
    statutory_lines,
)
from fuquan.tenants.divisions import load_province, with_grids

CST = timezone(timedelta(hours=8))  # a date means local midnight in Asia/Shanghai
ITEMS = tuple(f"HRSS-{n:02d}" for n in range(1, 21))
ROLE_PERMS = {
    "grid_specialist": [(i, "accept") for i in ITEMS],
    "village_agent": [(i, "accept") for i in ITEMS],
    "window_clerk": [(i, "accept") for i in ITEMS],
    "approver": [(i, "decide") for i in ITEMS],
    "supervisor": [],
}
ROLES = tuple(ROLE_PERMS)


def day(y: int, m: int, d: int) -> datetime:
    return datetime(y, m, d, tzinfo=CST)


@dataclass
class World:
    """A tenant's units, grants and role permissions, and the policy lines compiled from them."""

    root: str
    codes: list[str]
    grants: dict[int, GrantSpec] = field(default_factory=dict)
    lines_by_grant: dict[int, list[PolicyLine]] = field(default_factory=dict)
    role_lines: list[RoleLine] = field(default_factory=list)
    bucket_codes_under: Callable[[str], list[str]] = field(init=False, repr=False)

    def add(self, grant: GrantSpec) -> None:
        self.grants[grant.id] = grant

    def compile(self) -> None:
        buckets = bucket_index(self.codes)
        self.bucket_codes_under = buckets
        self.lines_by_grant = {
            g.id: compile_grant(g, chain_window(g, self.grants), buckets) for g in self.grants.values()
        }
        self.role_lines = [role_line(r, i, a) for r, perms in ROLE_PERMS.items() for i, a in perms]

    def p_lines(self) -> list[PolicyLine]:
        out = statutory_lines(self.root, ITEMS)
        for lines in self.lines_by_grant.values():
            out.extend(lines)
        return out


def _by_level(codes: list[str]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {n: [] for n in (2, 4, 6, 9, 12, 15)}
    for c in codes:
        out[len(c)].append(c)
    return out


def largest_county(codes: list[str]) -> str:
    counts: dict[str, int] = {}
    for c in codes:
        if len(c) >= 6:
            counts[c[:6]] = counts.get(c[:6], 0) + 1
    return max(sorted(counts), key=lambda k: counts[k])


def ningxia(seed: int = 64) -> World:
    """2021 devolution: 20 items' acceptance to every township (subtree), decision of 8 items to
    townships, and one pilot county taking acceptance down to villages/communities and grids."""
    rng = random.Random(seed)  # noqa: S311 (deterministic benchmark data)
    world = World("64", [d.code for d in with_grids(load_province("64"))])
    levels = _by_level(world.codes)
    start = day(2021, 6, 1)
    ids = iter(range(1, 10**9))
    accept_of: dict[tuple[str, str], int] = {}
    for township in levels[9]:
        for item in ITEMS:
            gid = next(ids)
            accept_of[township, item] = gid
            world.add(GrantSpec(gid, item, "accept", township, True, start))
        for item in ITEMS[:8]:
            world.add(GrantSpec(next(ids), item, "decide", township, False, start))
    pilot = largest_county(world.codes)
    pilot_start, pilot_end = day(2022, 1, 1), day(2027, 1, 1)
    for code in (c for c in world.codes if c.startswith(pilot) and len(c) >= 12):
        items = ITEMS[:16] if len(code) == 12 else ITEMS[:8]
        for item in items:
            gid = next(ids)
            revoked = day(2025, rng.randint(1, 12), 1) if rng.random() < 0.03 else None
            until = pilot_end if rng.random() < 0.5 else None
            world.add(
                GrantSpec(gid, item, "accept", code, False, pilot_start, until, revoked, accept_of[code[:9], item])
            )
    world.compile()
    return world


def shandong(seed: int = 37) -> World:
    """A province-wide baseline plus fine-grained village and grid exceptions: ~1M lines."""
    rng = random.Random(seed)  # noqa: S311 (deterministic benchmark data)
    world = World("37", [d.code for d in with_grids(load_province("37"))])
    levels = _by_level(world.codes)
    ids = iter(range(1, 10**9))
    base = day(2022, 1, 1)
    for item in ITEMS[:10]:  # province-wide acceptance: one line per bucket
        world.add(GrantSpec(next(ids), item, "accept", "37", True, base))
    for county in levels[6]:
        for item in ITEMS:
            world.add(GrantSpec(next(ids), item, "decide", county, False, base))
    accept_of: dict[tuple[str, str], int] = {}
    for township in levels[9]:
        for item in ITEMS[10:]:
            gid = next(ids)
            accept_of[township, item] = gid
            world.add(GrantSpec(gid, item, "accept", township, True, base))
        for item in ITEMS[:8]:
            world.add(GrantSpec(next(ids), item, "decide", township, False, base))
    # a small palette of instants, as real data would have (dates of instruments)
    starts = [day(2023, m, 1) for m in range(1, 13)] + [day(2024, m, 1) for m in range(1, 13)]
    ends = [day(2026, m, 1) for m in range(1, 13)] + [day(2027, m, 1) for m in range(1, 13)]
    revokes = [day(2023, m, 15) for m in range(1, 13)] + [day(2025, m, 15) for m in range(1, 13)]
    for code, per_unit in [(c, 4) for c in levels[12]] + [(c, 2) for c in levels[15]]:
        for item in rng.sample(ITEMS, per_unit):
            act = ACTIONS[rng.random() < 0.5]
            parent = accept_of.get((code[:9], item)) if act == "accept" else None
            r = rng.random()
            until = rng.choice(ends) if r < 0.2 else None
            revoked = rng.choice(revokes) if r > 0.95 else None  # some before valid_from
            world.add(GrantSpec(next(ids), item, act, code, False, rng.choice(starts), until, revoked, parent))
    world.compile()
    return world


DATASETS = {"ningxia": ningxia, "shandong": shandong}
