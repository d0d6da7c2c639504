"""``fuquan bench cases``: the case flow through the HTTP API, next to the work it must do, in one run.

For each database given (SQLite: a fresh file; PostgreSQL: a temporary database on the server the URL names,
dropped afterwards) the benchmark migrates and seeds it as ``fuquan demo`` does (no demo cases), serves the app
as ``fuquan serve`` serves it (``--workers N`` on PostgreSQL; SQLite is served by one process) and, beside it,
the bare app of ``bench_bare`` on the same database. An administrator grants HRSS-04 accept and decide to
长胜街道 640202001 through the API; then ``concurrency`` httpx clients (one kept-alive connection each) make:

- **flow** — a window clerk's ``cases`` cases through create → upload the three required materials →
  submit → accept: requests/s, the server's CPU per request (its whole process group, from /proc), p50/p99/max
  per endpoint and of the whole sequence;
- **authority_check** — as many ``GET /api/v1/authority/check`` requests;
- **baseline** — as many requests to the bare app: ``POST /intake`` (a bearer-token lookup and three ORM
  inserts in one transaction) and ``GET /ping``;
- **with_partners** (``partners=True``) — ``POST /api/v1/cases`` for HRSS-05, whose five materials ask the
  public-security and HRSS simulators (running in this process), one case at a time.

Every measurement starts in a serving process's steady state: each client first does one untimed unit of work
of its own, all at once (a case through the whole flow, a check, a request to the bare app), so the server's
first connections, statement compilations and prepared statements are not counted — in the bare app's figures
no more than in the flow's.

``ratios`` per backend: flow ÷ intake, authority_check ÷ ping, flow ÷ ping (requests/s measured minutes apart
on the same machine). Nothing is printed; everything the run creates under ``data_dir`` is removed again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import make_url

from fuquan.integrations.simulators import build_population, default_credentials, running_simulators
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.setup.bench_bare import BARE_TOKEN
from fuquan.platform.setup.bench_integrations import (
    CREATE_ITEM,
    SIMULATOR_SECRET,
    WARM_UP_ROUNDS,
    adults,
    creations,
    point_at_simulators,
)
from fuquan.platform.setup.benchkit import (
    ADMIN,
    BARE_SERVE,
    CLERK,
    KEYS_ENVIRONMENT,
    SERVE,
    TOWN,
    BenchmarkError,
    Served,
    bench_database,
    client,
    collector_paused,
    drive,
    expect,
    latency,
    login,
    seed_database,
    serving,
)

__all__ = ["BenchmarkError", "resident", "run_case_benchmark"]

MAX_CASES = 10_000  # keeps a run finite (and synthetic birth dates before 1990)
MAX_CONCURRENCY = 64
ITEM, COUNTY, PARTNER_ITEM = "HRSS-04", "640202", "HRSS-05"
PARTNER_CASES = 100  # at most, one at a time
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = ("建国", "秀英", "志强", "桂兰", "海燕", "文华", "玉梅", "学军", "春花", "永红")
FIRST_BIRTH_DAY = date(1960, 1, 1)


def resident(index: int) -> dict[str, str]:
    """A distinct synthetic resident of 大武口区 for every index below ``MAX_CASES``: valid GB 11643 number."""
    birth = FIRST_BIRTH_DAY + timedelta(days=index)  # distinct birth dates: distinct numbers
    body = f"{COUNTY}{birth:%Y%m%d}{index % 1000:03d}"
    name = SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index // len(SURNAMES) % len(GIVEN_NAMES)]
    return {"id_number": body + id_check_char(body), "name": name, "phone": f"138{index:08d}"}


def application_form(index: int) -> dict[str, str | int]:
    """HRSS-04's application form (申请表), with a personal value (an address, a phone) to seal per case."""
    return {
        "difficulty_type": "大龄失业人员",
        "household_size": 1 + index % 5,
        "address": f"宁夏石嘴山市大武口区长胜街道朝阳小区{1 + index % 30}号楼",
        "alternate_phone": f"139{index:08d}",
    }


# --- the flow ---------------------------------------------------------------------------------------------------


@dataclass
class Tally:
    case_seconds: list[float] = field(default_factory=list)
    endpoint_seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)

    async def timed(self, endpoint: str, request: Any) -> httpx.Response:
        started = time.perf_counter()
        response: httpx.Response = await request
        self.endpoint_seconds[endpoint].append(time.perf_counter() - started)
        return response


