"""Partner-integration benchmark (``fuquan bench integrations``): materials resolved against the partner
simulators on loopback, cold and cached, and case creation with every partner normal and with one slow.

``run_integration_benchmark`` starts every partner's simulator (``running_simulators``: real uvicorn servers
on 127.0.0.1, in a thread of this process, over the synthetic population) and prepares one fresh SQLite
database under ``data_dir`` (migrated; both tenants, the catalogue and the demo staff, as the case benchmark
prepares it), whose tenant 64 has every partner configured (``configure``) to point at the simulators.

*resolve* — for a few items of tenant 64's published catalogue, the ``SharedDataRequest`` of every material
with a partner source, built as ``cases.services.partners.ask_partners`` builds them, is answered by
``lookup_all(PartnerDataProvider(...))`` over signed HTTP, with the app's lookup concurrency and budget; one
``lookup_all`` per round is timed. ``cold``: a different synthetic person (and enterprise) every round and
the answer cache emptied before it, so every answer is fetched; ``cached``: the same enterprise (HRSS-17)
or the same business owner (HRSS-07) every round, after one untimed round that fills the cache, so the
cacheable answers (market regulation's enterprise and businesses; nothing else is cacheable) come from the
cache while the live ones are still fetched. The clients' connections are warmed up before timing.

*create* — ``POST /api/v1/cases`` (HRSS-05, whose five materials ask public security and HRSS) through the
real app (``create_app``, driven in-process by Litestar's ``AsyncTestClient``) by a window clerk, one case at
a time: first with every partner normal, then with public security answering after 5 s. The partner calls
of a creation are bounded by ``Settings.shared_data_budget_seconds``, so the slow cases are created about
that long after they were asked for, with public security's materials ``unavailable``.

Latencies are in milliseconds (nearest-rank percentiles, as in the case benchmark). Everything created under
``data_dir`` is removed again; nothing is printed, and log events below ERROR are off while it runs (the
slow partner is expected to produce warnings).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib
import logging
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import structlog
from litestar.stores.memory import MemoryStore

from fuquan.integrations import services as partner_services
from fuquan.integrations.gateway.cache import ResponseCache
from fuquan.integrations.gateway.client import GatewayClient
from fuquan.integrations.gateway.endpoints import PartnerEndpoint
from fuquan.integrations.gateway.pool import GatewayPool
from fuquan.integrations.materials import PartnerDataProvider
from fuquan.integrations.partners.schemas import PARTNERS, Partner
from fuquan.integrations.shared_data import lookup_all
from fuquan.integrations.simulators import (
    Person,
    Population,
    RunningSimulators,
    app_key_for,
    build_population,
    default_credentials,
    derived_secret,
    running_simulators,
)
from fuquan.platform.cases.services.partners import Subjects
from fuquan.platform.cases.services.receipts import receipt_no
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.services import current
from fuquan.platform.core.config import Settings, sqlite_url
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.setup.bench_people import TENANT, People, cached_subjects, cold_subjects, shared_requests
from fuquan.platform.setup.benchkit import (
    ADMIN,
    CLERK,
    MASTER_KEY,
    SECRET_KEY,
    TOWN,
    bench_key_ring,
    expect,
    latency,
    login,
    seed_database,
)
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

__all__ = ["adults", "creations", "point_at_simulators", "run_integration_benchmark"]

MAX_ROUNDS = 10_000
MAX_SLOW_CASES = 100
SIMULATOR_SECRET = "fuquan-bench-simulators"  # noqa: S105 - shared with simulators that live for one run
CACHE_KEY = b"fuquan-bench-partner-cache"
PARTNER_TIMEOUT_SECONDS = 2.0  # per attempt: configure()'s default, what an operator gets unless they say otherwise
PARTNER_RETRIES = 2
WARM_UP_ROUNDS = 3  # untimed, per scenario: connections opened, code paths warm
CREATE_ITEM = "HRSS-05"
SLOW_PARTNER: Partner = "public_security"
SLOW_LATENCY_MS = 5000
COLD_ITEMS = ("HRSS-05", "HRSS-14", "HRSS-17", "HRSS-07")
CACHED_ITEMS = ("HRSS-17", "HRSS-07")
ITEM_NOTES = {
    "HRSS-05": "identity + 4 HRSS materials (5 calls)",
    "HRSS-14": "identity, the deceased's death registration and household, bank account",
    "HRSS-17": "identity + the employer's enterprise registration (cacheable)",
    "HRSS-07": "identity, household + the businesses registered to the applicant (cacheable)",
}


# --- resolve -----------------------------------------------------------------------------------------------------


def _endpoint(simulators: RunningSimulators, partner: Partner) -> PartnerEndpoint:
    return PartnerEndpoint(
        partner=partner,
        base_url=simulators.url(partner),
        app_key=app_key_for(partner),
        secret=derived_secret(SIMULATOR_SECRET, partner),
        timeout_seconds=PARTNER_TIMEOUT_SECONDS,
        retries=PARTNER_RETRIES,
    )


def _figures(samples: list[float]) -> dict[str, float]:
    return {
        **{f"{name}_ms": value for name, value in latency(samples).items()},
        "mean_ms": round(statistics.fmean(samples) * 1000, 2),
    }


async def _resolve(
    settings: Settings,
    simulators: RunningSimulators,
    items: dict[str, CatalogItem],
    people: People,
    rounds: int,
) -> dict[str, Any]:
    store = MemoryStore()
    pool = GatewayPool(cache=ResponseCache(store, CACHE_KEY))
    endpoints: dict[str, PartnerEndpoint] = {partner: _endpoint(simulators, partner) for partner in PARTNERS}

    def client_for(partner: str) -> GatewayClient | None:
        endpoint = endpoints.get(partner)
        return None if endpoint is None else pool.client(TENANT, endpoint)

    provider = PartnerDataProvider(client_for)
    today = local_date(utcnow(), settings.timezone)
    sequence = iter(range(1, 10**6))

    async def scenario(item: CatalogItem, pick: Callable[[int], Subjects], cold: bool) -> dict[str, Any]:
        seconds: list[float] = []
        statuses: Counter[str] = Counter()
        fetched = cached = 0
        asked = len(shared_requests(item, pick(0), "", today))
        await store.delete_all()
        for round_ in range(-WARM_UP_ROUNDS, rounds):
            requests = shared_requests(item, pick(round_), receipt_no(TOWN, today, next(sequence)), today)
            if cold:
                await store.delete_all()
            started = time.perf_counter()
            answers = await lookup_all(
                provider,
                requests,
                concurrency=settings.shared_data_concurrency,
                budget_seconds=settings.shared_data_budget_seconds,
            )
            elapsed = time.perf_counter() - started
            if round_ < 0:
                continue
            seconds.append(elapsed)
            statuses.update(answer.status for answer in answers)
            fetched += sum(1 for answer in answers if answer.service is not None and not answer.cached)
            cached += sum(1 for answer in answers if answer.cached)
        return {
            "item": item.code,
            "about": ITEM_NOTES[item.code],
            "materials_asked": asked,
            "rounds": rounds,
            **_figures(seconds),
            "answers": dict(sorted(statuses.items())),
            "fetched_answers": fetched,
            "cached_answers": cached,
        }

    try:
        cold = {
            code: await scenario(items[code], functools.partial(cold_subjects, people, code), cold=True)
            for code in COLD_ITEMS
        }
        cached = {
            code: await scenario(items[code], functools.partial(cached_subjects, people, code), cold=False)
            for code in CACHED_ITEMS
        }
    finally:
        await pool.aclose()
    return {"cold": cold, "cached": cached}


# --- case creation -----------------------------------------------------------------------------------------------


def _real_app(settings: Settings) -> Any:
    """The app ``fuquan serve`` serves; named, not imported (setup sits beside app, not above it)."""
    return importlib.import_module("fuquan.platform.app.factory").create_app(settings)


async def creations(
    client: httpx.AsyncClient, auth: dict[str, str], people: list[Person], start: int, cases: int
) -> dict[str, Any]:
    seconds: list[float] = []
    unavailable = 0
    failures: Counter[str] = Counter()
    states: Counter[str] = Counter()
    for number in range(start, start + cases):
        person = people[number % len(people)]
        body = {"item": CREATE_ITEM, "unit": TOWN, "applicant": {"id_number": person.id_number, "name": person.name}}
        started = time.perf_counter()
        response = await client.post("/api/v1/cases", json=body, headers=auth)
        elapsed = time.perf_counter() - started
        case = expect(response, 201, "create")
        seconds.append(elapsed)
        for material in case["materials"]:
            states[material["state"]] += 1
            evidence = material.get("evidence") or {}
            if evidence.get("status") == "unavailable":
                unavailable += 1
                failures[str(evidence.get("failure"))] += 1
    return {
        "cases": cases,
        **_figures(seconds),
        "material_states": dict(sorted(states.items())),
        "unavailable_materials": unavailable,
        "failures": dict(sorted(failures.items())),
    }


async def _create(
    settings: Settings, simulators: RunningSimulators, people: People, cases: int, slow_cases: int
) -> dict[str, Any]:
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=_real_app(settings)) as client:
        admin = await login(client, ADMIN)
        for action in ("accept", "decide"):
            grant = {"item": CREATE_ITEM, "action": action, "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
                     "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
            expect(await client.post("/api/v1/grants", json=grant, headers=admin), 201, f"grant {action}")
        clerk = await login(client, CLERK)
        await creations(client, clerk, people.adults, 0, WARM_UP_ROUNDS)
        normal = await creations(client, clerk, people.adults, WARM_UP_ROUNDS, cases)
        slow: dict[str, Any] = {}
        if slow_cases:
            control = functools.partial(simulators.control, SLOW_PARTNER, latency_ms=SLOW_LATENCY_MS)
            await anyio.to_thread.run_sync(control)
            try:
                slow = await creations(client, clerk, people.adults, WARM_UP_ROUNDS + cases, slow_cases)
            finally:
                await anyio.to_thread.run_sync(functools.partial(simulators.reset, SLOW_PARTNER))
    budget_ms = round(settings.shared_data_budget_seconds * 1000, 2)
    result: dict[str, Any] = {"item": CREATE_ITEM, "about": ITEM_NOTES[CREATE_ITEM], "budget_ms": budget_ms,
                              "all_partners_normal": normal}  # fmt: skip
    if slow:
        result["slow_partner"] = {
            "partner": SLOW_PARTNER,
            "latency_ms": SLOW_LATENCY_MS,
            **slow,
            "max_over_budget_ms": round(slow["max_ms"] - budget_ms, 2),
        }
    return result


# --- one run -----------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    """Log events below ERROR off (the slow partner's warnings are expected); the previous setup restored."""
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    try:
        yield
    finally:
        structlog.configure(**previous)


async def _prepare(settings: Settings, simulators: RunningSimulators) -> dict[str, CatalogItem]:
    """Seed the database, point tenant 64 at the simulators; tenant 64's published catalogue items."""
    await seed_database(settings.database_url)
    return await point_at_simulators(settings.database_url, simulators)


def adults(population: Population) -> list[Person]:
    """Valid residents aged 18–59, in generation order: applicants every item accepts."""
    return People.of(population).adults


async def point_at_simulators(database_url: str, simulators: RunningSimulators) -> dict[str, CatalogItem]:
    """Configure every partner of tenant 64 to answer from the simulators; tenant 64's published items."""
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            tenant = await TenantRepository(session).by_code(TENANT)
            assert tenant is not None, "the seed makes tenant 64"
            for partner in PARTNERS:
                await partner_services.configure(
                    session, bench_key_ring(), scope=whole_tenant(tenant),
                    partner=partner, base_url=simulators.url(partner), app_key=app_key_for(partner),
                    secret=derived_secret(SIMULATOR_SECRET, partner), timeout_seconds=PARTNER_TIMEOUT_SECONDS,
                    retries=PARTNER_RETRIES, actor="fuquan bench integrations",
                )  # fmt: skip
            catalog = await current(session, whole_tenant(tenant))
            return dict(catalog.items)
    finally:
        await engine.dispose()


def _environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def run_integration_benchmark(*, rounds: int = 200, slow_cases: int = 10, data_dir: Path) -> dict[str, Any]:
    """Resolve and case-creation figures against the partner simulators, as a JSON-able dict.

    ``{"environment", "settings", "setup_seconds", "resolve": {"cold": {item: …}, "cached": {item: …}},
    "create": {"all_partners_normal": …, "slow_partner": …}, "seconds"}``: per resolve scenario the rounds,
    p50/p99/mean/max of one item's lookups, the answers by status, how many were fetched and how many came
    from the cache; per creation scenario the cases (``rounds`` normal, ``slow_cases`` with public security
    answering after 5 s; 0 leaves the slow scenario out), p50/p99/mean/max of ``POST /api/v1/cases``, the
    materials' states, how many came back ``unavailable`` and why, next to the lookup budget.
    """
    if not 1 <= rounds <= MAX_ROUNDS:
        raise ValueError(f"rounds must be between 1 and {MAX_ROUNDS}")
    if not 0 <= slow_cases <= MAX_SLOW_CASES:
        raise ValueError(f"slow_cases must be between 0 and {MAX_SLOW_CASES}")
    started = time.perf_counter()
    from fuquan.platform.migrations.runner import upgrade

    data_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-integrations-", dir=data_dir))
    settings = Settings(
        data_dir=root,
        database_url=sqlite_url(root / "bench.db"),
        secret_key=SECRET_KEY,
        master_key=MASTER_KEY,
        log_level="ERROR",
        login_attempts_per_minute=100_000,
    )
    population = build_population()
    people = People.of(population)

    async def run(simulators: RunningSimulators) -> tuple[float, dict[str, Any], dict[str, Any]]:
        items = await _prepare(settings, simulators)
        setup_seconds = time.perf_counter() - started
        resolve = await _resolve(settings, simulators, items, people, rounds)
        await anyio.to_thread.run_sync(simulators.reset)
        create = await _create(settings, simulators, people, rounds, slow_cases)
        return setup_seconds, resolve, create

    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_level = uvicorn_log.level
    try:
        with _silenced(), running_simulators(default_credentials(SIMULATOR_SECRET), population=population) as sims:
            upgrade(settings.database_url)
            setup_seconds, resolve, create = asyncio.run(run(sims))
            # Stopping the simulators cancels the slow partner's answers nobody waits for any more: uvicorn
            # calls that an error. Set here, as the app's logging setup resets the level when it starts.
            uvicorn_log.setLevel(logging.CRITICAL)
    finally:
        uvicorn_log.setLevel(uvicorn_level)
        shutil.rmtree(root, ignore_errors=True)
    return {
        "environment": _environment(),
        "settings": {
            "shared_data_budget_seconds": settings.shared_data_budget_seconds,
            "shared_data_concurrency": settings.shared_data_concurrency,
            "partner_timeout_seconds": PARTNER_TIMEOUT_SECONDS,
            "partner_retries": PARTNER_RETRIES,
            "warm_up_rounds": WARM_UP_ROUNDS,
            "simulators": "uvicorn on 127.0.0.1, in a thread of this process",
        },
        "setup_seconds": round(setup_seconds, 2),
        "resolve": {"rounds": rounds, **resolve},
        "create": create,
        "seconds": round(time.perf_counter() - started, 2),
    }
