"""``fuquan bench replicas``: how fast a policy change reaches another process, and what it costs the decisions.

For each dataset (Ningxia: the seeded tenant 64; Shandong: tenant 37 imported from the national file) a
temporary PostgreSQL database is prepared with a policy of realistic size — the authority benchmark's grant
world (``fuquan.authority.engine.bench_data``), compiled with the catalogue's floors and stored as grants and
policy lines — and two ``fuquan serve`` processes are started on it with the same Redis. Then:

- ``changes`` policy changes are made through the API, alternately a grant through process A and its
  revocation through process B, one every ``interval`` seconds; after each commit (the API's answer) the other
  process is asked ``GET /api/v1/authority/check`` until its answer flips: the time from commit to the other
  process deciding accordingly (p50/p99/max);
- meanwhile both processes are asked for decisions continuously; the latency of each (p50/p99/max, over HTTP)
  shows whether any change stalls decisions (a rebuild would);
- finally (Ningxia) ``fuquan serve --workers 1`` and ``--workers 2`` are each driven for ``seconds`` with
  ``authority/check`` requests by a lean raw-socket client, next to the bare ``/health`` endpoint.

Prints nothing itself; returns the figures. The temporary databases are dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url

from fuquan.authority.engine.bench_data import DATASETS, World
from fuquan.authority.engine.lines import GRID_LEVEL
from fuquan.authority.repositories import GrantRepository, PolicyRepository
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.catalog.services import default_catalog
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.migrations.runner import upgrade
from fuquan.platform.setup.benchkit import (
    KEYS_ENVIRONMENT,
    SERVE,
    BenchmarkError,
    Served,
    bench_key_ring,
    collector_paused,
    hammer,
    login,
    serving,
    temporary_database,
)
from fuquan.platform.setup.demo import DEMO_PASSWORD, add_demo_staff
from fuquan.platform.setup.known_factors import enrol_known_factors
from fuquan.platform.setup.seed import seed, seed_tenant
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

__all__ = ["run_replica_benchmark"]

TENANT_OF = {"ningxia": "64", "shandong": "37"}
BENCH_ADMIN = "bench_admin"


def _ms(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {"count": 0}
    ordered = sorted(samples)

    def at(percent: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * percent / 100))] * 1000, 2)

    return {"count": len(ordered), "p50_ms": at(50), "p99_ms": at(99), "max_ms": round(ordered[-1] * 1000, 2)}


# --- preparing a database ---------------------------------------------------------------------------------------


def _with_floors(world: World) -> World:
    """The world's grants under the catalogue's floors (a grant below its floor compiles to nothing)."""
    floors = {(spec.code, "accept"): spec.accept_floor for spec in default_catalog()}
    floors |= {(spec.code, "decide"): spec.decide_floor for spec in default_catalog()}
    world.grants = {
        gid: replace(g, floor=floors.get((g.item, g.action), GRID_LEVEL)) for gid, g in world.grants.items()
    }
    world.compile()
    return world


async def _prepare(url: str, dataset: str) -> dict[str, Any]:
    """Migrated, seeded, the dataset's world stored as the tenant's grants and policy lines."""
    began = time.perf_counter()
    engine = create_engine(url)
    maker = session_factory(engine)
    try:
        await seed(maker)
        async with session_scope(maker) as session:
            await add_demo_staff(session)
        code = TENANT_OF[dataset]
        if code != "64":
            async with session_scope(maker) as session:
                await seed_tenant(session, code)
        async with session_scope(maker) as session:
            await add_staff(
                session, username=BENCH_ADMIN, tenant_code=code, unit_code=code, roles=["tenant_admin"],
                password=DEMO_PASSWORD,
            )  # fmt: skip
            tenant = await TenantRepository(session).by_code(code)
            assert tenant is not None
        async with session_scope(maker) as session:  # an admin: ``login`` makes its codes
            await enrol_known_factors(session, bench_key_ring(), [BENCH_ADMIN])
        world = _with_floors(DATASETS[dataset]())
        async with session_scope(maker) as session:
            scope = whole_tenant(tenant)
            await GrantRepository(session).insert_world(scope, code, world.grants.values(), datetime.now(UTC))
            await PolicyRepository(session).add_for_grants(scope, world.lines_by_grant)
            await PolicyRepository(session).bump_version(scope)
        lines = sum(len(lines) for lines in world.lines_by_grant.values())
        return {"tenant": code, "grants": len(world.grants), "policy_lines": lines,
                "prepare_seconds": round(time.perf_counter() - began, 1)}  # fmt: skip
    finally:
        await engine.dispose()


# --- the processes ---------------------------------------------------------------------------------------------


def _serving(database_url: str, redis_url: str, workdir: Path, count: int, *options: str) -> Any:
    env = {
        "FUQUAN_DATABASE_URL": database_url,
        "FUQUAN_REDIS_URL": redis_url,
        "FUQUAN_REDIS_NAMESPACE": f"fuquan-bench-{os.getpid()}-{time.monotonic_ns()}",
        "FUQUAN_DATA_DIR": str(workdir / "data"),
        **KEYS_ENVIRONMENT,
        "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
        "FUQUAN_LOG_LEVEL": "WARNING",
    }
    return serving([[*SERVE, *options] for _ in range(count)], env, workdir)


# --- propagation and decisions under changes --------------------------------------------------------------------


async def _allowed(client: httpx.AsyncClient, auth: dict[str, str], unit: str, item: str) -> bool:
    response = await client.get(
        "/api/v1/authority/check", params={"unit": unit, "item": item, "action": "accept"}, headers=auth
    )
    if response.status_code != 200:
        raise BenchmarkError(f"check: HTTP {response.status_code} {response.text[:300]}")
    return bool(response.json()["allowed"])


async def _targets(client: httpx.AsyncClient, auth: dict[str, str], tenant: str, wanted: int) -> list[tuple[str, str]]:
    """(county, item) pairs the county may not accept now: each grant flips one of them."""
    cities = (await client.get(f"/api/v1/units/{tenant}/children", headers=auth)).json()
    counties: list[str] = []
    for city in cities:
        counties += [
            u["code"] for u in (await client.get(f"/api/v1/units/{city['code']}/children", headers=auth)).json()
        ]
    items = [f"HRSS-{n:02d}" for n in range(1, 21)]
    found: list[tuple[str, str]] = []
    for county in counties:
        for item in items:
            if len(found) >= wanted:
                return found
            if not await _allowed(client, auth, county, item):
                found.append((county, item))
    if not found:
        raise BenchmarkError("no county lacks an item to grant")
    return found


@dataclass
class _Decisions:
    """Decisions asked of one process continuously, each timed."""

    seconds: list[float] = field(default_factory=list)
    failures: int = 0


async def _keep_deciding(client: httpx.AsyncClient, auth: dict[str, str], units: list[str], into: _Decisions) -> None:
    rng = random.Random(7)  # noqa: S311 - benchmark queries
    while True:
        began = time.perf_counter()
        response = await client.get(
            "/api/v1/authority/check",
            params={"unit": rng.choice(units), "item": f"HRSS-{rng.randint(1, 20):02d}", "action": "accept"},
            headers=auth,
        )
        into.seconds.append(time.perf_counter() - began)
        if response.status_code != 200:
            into.failures += 1


async def _until(client: httpx.AsyncClient, auth: dict[str, str], unit: str, item: str, expected: bool) -> float:
    began = time.perf_counter()
    while await _allowed(client, auth, unit, item) is not expected:
        if time.perf_counter() - began > 30:
            raise BenchmarkError(f"the other process still answered {not expected} for {unit} {item} after 30 s")
    return time.perf_counter() - began


@contextlib.asynccontextmanager
async def _clients(processes: list[Served], per_process: int) -> AsyncIterator[list[list[httpx.AsyncClient]]]:
    clients = [
        [httpx.AsyncClient(base_url=p.url, timeout=60, trust_env=False) for _ in range(per_process)] for p in processes
    ]
    try:
        yield clients
    finally:
        for group in clients:
            for client in group:
                await client.aclose()


async def _propagation(processes: list[Served], tenant: str, changes: int, interval: float) -> dict[str, Any]:
    async with _clients(processes, 3) as ((a_write, a_poll, a_load), (b_write, b_poll, b_load)):
        auth_a, auth_b = await login(a_write, BENCH_ADMIN), await login(b_write, BENCH_ADMIN)
        targets = await _targets(a_write, auth_a, tenant, changes // 2 + 1)
        units = [unit for unit, _item in targets]
        decisions_a, decisions_b = _Decisions(), _Decisions()
        loaders = [
            asyncio.create_task(_keep_deciding(a_load, auth_a, units, decisions_a)),
            asyncio.create_task(_keep_deciding(b_load, auth_b, units, decisions_b)),
        ]
        to_b: list[float] = []
        to_a: list[float] = []
        try:
            for number in range(changes // 2):
                unit, item = targets[number % len(targets)]
                grant = {
                    "item": item, "action": "accept", "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
                    "valid_until": None, "redelegable": False, "basis": "devolved",
                    "instrument": f"基准〔2026〕{number}号",
                }  # fmt: skip
                made = await a_write.post("/api/v1/grants", json=grant, headers=auth_a)
                if made.status_code != 201:
                    raise BenchmarkError(f"grant: HTTP {made.status_code} {made.text[:300]}")
                to_b.append(await _until(b_poll, auth_b, unit, item, True))
                await asyncio.sleep(interval)
                revoked = await b_write.post(
                    f"/api/v1/grants/{made.json()['id']}/revoke", json={"reason": "基准测试"}, headers=auth_b
                )
                if revoked.status_code != 200:
                    raise BenchmarkError(f"revoke: HTTP {revoked.status_code} {revoked.text[:300]}")
                to_a.append(await _until(a_poll, auth_a, unit, item, False))
                await asyncio.sleep(interval)
        finally:
            for loader in loaders:
                loader.cancel()
            await asyncio.gather(*loaders, return_exceptions=True)
    return {
        "changes": len(to_a) + len(to_b),
        "interval_seconds": interval,
        "commit_to_other_process": _ms(to_a + to_b),
        "grant_on_a_seen_by_b": _ms(to_b),
        "revocation_on_b_seen_by_a": _ms(to_a),
        "decisions_on_a_while_changing": {**_ms(decisions_a.seconds), "failures": decisions_a.failures},
        "decisions_on_b_while_changing": {**_ms(decisions_b.seconds), "failures": decisions_b.failures},
    }


# --- throughput with 1 and 2 workers ----------------------------------------------------------------------------


async def _throughput(process: Served, tenant: str, connections: int, seconds: float) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=process.url, trust_env=False) as client:
        auth = await login(client, BENCH_ADMIN)
        units = [u["code"] for u in (await client.get(f"/api/v1/units/{tenant}/children", headers=auth)).json()]
    host = httpx.URL(process.url).netloc.decode()
    check = [
        (
            f"GET /api/v1/authority/check?unit={unit}&item=HRSS-{n:02d}&action=accept HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: {auth['Authorization']}\r\n\r\n"
        ).encode()
        for unit in units
        for n in (1, 4, 7, 17)
    ]
    health = [f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()]
    await hammer(process.url, check, connections, 1.0)  # warm up every worker
    return {
        "authority_check": await hammer(process.url, check, connections, seconds),
        "bare_health": await hammer(process.url, health, connections, seconds),
    }


def _run_dataset(
    server_url: str, redis_url: str, dataset: str, workdir: Path, changes: int, interval: float, seconds: float
) -> dict[str, Any]:
    name = f"fuquan_bench_replicas_{dataset}_{os.getpid()}"
    with temporary_database(server_url, name) as url:
        upgrade(url)
        figures: dict[str, Any] = {"dataset": asyncio.run(_prepare(url, dataset))}
        tenant = TENANT_OF[dataset]
        began = time.perf_counter()
        with _serving(url, redis_url, workdir, 2) as processes:
            figures["replicas_ready_seconds"] = round(time.perf_counter() - began, 1)
            with collector_paused():
                figures["propagation"] = asyncio.run(_propagation(processes, tenant, changes, interval))
        if seconds > 0:
            workers: dict[str, Any] = {}
            for count in (1, 2):
                with _serving(url, redis_url, workdir, 1, "--workers", str(count)) as [served], collector_paused():
                    workers[f"workers_{count}"] = asyncio.run(_throughput(served, tenant, 16, seconds))
            one = workers["workers_1"]["authority_check"]["requests_per_second"]
            two = workers["workers_2"]["authority_check"]["requests_per_second"]
            workers["check_speed_up_2_over_1"] = round(two / one, 2) if one else None
            figures["throughput"] = workers
        return figures


def run_replica_benchmark(
    database_url: str,
    redis_url: str,
    datasets: list[str],
    workdir: Path,
    *,
    changes: int = 200,
    interval: float = 1.0,
    seconds: float = 10.0,
) -> dict[str, Any]:
    if make_url(database_url).get_backend_name() != "postgresql":
        raise BenchmarkError("bench replicas needs a PostgreSQL server URL (--database-url postgresql+asyncpg://…)")
    results: dict[str, Any] = {"cores": os.cpu_count()}
    for dataset in datasets:
        # the throughput with 1 and 2 workers is measured once, on Ningxia
        results[dataset] = _run_dataset(
            database_url, redis_url, dataset, workdir, changes, interval, seconds if dataset == "ningxia" else 0
        )
    return results


def main() -> None:  # pragma: no cover - python -m for developers
    print(json.dumps(run_replica_benchmark(sys.argv[1], sys.argv[2], ["ningxia"], Path.cwd()), indent=2))
