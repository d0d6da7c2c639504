"""Authority engine benchmark: ``python -m fuquan.authority.engine.bench ningxia|shandong``.

Prints (and ``run_benchmark`` returns) JSON figures: sizes, load time, peak RSS, decision
latency through Casbin and through the hot path, a county matrix, applying a grant and a
revocation, and the Casbin/hot-path mismatch count over the sampled queries.
"""

from __future__ import annotations

import gc
import json
import random
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from fuquan.authority.engine.bench_data import DATASETS, ITEMS, ROLE_PERMS, ROLES, World, day, largest_county
from fuquan.authority.engine.facade import TenantAuthority
from fuquan.authority.engine.lines import (
    ACTIONS,
    GrantSpec,
    PolicyLine,
    chain_descendants,
    children_index,
    compile_grants,
    instant,
)

Query = tuple[str, str, str, str, str]
NOW = day(2026, 3, 2) + timedelta(hours=10)


def _queries(world: World, n: int, rng: random.Random) -> list[Query]:
    """Realistic questions: mostly villages and grids, now or in the past, with and without roles."""
    by_len: dict[int, list[str]] = {}
    for code in world.codes:
        by_len.setdefault(len(code), []).append(code)
    levels = [15, 12, 9, 6, 4, 2]
    weights = [50, 30, 12, 5, 2, 1]
    now = instant(NOW)
    past = [instant(day(y, m, 1)) for y in (2020, 2021, 2022, 2023, 2024, 2025) for m in (1, 6)]
    out = []
    for _ in range(n):
        node = rng.choice(by_len[rng.choices(levels, weights)[0]])
        role = rng.choice(("", "", *ROLES))
        at = now if rng.random() < 0.7 else rng.choice(past)
        out.append((node, rng.choice(ITEMS), rng.choice(ACTIONS), role, at))
    return out


Decide = Callable[[str, str, str, str, str], tuple[bool, int | None]]


def _no_decision(node: str, item: str, act: str, role: str, now: str) -> tuple[bool, int | None]:
    return False, None


