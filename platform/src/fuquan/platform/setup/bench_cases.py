"""Case-flow benchmark: the real app over HTTP, on SQLite and PostgreSQL, against a bare Litestar app.

``run_case_benchmark`` prepares one fresh database per URL (migrated; both tenants, the catalogue and the
demo staff; HRSS-04 accept and decide granted to 长胜街道 640202001 by nx_admin through the API), serves
the real app with uvicorn on a loopback port and has ``concurrency`` workers, each with its own
``httpx.AsyncClient``, take a window clerk's cases through create → upload the required materials →
submit → accept. A bare Litestar app with one ``GET /ping`` is then served and driven the same way, with
as many requests as the case flow made, so the ratio says what the platform costs on top of
Litestar + uvicorn + httpx on this machine.

Each server runs in its own process (``python -c``, listening on a socket the benchmark bound to
127.0.0.1 and hands over), so the load generator and the server do not share one interpreter lock; the
real app is built by ``fuquan.platform.app.factory.create_app`` there and served as ``fuquan serve`` serves
it, with its logging at WARNING. SQLite URLs only select the backend: the database is always a fresh file
under ``data_dir``. For a PostgreSQL URL a temporary database ``fuquan_bench_<pid>`` is created on that
server (the given database only serves the administrative connection) and dropped afterwards.
Everything the run creates under ``data_dir`` is removed again; nothing is printed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import structlog
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from fuquan.platform.core.config import Settings, sqlite_url
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.personal import id_check_char

__all__ = ["bare_app", "run_case_benchmark", "serve_main"]

MAX_CASES = 10_000  # keeps a run finite (and synthetic birth dates before 1990)
MAX_CONCURRENCY = 64
ITEM, TOWN, COUNTY = "HRSS-04", "640202001", "640202"
CLERK, ADMIN = "cs_clerk", "nx_admin"
SECRET_KEY = "fuquan-bench-secret-key"  # noqa: S105 - a throwaway key for a throwaway database
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = ("建国", "秀英", "志强", "桂兰", "海燕", "文华", "玉梅", "学军", "春花", "永红")
FIRST_BIRTH_DAY = date(1960, 1, 1)

REQUEST_TIMEOUT = 60.0  # seconds for any one request
STARTUP_TIMEOUT = 60.0  # seconds for a server to answer its first request
SHUTDOWN_TIMEOUT = 10.0
# A server process (see serve_main); the app factory is named, not imported: setup sits beside app, not above it.
_SERVE_CODE = "from fuquan.platform.setup.bench_cases import serve_main; serve_main()"
REAL_APP = "fuquan.platform.app.factory:create_app"


class BenchmarkError(RuntimeError):
    """The benchmark could not run as designed (a server did not start, a request was refused, …)."""


# --- the server side ---------------------------------------------------------------------------------------------


def bare_app() -> Any:
    """A Litestar app with one JSON endpoint and nothing else: the floor the case flow is compared with."""
    from litestar import Litestar, get

    @get("/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(route_handlers=[ping])


def _uvicorn_config(app: Any) -> Any:
    import uvicorn

    # The same settings for both apps, and those of `fuquan serve`: default loop and HTTP implementation
    # (uvloop and httptools when installed), no access log.
    return uvicorn.Config(
        app, log_config=None, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5
    )


def _decode_path(kind: type, value: Any) -> Any:
    if kind is Path:
        return Path(value)
    raise NotImplementedError(kind)


def _stop_when_stdin_closes() -> None:
    sys.stdin.read()  # until EOF: the benchmark stopping this server, or gone
    os.kill(os.getpid(), signal.SIGINT)  # uvicorn shuts down gracefully (lifespan: the engine disposed)


def serve_main() -> None:
    """A server process, ``python -c … KIND FD``: serve the app on the inherited listening socket FD.

    The imports come first; the app is built only once one JSON line arrives on stdin (the real app's
    settings), so they overlap the benchmark's migrating and seeding. Serves until stdin closes.
    """
    import importlib
    import threading

    import uvicorn

    kind, listener = sys.argv[1], socket.socket(fileno=int(sys.argv[2]))
    # Request logging at WARNING, as under `fuquan serve`: Litestar's structlog plugin keeps this filter.
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    module, name = REAL_APP.split(":")
    factory = getattr(importlib.import_module(module), name) if kind == "app" else None
    line = sys.stdin.readline()
    if not line:
        return
    if factory is None:
        app = bare_app()
    else:
        app = factory(msgspec.convert(json.loads(line)["settings"], Settings, dec_hook=_decode_path))
    logging.getLogger().setLevel(logging.WARNING)
    threading.Thread(target=_stop_when_stdin_closes, daemon=True).start()
    uvicorn.Server(_uvicorn_config(app)).run(sockets=[listener])


@dataclass
class _Server:
    kind: str
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def start(self, settings: Settings | None = None) -> None:
        """Build the app (with these settings) and serve it."""
        assert self.process.stdin is not None
        data = None if settings is None else msgspec.to_builtins(settings, enc_hook=str)
        self.process.stdin.write(json.dumps({"settings": data}).encode() + b"\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


@contextlib.contextmanager
def _spawned(kind: str, workdir: Path) -> Iterator[_Server]:
    """A server process on a loopback socket bound here (no free-port race), stopped afterwards."""
    log_path = workdir / f"server-{kind}.log"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener, log_path.open("wb") as log_file:
        listener.bind(("127.0.0.1", 0))
        listener.listen(2048)
        port = listener.getsockname()[1]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own module
            [sys.executable, "-c", _SERVE_CODE, kind, str(listener.fileno())],
            pass_fds=(listener.fileno(),),
            stdin=subprocess.PIPE,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    # the child holds its own copies of the socket and the log file
    server = _Server(kind, process, f"http://127.0.0.1:{port}", log_path)
    try:
        yield server
    finally:
        server.stop()


async def _wait_ready(server: _Server, path: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    async with _client(server.base_url) as client:
        while True:
            if server.process.poll() is not None:
                raise BenchmarkError(
                    f"the {server.kind} server exited ({server.process.returncode}):\n{server.output()}"
                )
            try:
                response = await client.get(path, timeout=5.0)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise BenchmarkError(f"no answer from {server.base_url}{path} within {STARTUP_TIMEOUT:.0f} s")
            await asyncio.sleep(0.1)


# --- the load side -----------------------------------------------------------------------------------------------


def _client(base_url: str) -> httpx.AsyncClient:
    # trust_env=False: loopback only, whatever proxy the environment names
    return httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT, trust_env=False, limits=httpx.Limits(max_connections=1)
    )


def _expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchmarkError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return dict(response.json())


def resident(index: int) -> dict[str, str]:
    """A distinct synthetic resident of 大武口区 for every index below ``MAX_CASES``: valid GB 11643 number."""
    birth = FIRST_BIRTH_DAY + timedelta(days=index)  # distinct birth dates: distinct numbers
    body = f"{COUNTY}{birth:%Y%m%d}{index % 1000:03d}"
    name = SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index // len(SURNAMES) % len(GIVEN_NAMES)]
    return {"id_number": body + id_check_char(body), "name": name, "phone": f"138{index:08d}"}


@dataclass
class _Tally:
    requests: int = 0
    case_seconds: list[float] = field(default_factory=list)
    create_seconds: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


async def _one_case(client: httpx.AsyncClient, auth: dict[str, str], index: int, tally: _Tally) -> None:
    started = time.perf_counter()
    body = {"item": ITEM, "unit": TOWN, "applicant": resident(index)}
    headers = {**auth, "Idempotency-Key": f"bench-case-{index:06d}"}
    case = _expect(await client.post("/api/v1/cases", json=body, headers=headers), 201, "create")
    tally.create_seconds.append(time.perf_counter() - started)
    requests = 1
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            response = await client.post(
                f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                files={"file": ("photo.png", PNG, "image/png")},
                headers=auth,
            )
            case = _expect(response, 200, "upload")
            requests += 1
    for action in ("submit", "accept"):
        step = {"action": action, "version": case["version"]}
        case = _expect(await client.post(f"/api/v1/cases/{case['id']}/transitions", json=step, headers=auth), 200,
                       action)  # fmt: skip
        requests += 1
    tally.case_seconds.append(time.perf_counter() - started)
    tally.requests += requests
    tally.statuses[case["status"]] = tally.statuses.get(case["status"], 0) + 1


@dataclass(frozen=True)
class _Timing:
    seconds: float  # wall time of the timed part
    server_cpu_seconds: float | None  # the server process's CPU time in it (Linux), None where unknown
    client_cpu_seconds: float  # this process's

    def figures(self, requests: int) -> dict[str, Any]:
        server = self.server_cpu_seconds
        return {
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(requests / self.seconds, 1),
            "server_cpu_ms_per_request": None if server is None else round(server * 1000 / requests, 3),
            "client_cpu_ms_per_request": round(self.client_cpu_seconds * 1000 / requests, 3),
        }


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _drive(
    server: _Server,
    warm_up: str,
    concurrency: int,
    jobs: int,
    work: Callable[[httpx.AsyncClient, int], Awaitable[None]],
) -> _Timing:
    """``concurrency`` workers, one client (one kept-alive connection) each, share ``jobs``; the timing of it."""
    numbers = iter(range(jobs))
    clients = [_client(server.base_url) for _ in range(concurrency)]
    try:
        for client in clients:  # connect outside the timed part, for the case flow and the bare app alike
            _expect(await client.get(warm_up), 200, warm_up)

        async def worker(client: httpx.AsyncClient) -> None:
            for number in numbers:
                await work(client, number)

        server_cpu, client_cpu = _cpu_seconds(server.process.pid), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for client in clients))
        seconds = time.perf_counter() - started
        client_cpu, server_after = time.process_time() - client_cpu, _cpu_seconds(server.process.pid)
        server_seconds = None if server_cpu is None or server_after is None else server_after - server_cpu
        return _Timing(seconds, server_seconds, client_cpu)
    finally:
        for client in clients:
            await client.aclose()


def _percentile(samples: list[float], percent: float) -> float:
    """Nearest-rank percentile, in milliseconds."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1] * 1000, 2)