async def accepted_case(http: httpx.AsyncClient, auth: dict[str, str], index: int, tally: Tally) -> int:
    started = time.perf_counter()
    body = {"item": ITEM, "unit": TOWN, "applicant": resident(index), "form": application_form(index)}
    headers = {**auth, "Idempotency-Key": f"bench-case-{index:06d}"}
    case = expect(await tally.timed("create", http.post("/api/v1/cases", json=body, headers=headers)), 201, "create")
    requests = 1
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            upload = http.post(f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                               files={"file": ("photo.png", PNG, "image/png")}, headers=auth)  # fmt: skip
            case = expect(await tally.timed("upload", upload), 200, "upload")
            requests += 1
    for action in ("submit", "accept"):
        step = http.post(f"/api/v1/cases/{case['id']}/transitions", json={"action": action, "version": case["version"]},
                         headers=auth)  # fmt: skip
        case = expect(await tally.timed(action, step), 200, action)
        requests += 1
    tally.case_seconds.append(time.perf_counter() - started)
    tally.statuses[case["status"]] += 1
    return requests


async def _flow(app: Served, clerk: dict[str, str], cases: int, concurrency: int) -> dict[str, Any]:
    tally, warming = Tally(), Tally()
    timing = await drive(
        app, "/health", concurrency, cases, lambda http, n: accepted_case(http, clerk, n, tally),
        warm=lambda http, n: accepted_case(http, clerk, n, warming),
    )  # fmt: skip
    async with client(app.url) as http:
        response = await http.get("/api/v1/cases", params={"status": "accepted", "limit": 1}, headers=clerk)
        accepted_in_database = int(expect(response, 200, "queue")["total"]) - warming.statuses["accepted"]
    return {
        "cases": cases,
        "accepted": tally.statuses["accepted"],
        "accepted_in_database": accepted_in_database,
        "cases_per_second": round(cases / timing.seconds, 2),
        **timing.figures(),
        "case_ms": latency(tally.case_seconds),
        "endpoint_ms": {name: latency(samples) for name, samples in tally.endpoint_seconds.items()},
    }


async def timed_requests(server: Served, warm_up: str, concurrency: int, count: int, send: Any) -> dict[str, Any]:
    """``count`` requests made by ``send(http, number)``, each expected to answer 2xx; figures and latency."""
    seconds: list[float] = []

    async def one(http: httpx.AsyncClient, number: int) -> int:
        started = time.perf_counter()
        response = await send(http, number)
        if not response.is_success:
            raise BenchmarkError(f"{response.request.url}: HTTP {response.status_code} {response.text[:300]}")
        seconds.append(time.perf_counter() - started)
        return 1

    timing = await drive(server, warm_up, concurrency, count, one, warm=send)
    return {**timing.figures(), "request_ms": latency(seconds)}


async def _checks(app: Served, clerk: dict[str, str], concurrency: int, count: int) -> dict[str, Any]:
    items = [f"HRSS-{n:02d}" for n in range(1, 21)]

    def send(http: httpx.AsyncClient, number: int) -> Any:
        params = {"unit": TOWN, "item": items[number % len(items)], "action": "accept"}
        return http.get("/api/v1/authority/check", params=params, headers=clerk)

    return await timed_requests(app, "/health", concurrency, count, send)


async def _baseline(bare: Served, concurrency: int, count: int) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {BARE_TOKEN}"}
    return {
        "intake": await timed_requests(
            bare, "/ping", concurrency, count, lambda http, _n: http.post("/intake", headers=auth)
        ),
        "ping": await timed_requests(bare, "/ping", concurrency, count, lambda http, _n: http.get("/ping")),
    }


async def _with_partners(app: Served, clerk: dict[str, str], cases: int) -> dict[str, Any]:

    people = adults(build_population())
    async with client(app.url) as http:
        await creations(http, clerk, people, 0, WARM_UP_ROUNDS)
        return {"item": CREATE_ITEM, **await creations(http, clerk, people, WARM_UP_ROUNDS, cases)}