def _latency(decide: Decide, queries: list[Query]) -> tuple[dict[str, float], list[bool]]:
    """Per-call latency percentiles (each call timed alone) and throughput (untimed loop)."""
    answers = []
    samples = []
    clock = time.perf_counter_ns
    for q in queries:
        t0 = clock()
        ok, _ = decide(*q)
        samples.append(clock() - t0)
        answers.append(ok)
    samples.sort()
    start = time.perf_counter()
    for q in queries:
        decide(*q)
    elapsed = time.perf_counter() - start
    figures = {
        "p50_us": round(samples[len(samples) // 2] / 1000, 2),
        "p99_us": round(samples[int(len(samples) * 0.99)] / 1000, 2),
        "max_us": round(samples[-1] / 1000, 1),
        "decisions_per_s": round(len(queries) / elapsed),
    }
    return figures, answers


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _apply_grant(world: World, authority: TenantAuthority, now: str) -> dict[str, Any]:
    """A county takes on deciding an item for its whole subtree (one line per bucket)."""
    county = largest_county(world.codes)
    item = ITEMS[-1]
    node = next(
        c
        for c in world.codes
        if c.startswith(county) and len(c) == 15 and not authority.decide(c, item, "decide", "", now, "casbin")[0]
    )
    before = False
    gid = max(world.grants) + 1
    grant = GrantSpec(gid, item, "decide", county, True, NOW - timedelta(days=1))
    world.add(grant)
    t0 = time.perf_counter()
    lines = compile_grants([grant], world.grants, world.bucket_codes_under)[gid]
    compiled = time.perf_counter()
    authority.apply(lines, [])
    applied = time.perf_counter()
    world.lines_by_grant[gid] = lines
    after = [authority.decide(node, item, "decide", "", now, e) for e in ("casbin", "hot")]
    return {
        "lines_added": len(lines),
        "compile_ms": round((compiled - t0) * 1000, 3),
        "apply_ms": round((applied - compiled) * 1000, 3),
        "reflected": (not before) and after[0] == after[1] == (True, gid),
    }


def _apply_revocation(world: World, authority: TenantAuthority, now: str) -> dict[str, Any]:
    """Revoke a township's subtree acceptance of an item: the grant and every grant derived from it."""
    children = children_index(world.grants.values())  # in the platform: an indexed query
    victim = world.grants[max(sorted(children), key=lambda k: len(children[k]))]
    at = NOW - timedelta(hours=1)
    node = next(c for c in world.codes if c.startswith(victim.unit) and len(c) == 15)
    earlier = instant(at - timedelta(days=30))
    history = authority.decide(node, victim.item, victim.action, "", earlier, "casbin")[0]
    t0 = time.perf_counter()
    affected = chain_descendants(victim.id, children)
    world.grants[victim.id] = replace(victim, revoked_at=at)
    removed: list[PolicyLine] = [line for gid in affected for line in world.lines_by_grant[gid]]
    recompiled = compile_grants((world.grants[gid] for gid in affected), world.grants, world.bucket_codes_under)
    added = [line for lines in recompiled.values() for line in lines]
    compiled = time.perf_counter()
    authority.apply(added, removed)
    applied = time.perf_counter()
    world.lines_by_grant.update(recompiled)
    after = [authority.decide(node, victim.item, victim.action, "", now, e)[0] for e in ("casbin", "hot")]
    past = [authority.decide(node, victim.item, victim.action, "", earlier, e)[0] for e in ("casbin", "hot")]
    return {
        "grants_revoked": len(affected),
        "lines_removed": len(removed),
        "lines_added": len(added),
        "recompile_ms": round((compiled - t0) * 1000, 3),
        "apply_ms": round((applied - compiled) * 1000, 3),
        "reflected": after == [False, False],
        "history_kept": history and past == [True, True],
    }


def run_benchmark(dataset: str, queries: int = 20_000, seed: int = 7) -> dict[str, Any]:
    """Build the dataset's policy, load it, measure it; returns the figures as a dict."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {sorted(DATASETS)}")
    t0 = time.perf_counter()
    world = DATASETS[dataset]()
    p_lines = world.p_lines()
    generate_s = time.perf_counter() - t0
    rss_before_load = _rss_mb()

    # The production path (AuthorityRegistry): the stored rows through Casbin's adapter, then the
    # hot path derived from what Casbin loaded.
    rows = [("p", *line) for line in p_lines] + [("g", *line) for line in world.role_lines]
    t0 = time.perf_counter()
    authority = TenantAuthority.from_store(rows)
    load_s = time.perf_counter() - t0
    del rows
    rss_loaded = _rss_mb()
    # everything loaded is long-lived: keep the collector from rescanning it (what a server does too)
    gc.collect()
    gc.freeze()
    try:
        figures = _measure(world, authority, queries, seed)
    finally:
        gc.unfreeze()

    return {
        "dataset": dataset,
        "units": len(world.codes),
        "grants": len(world.grants),
        "lines": len(p_lines),
        "role_lines": len(world.role_lines),
        "generate_and_compile_seconds": round(generate_s, 2),
        "load_seconds": round(load_s, 2),
        "rss_mb_before_load": rss_before_load,
        "peak_rss_mb_after_load": rss_loaded,
        "peak_rss_mb_at_end": _rss_mb(),
        **figures,
    }


def _measure(world: World, authority: TenantAuthority, queries: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 (deterministic benchmark data)
    asked = _queries(world, queries, rng)
    casbin_fig, casbin_ans = _latency(authority.casbin.decide, asked)
    hot_fig, hot_ans = _latency(authority.hot.decide, asked)
    mismatches = sum(a != b for a, b in zip(casbin_ans, hot_ans, strict=True))
    clock_fig, _ = _latency(_no_decision, asked)  # what the harness itself costs per call

    county = largest_county(world.codes)
    county_codes = [c for c in world.codes if c.startswith(county)]
    now = instant(NOW)
    rng.shuffle(county_codes)
    t0 = time.perf_counter()
    matrix = authority.matrix(county_codes, now, ITEMS)
    matrix_s = time.perf_counter() - t0
    # spot-check the matrix against single decisions
    spot = rng.sample(county_codes, min(300, len(county_codes)))
    matrix_mismatches = sum(
        ((item, act) in matrix[c]) != authority.hot.decide(c, item, act, "", now)[0]
        for c in spot
        for item in ITEMS
        for act in ACTIONS
    )

    return {
        "queries": len(asked),
        "allowed_fraction": round(sum(casbin_ans) / len(asked), 3),
        "casbin": casbin_fig,
        "hot": hot_fig,
        "mismatches": mismatches,
        "timing_overhead_p50_us": clock_fig["p50_us"],
        "matrix": {
            "county": county,
            "units": len(county_codes),
            "items": len(ITEMS),
            "actions": len(ACTIONS),
            "seconds": round(matrix_s, 4),
            "spot_check_mismatches": matrix_mismatches,
        },
        "apply_grant": _apply_grant(world, authority, now),
        "apply_revocation": _apply_revocation(world, authority, now),
        "roles": {r: len(p) for r, p in ROLE_PERMS.items()},
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m fuquan.authority.engine.bench ningxia|shandong")
    print(json.dumps(run_benchmark(args[0]), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