def _latency(samples: list[float]) -> dict[str, float]:
    return {"p50": _percentile(samples, 50), "p99": _percentile(samples, 99)}


# --- one database ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Informational log events (seeding, staff) off while the benchmark runs; the previous setup restored."""
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    try:
        yield
    finally:
        structlog.configure(**previous)


async def _admin_execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def _fresh_database(backend: str, url: str, workdir: Path) -> Iterator[str]:
    """A fresh, empty database on the backend ``url`` names; gone again afterwards."""
    if backend == "sqlite":
        yield sqlite_url(workdir / "bench.db")
        return  # the file goes with workdir
    if make_url(url).drivername == "postgresql":
        url = make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    name = f"fuquan_bench_{os.getpid()}"
    asyncio.run(_admin_execute(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin_execute(url, f"CREATE DATABASE {name}"))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin_execute(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _seed(url: str) -> None:
    from fuquan.platform.setup.demo import add_demo_staff
    from fuquan.platform.setup.seed import seed

    engine = create_engine(url)
    try:
        maker = session_factory(engine)
        await seed(maker)
        async with session_scope(maker) as session:
            await add_demo_staff(session)
    finally:
        await engine.dispose()


async def _login(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    from fuquan.platform.setup.demo import DEMO_PASSWORD

    body = {"username": username, "password": DEMO_PASSWORD}
    token = _expect(await client.post("/api/v1/auth/token", json=body), 200, f"login {username}")["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _case_run(server: _Server, cases: int, concurrency: int) -> dict[str, Any]:
    async with _client(server.base_url) as client:
        admin = await _login(client, ADMIN)
        for action in ("accept", "decide"):
            grant = {"item": ITEM, "action": action, "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
                     "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
            _expect(await client.post("/api/v1/grants", json=grant, headers=admin), 201, f"grant {action}")
        clerk = await _login(client, CLERK)

    tally = _Tally()
    timing = await _drive(server, "/health", concurrency, cases, lambda c, n: _one_case(c, clerk, n, tally))

    async with _client(server.base_url) as client:
        response = await client.get("/api/v1/cases", params={"status": "accepted", "limit": 1}, headers=clerk)
        accepted_in_database = int(_expect(response, 200, "queue")["total"])
    return {
        "cases": cases,
        "concurrency": concurrency,
        "accepted": tally.statuses.get("accepted", 0),
        "accepted_in_database": accepted_in_database,
        "http_requests": tally.requests,
        "cases_per_second": round(cases / timing.seconds, 2),
        **timing.figures(tally.requests),
        "case_ms": _latency(tally.case_seconds),
        "create_ms": _latency(tally.create_seconds),
    }


def _measure(server: _Server, ready: str, work: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        await _wait_ready(server, ready)
        return await work()

    try:
        return asyncio.run(run())
    except BenchmarkError as error:
        raise BenchmarkError(f"{error}\n{server.kind} server output (tail):\n{server.output()}") from None


def _bench_database(backend: str, url: str, workdir: Path, cases: int, concurrency: int) -> dict[str, Any]:
    from fuquan.platform.migrations.runner import upgrade

    # the server process starts importing now; it is stopped before the database is dropped
    with _fresh_database(backend, url, workdir) as database_url, _spawned("app", workdir) as server:
        started = time.perf_counter()
        upgrade(database_url)
        asyncio.run(_seed(database_url))
        setup_seconds = time.perf_counter() - started
        server.start(
            Settings(
                data_dir=workdir,
                database_url=database_url,
                secret_key=SECRET_KEY,
                log_level="WARNING",
                login_attempts_per_minute=100_000,
            )
        )
        figures = _measure(server, "/ready", lambda: _case_run(server, cases, concurrency))
    return {"setup_seconds": round(setup_seconds, 2), **figures}


async def _bare_run(server: _Server, requests: int, concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []

    async def ping(client: httpx.AsyncClient, _number: int) -> None:
        started = time.perf_counter()
        _expect(await client.get("/ping"), 200, "ping")
        latencies.append(time.perf_counter() - started)

    timing = await _drive(server, "/ping", concurrency, requests, ping)
    return {
        "requests": requests,
        "concurrency": concurrency,
        **timing.figures(requests),
        "request_ms": _latency(latencies),
    }


def _backend(url: str) -> str:
    scheme = make_url(url).get_backend_name() if "://" in url else url
    if scheme in ("sqlite", "postgresql"):
        return scheme
    raise ValueError(f"unsupported database URL for the case benchmark: {scheme} (SQLite or PostgreSQL)")


def run_case_benchmark(
    database_urls: list[str], *, cases: int = 300, concurrency: int = 8, data_dir: Path
) -> dict[str, Any]:
    """Case-flow figures per backend, the bare-app floor and their ratios, as a JSON-able dict.

    ``{"sqlite": {...}, "postgresql": {...}, "bare": {...}, "ratios": {"sqlite": …, "postgresql": …}}``:
    per backend the cases created and accepted per second, HTTP requests per second, p50/p99 of the whole
    create → upload → submit → accept sequence (``case_ms``) and of ``POST /api/v1/cases`` alone
    (``create_ms``); for the bare app requests per second and p50/p99 per request; each ratio is the case
    flow's requests per second divided by the bare app's.
    """
    if not database_urls:
        raise ValueError("give at least one database URL")
    if not 1 <= cases <= MAX_CASES:
        raise ValueError(f"cases must be between 1 and {MAX_CASES}")
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
    backends = [_backend(url) for url in database_urls]
    if len(set(backends)) != len(backends):
        raise ValueError("give at most one URL per backend")

    data_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-cases-", dir=data_dir))
    results: dict[str, Any] = {}
    try:
        with _quiet(), _spawned("bare", root) as bare:  # the bare server imports while the first database seeds
            for backend, url in zip(backends, database_urls, strict=True):
                workdir = root / backend
                workdir.mkdir()
                results[backend] = {"backend": backend, **_bench_database(backend, url, workdir, cases, concurrency)}
            requests = max(results[backend]["http_requests"] for backend in backends)
            bare.start()
            results["bare"] = _measure(bare, "/ping", lambda: _bare_run(bare, requests, concurrency))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    bare_rps = results["bare"]["requests_per_second"]
    results["ratios"] = {backend: round(results[backend]["requests_per_second"] / bare_rps, 4) for backend in backends}
    return results