async def _measure(app: Served, bare: Served, cases: int, concurrency: int, partners: bool) -> dict[str, Any]:
    async with client(app.url) as http:
        admin = await login(http, ADMIN)
        for item in (ITEM, PARTNER_ITEM) if partners else (ITEM,):
            for action in ("accept", "decide"):
                grant = {"item": item, "action": action, "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
                         "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
                expect(await http.post("/api/v1/grants", json=grant, headers=admin), 201, f"grant {item} {action}")
        clerk = await login(http, CLERK)
    flow = await _flow(app, clerk, cases, concurrency)
    checks = await _checks(app, clerk, concurrency, flow["requests"])
    baseline = await _baseline(bare, concurrency, flow["requests"])
    figures: dict[str, Any] = {"flow": flow, "authority_check": checks, "baseline": baseline}
    if partners:
        figures["with_partners"] = await _with_partners(app, clerk, min(cases, PARTNER_CASES))
    rps = {"flow": flow, "check": checks, **baseline}
    figures["ratios"] = {
        "flow_over_intake": _ratio(rps["flow"], rps["intake"]),
        "authority_check_over_ping": _ratio(rps["check"], rps["ping"]),
        "flow_over_ping": _ratio(rps["flow"], rps["ping"]),
    }
    return figures


def _ratio(numerator: dict[str, Any], denominator: dict[str, Any]) -> float:
    return round(numerator["requests_per_second"] / denominator["requests_per_second"], 3)


# --- one database -----------------------------------------------------------------------------------------------


def _bench_backend(
    backend: str, url: str, workdir: Path, *, cases: int, concurrency: int, workers: int, redis_url: str | None,
    simulators: Any,
) -> dict[str, Any]:  # fmt: skip
    from fuquan.platform.migrations.runner import upgrade

    workers = workers if backend == "postgresql" else 1
    with bench_database("sqlite" if backend == "sqlite" else url, workdir, "cases") as database_url:
        started = time.perf_counter()
        upgrade(database_url)
        asyncio.run(seed_database(database_url))
        if simulators is not None:
            asyncio.run(point_at_simulators(database_url, simulators))
        setup_seconds = time.perf_counter() - started
        env = {
            "FUQUAN_DATABASE_URL": database_url,
            "FUQUAN_DATA_DIR": str(workdir / "data"),
            **KEYS_ENVIRONMENT,
            "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "1000000",
            "FUQUAN_LOG_LEVEL": "WARNING",
            "FUQUAN_REDIS_URL": redis_url or "",
            "FUQUAN_REDIS_NAMESPACE": f"fuquan-bench-cases-{os.getpid()}-{time.monotonic_ns()}",
        }
        with (
            serving([[*SERVE, "--workers", str(workers)]], env, workdir) as [app],
            serving([BARE_SERVE], env, workdir, "/ping") as [bare],
            collector_paused(),
        ):
            figures = asyncio.run(_measure(app, bare, cases, concurrency, simulators is not None))
    return {"backend": backend, "workers": workers, "setup_seconds": round(setup_seconds, 2), **figures}


def _backend(url: str) -> str:
    scheme = make_url(url).get_backend_name() if "://" in url else url
    if scheme in ("sqlite", "postgresql"):
        return scheme
    raise ValueError(f"unsupported database URL for the case benchmark: {scheme} (SQLite or PostgreSQL)")


def run_case_benchmark(
    database_urls: list[str], *, cases: int = 300, concurrency: int = 8, data_dir: Path, workers: int = 1,
    redis_url: str | None = None, with_partners: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """The figures per backend (see the module's docstring), as a JSON-able dict keyed by backend name."""
    if not database_urls:
        raise ValueError("give at least one database URL")
    if not 1 <= cases <= MAX_CASES:
        raise ValueError(f"cases must be between 1 and {MAX_CASES}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
    if workers > 1 and not redis_url:
        raise ValueError("several workers share sessions, limits and policy news through Redis: give a Redis URL")
    backends = [_backend(url) for url in database_urls]
    if len(set(backends)) != len(backends):
        raise ValueError("give at most one URL per backend")

    data_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-cases-", dir=data_dir))
    results: dict[str, Any] = {}
    try:
        with contextlib.ExitStack() as stack:
            simulators = stack.enter_context(_simulators()) if with_partners else None
            for backend, url in zip(backends, database_urls, strict=True):
                workdir = root / backend
                workdir.mkdir()
                results[backend] = _bench_backend(
                    backend, url, workdir, cases=cases, concurrency=concurrency, workers=workers,
                    redis_url=redis_url, simulators=simulators,
                )  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


@contextlib.contextmanager
def _simulators() -> Iterator[Any]:

    with running_simulators(default_credentials(SIMULATOR_SECRET), population=build_population()) as simulators:
        yield simulators
