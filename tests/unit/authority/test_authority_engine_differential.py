"""Differential property tests: Casbin vs compiled hot path vs the plain-Python oracle."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial

from authority_engine_oracle import LEVEL_OF_LENGTH, allowed, allowing_grants
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuquan.authority.engine import TenantAuthority
from fuquan.authority.engine.lines import (
    ACTIONS,
    GrantSpec,
    PolicyLine,
    RoleLine,
    bucket_index,
    chain_descendants,
    children_index,
    compile_grants,
    instant,
    statutory_lines,
)

ROOT = "37"
ITEMS = ("HRSS-01", "HRSS-02")
ROLES = ("clerk", "approver")
QUERY_ROLES = ("", "", *ROLES, "nobody")
BASE = datetime(2026, 1, 1, tzinfo=UTC)
TIMES = [BASE + timedelta(days=k) for k in range(6)]
ITEM_S = st.sampled_from(ITEMS)
ACT_S = st.sampled_from(ACTIONS)
ROLE_S = st.sampled_from(QUERY_ROLES)
MOMENT_S = st.sampled_from(TIMES)
# instants on window edges, and one second either side
TIME_S = st.builds(lambda t, d: t + timedelta(seconds=d), MOMENT_S, st.sampled_from((-1, 0, 0, 1)))
NUDGES = (timedelta(seconds=-1), timedelta(0), timedelta(seconds=1), timedelta(days=1))
Query = tuple[str, str, str, str, datetime]
SEED_S = st.integers(0, 2**32 - 1)
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    database=None,  # no .hypothesis/ example store written into the repository
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def hierarchies(draw: st.DrawFn) -> list[str]:
    """A small random tree with the real code lengths (province … grid)."""
    codes, frontier = [ROOT], [ROOT]
    for length in (4, 6, 9, 12, 15):
        below = []
        for parent in frontier:
            for n in range(1, draw(st.integers(1 if length <= 9 else 0, 2)) + 1):
                below.append(parent + str(n).zfill(length - len(parent)))
        codes += below
        frontier = below
    return codes


def days_after(start: datetime, days: int) -> datetime:
    return start + timedelta(days=days)


FLOOR_S = st.sampled_from((6, 6, 5, 4, 3, 2, 1))  # mostly none (6: grids may hold it)


@st.composite
def grant_sets(draw: st.DrawFn, codes: list[str]) -> dict[int, GrantSpec]:
    """Grants of items whose floors (per item and action) are drawn too: some grants lie below them."""
    floors = {(item, act): draw(FLOOR_S) for item in ITEMS for act in ACTIONS}
    grants: dict[int, GrantSpec] = {}
    code_s = st.sampled_from(codes)
    revoked_s = st.none() | st.none() | MOMENT_S  # may well precede valid_from
    for gid in range(1, draw(st.integers(1, 12)) + 1):
        valid_from = draw(MOMENT_S)
        # open-ended, a few days, or any moment at all (possibly an empty window)
        until_s = st.none() | st.integers(1, 3).map(partial(days_after, valid_from)) | MOMENT_S
        item, action = draw(ITEM_S), draw(ACT_S)
        grants[gid] = GrantSpec(
            id=gid,
            item=item,
            action=action,
            floor=floors[(item, action)],
            unit=draw(code_s),
            subtree=draw(st.booleans()),
            valid_from=valid_from,
            valid_until=draw(until_s),
            revoked_at=draw(revoked_s),
            parent_id=draw(st.none() | st.none() | st.integers(1, gid - 1)) if gid > 1 else None,
        )
    return grants


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[str], dict[int, GrantSpec], set[RoleLine]]:
    codes = draw(hierarchies())
    grants = draw(grant_sets(codes))
    perms = [(role, f"{item}|{act}") for role in ROLES for item in ITEMS for act in ACTIONS]
    roles = {p for p in perms if draw(st.booleans() | st.just(True))}  # mostly permitted
    return codes, grants, roles


def ask(rng: random.Random, codes: list[str], grants: dict[int, GrantSpec], n: int) -> list[Query]:
    """n questions: any question, or (as often) one aimed at a grant — a unit below it, its item
    and action, at one of its boundaries, a second either side, or a day inside.

    Queries come from a seeded Random rather than hypothesis draws: drawing is what made the
    suite slow, and the grant set (which hypothesis does shrink) is what matters in a failure.
    """
    out: list[Query] = []
    aims = list(grants.values())
    for _ in range(n):
        role = rng.choice(QUERY_ROLES)
        if aims and rng.random() < 0.7:
            g = rng.choice(aims)
            marks = [m for m in (g.valid_from, g.valid_until, g.revoked_at) if m is not None]
            t = rng.choice(marks) + rng.choice(NUDGES)
            below = [c for c in codes if c.startswith(g.unit)] if g.subtree else [g.unit]
            node = rng.choice(below) if rng.random() < 0.9 else rng.choice(codes)
            out.append((node, g.item, g.action, role, t))
        else:
            t = rng.choice(TIMES) + timedelta(seconds=rng.choice((-1, 0, 0, 1)))
            out.append((rng.choice(codes), rng.choice(ITEMS), rng.choice(ACTIONS), role, t))
    return out


def compile_all(codes: list[str], grants: dict[int, GrantSpec]) -> dict[int, list[PolicyLine]]:
    return compile_grants(grants.values(), grants, bucket_index(codes))


def build(codes: list[str], grants: dict[int, GrantSpec], roles: set[RoleLine]) -> TenantAuthority:
    authority = TenantAuthority()
    lines = [line for ls in compile_all(codes, grants).values() for line in ls]
    authority.load(lines + statutory_lines(ROOT, ITEMS), sorted(roles))
    return authority


def check_agreement(
    authority: TenantAuthority,
    codes: list[str],
    grants: dict[int, GrantSpec],
    roles: set[RoleLine],
    node: str,
    item: str,
    act: str,
    role: str,
    t: datetime,
) -> bool:
    now = instant(t)
    expected = allowed(grants, roles, ROOT, ITEMS, node, item, act, role, t)
    reasons = allowing_grants(grants, ROOT, ITEMS, node, item, act, t)
    for engine in ("casbin", "hot"):
        ok, gid = authority.decide(node, item, act, role, now, engine=engine)
        assert ok == expected, (engine, node, item, act, role, now)
        assert (gid in reasons) if ok else gid is None, (engine, gid, reasons)
    return expected


@PROPERTY
@given(world=worlds(), data=st.data())
def test_casbin_hot_path_and_oracle_agree(
    world: tuple[list[str], dict[int, GrantSpec], set[RoleLine]], data: st.DataObject
) -> None:
    codes, grants, roles = world
    authority = build(codes, grants, roles)
    assert authority.casbin.lines() == authority.hot.lines()
    for node, item, act, role, t in ask(random.Random(data.draw(SEED_S)), codes, grants, 40):
        check_agreement(authority, codes, grants, roles, node, item, act, role, t)


@PROPERTY
@given(world=worlds(), data=st.data())
def test_no_unit_below_the_floor_is_ever_allowed(
    world: tuple[list[str], dict[int, GrantSpec], set[RoleLine]], data: st.DataObject
) -> None:
    """Whatever grants cover it — its own, a subtree grant above it — a unit below the item's floor for the
    action is never allowed, by either engine, nor in the matrix."""
    codes, grants, roles = world
    authority = build(codes, grants, roles)
    floors = {(g.item, g.action): g.floor for g in grants.values()}
    now = instant(data.draw(TIME_S))
    role = data.draw(ROLE_S)
    matrix = authority.matrix(codes, now, ITEMS, role)
    for (item, act), floor in floors.items():
        below = [code for code in codes if LEVEL_OF_LENGTH[len(code)] > floor]
        for node in below:
            for engine in ("casbin", "hot"):
                assert authority.decide(node, item, act, role, now, engine=engine) == (False, None), (engine, node)
            assert (item, act) not in matrix[node], node


@PROPERTY
@given(world=worlds(), data=st.data())
def test_matrix_equals_per_unit_decisions(
    world: tuple[list[str], dict[int, GrantSpec], set[RoleLine]], data: st.DataObject
) -> None:
    codes, grants, roles = world
    authority = build(codes, grants, roles)
    now = instant(data.draw(TIME_S))
    role = data.draw(ROLE_S)
    top = data.draw(st.sampled_from(codes))
    subtree = [c for c in codes if c.startswith(top)]
    shuffled = data.draw(st.permutations(subtree))
    matrix = authority.matrix(shuffled, now, ITEMS, role)
    assert set(matrix) == set(subtree)
    for code in subtree:
        expected = {(item, act) for item in ITEMS for act in ACTIONS if authority.decide(code, item, act, role, now)[0]}
        assert matrix[code] == expected, code


@PROPERTY
@given(world=worlds(), data=st.data())
def test_revocation_never_rewrites_history(
    world: tuple[list[str], dict[int, GrantSpec], set[RoleLine]], data: st.DataObject
) -> None:
    codes, grants, roles = world
    if not grants:
        return
    authority = build(codes, grants, roles)
    nodes = data.draw(st.lists(st.sampled_from(codes), min_size=1, max_size=8, unique=True))
    questions = [
        (node, item, act, role, t)
        for node in nodes
        for item in ITEMS
        for act in ACTIONS
        for role in ("", "clerk")
        for t in TIMES
    ]
    before = {q: authority.decide(*q[:4], instant(q[4]))[0] for q in questions}

    victim = data.draw(st.sampled_from(sorted(grants)))
    at = data.draw(TIME_S)
    old = grants[victim]
    revoked_at = at if old.revoked_at is None else min(old.revoked_at, at)
    after = dict(grants)
    after[victim] = replace(old, revoked_at=revoked_at)
    affected = chain_descendants(victim, children_index(after.values()))
    bucket_codes = bucket_index(codes)
    removed = [
        line for ls in compile_grants((grants[g] for g in affected), grants, bucket_codes).values() for line in ls
    ]
    added = [line for ls in compile_grants((after[g] for g in affected), after, bucket_codes).values() for line in ls]
    authority.apply(added, removed)

    expected_lines = {line for ls in compile_all(codes, after).values() for line in ls}
    expected_lines |= set(statutory_lines(ROOT, ITEMS))
    assert authority.casbin.lines() == authority.hot.lines() == expected_lines
    for q in questions:
        node, item, act, role, t = q
        now_allowed = check_agreement(authority, codes, after, roles, node, item, act, role, t)
        if t < revoked_at:
            assert now_allowed == before[q], q
        elif before[q] != now_allowed:
            assert before[q] and not now_allowed  # a revocation only ever takes authority away


@PROPERTY
@given(world=worlds(), data=st.data())
def test_add_and_remove_keep_engines_identical(
    world: tuple[list[str], dict[int, GrantSpec], set[RoleLine]], data: st.DataObject
) -> None:
    codes, grants, roles = world
    compiled = compile_all(codes, grants)
    authority = TenantAuthority()
    authority.load([], [])
    present: set[int] = set()
    present_roles: set[RoleLine] = set()
    rng = random.Random(data.draw(SEED_S))
    steps = st.tuples(
        st.sampled_from(sorted(compiled)) if compiled else st.none(),
        st.sampled_from(sorted(roles)) if roles else st.none(),
        st.booleans(),
        st.booleans(),
    )
    for gid, role_perm, grant_step, remove in data.draw(st.lists(steps, min_size=1, max_size=12)):
        if gid is not None and grant_step:
            if gid in present and remove:
                authority.apply(removed_lines=compiled[gid])
                present.discard(gid)
            else:
                authority.apply(added_lines=compiled[gid])  # adding twice is a no-op
                present.add(gid)
        elif role_perm is not None:
            if role_perm in present_roles:
                authority.apply(removed_roles=[role_perm])
                present_roles.discard(role_perm)
            else:
                authority.apply(added_roles=[role_perm])
                present_roles.add(role_perm)
        expected = {line for g in present for line in compiled[g]}
        assert authority.casbin.lines() == authority.hot.lines() == expected
        assert len(authority.hot) == len(expected)
        assert set(authority.casbin.role_permissions()) == authority.hot.role_permissions() == present_roles
        live = {g: grants[g] for g in present}
        for node, item, act, role, t in ask(rng, codes, grants, 6):
            now = instant(t)
            assert (
                authority.decide(node, item, act, role, now, "casbin")[0]
                == authority.decide(node, item, act, role, now, "hot")[0]
            )
            # lines were compiled against every grant, so a present child keeps its chain window:
            # the oracle only applies when the present set is closed under parents
            if all(g.parent_id is None or g.parent_id in present for g in live.values()):
                assert authority.decide(node, item, act, role, now)[0] == allowed(
                    live, present_roles, "none", (), node, item, act, role, datetime.fromisoformat(now)
                )


@settings(PROPERTY, max_examples=100)
@given(world=worlds(), data=st.data())
def test_engines_agree_when_units_postdate_the_lines(
    world: tuple[list[str], dict[int, GrantSpec], set[RoleLine]], data: st.DataObject
) -> None:
    """Subtree lines above township level reach only the buckets they were compiled for; a unit
    created later is outside them until the grant is recompiled — in both engines alike."""
    codes, grants, roles = world
    upper = [c for c in codes if 2 < len(c) <= 9]
    known = set(codes) - set(data.draw(st.lists(st.sampled_from(upper), unique=True)))
    lines = [line for ls in compile_grants(grants.values(), grants, bucket_index(known)).values() for line in ls]
    authority = TenantAuthority()
    authority.load(lines, sorted(roles))
    asked = ask(random.Random(data.draw(SEED_S)), codes, grants, 20)
    item, act, t = data.draw(ITEM_S), data.draw(ACT_S), data.draw(TIME_S)
    asked += [(node, item, act, "", t) for node in codes]  # every unit, old and new
    for node, item, act, role, t in asked:
        now = instant(t)
        casbin_says = authority.decide(node, item, act, role, now, "casbin")[0]
        assert casbin_says == authority.decide(node, item, act, role, now, "hot")[0], (node, item, act, role, now)
