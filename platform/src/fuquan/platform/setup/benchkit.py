"""What the benchmarks share: servers in their own process groups, their CPU time, temporary PostgreSQL
databases, load generators and percentiles. Nothing here prints."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

if TYPE_CHECKING:
    from fuquan.platform.core.keys.services import KeyRing

__all__ = [
    "ADMIN",
    "CLERK",
    "KEYS_ENVIRONMENT",
    "MASTER_KEY",
    "SECRET_KEY",
    "SERVE",
    "TOWN",
    "BenchmarkError",
    "Served",
    "Timing",
    "admin_execute",
    "bench_database",
    "bench_key_ring",
    "client",
    "collector_paused",
    "drive",
    "expect",
    "free_port",
    "hammer",
    "latency",
    "login",
    "percentile",
    "seed_database",
    "serving",
    "temporary_database",
]  # fmt: skip

# the staff every benchmark logs in as (seeded with the demo's password) and the unit they work at
ADMIN, CLERK, TOWN = "nx_admin", "cs_clerk", "640202001"
SECRET_KEY = "fuquan-bench-secret-key"  # noqa: S105 - a throwaway key for throwaway databases
MASTER_KEY = "fuquan-bench-master-key-for-throwaway-databases"
# every process of a benchmark shares its keys, whatever its data dir
KEYS_ENVIRONMENT = {"FUQUAN_SECRET_KEY": SECRET_KEY, "FUQUAN_MASTER_KEY": MASTER_KEY}
STARTUP_TIMEOUT = 300.0  # a Shandong-scale engine takes a while to build in each process
REQUEST_TIMEOUT = 60.0
SERVE = [sys.executable, "-c", "from fuquan.platform.cli.main import main; main()", "serve"]
BARE_SERVE = [sys.executable, "-c", "from fuquan.platform.setup.bench_bare import main; main()"]  # /ping and /intake


class BenchmarkError(RuntimeError):
    """The benchmark could not run as designed (a server did not start, a request was refused, …)."""


# --- servers ----------------------------------------------------------------------------------------------------


@dataclass
class Served:
    """A server process leading its own process group (its workers, if any, are in it too)."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of every process in the group (Linux /proc), None where unknown."""
        total, seen = 0.0, False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.process.pid:  # the process group id
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                seen = True
        return total if seen else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def serving(
    commands: list[list[str]], env: dict[str, str], workdir: Path, ready_path: str = "/ready"
) -> Iterator[list[Served]]:
    """Start one server per command (each given ``--port``), wait until each answers ``ready_path`` with 200,
    and stop them all (SIGTERM to the group, then SIGKILL) afterwards."""
    processes: list[Served] = []
    try:
        for index, command in enumerate(commands):
            port = free_port()
            log = workdir / f"server-{index}-{port}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(  # noqa: S603 - our own interpreter running our own code
                    [*command, "--port", str(port)], env={**os.environ, **env}, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )  # fmt: skip
            processes.append(Served(f"http://127.0.0.1:{port}", process, log))
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for served in processes:
            while True:
                if served.process.poll() is not None:
                    raise BenchmarkError(f"a server exited ({served.process.returncode}):\n{served.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{served.url}{ready_path}", timeout=5, trust_env=False).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise BenchmarkError(f"a server was not ready within {STARTUP_TIMEOUT:.0f} s:\n{served.tail()}")
                time.sleep(0.1)
        yield processes
    finally:
        for served in processes:
            if served.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(served.process.pid, signal.SIGTERM)
                try:
                    served.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(served.process.pid, signal.SIGKILL)
                    served.process.wait()


# --- databases --------------------------------------------------------------------------------------------------


async def admin_execute(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def temporary_database(server_url: str, name: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database ``name`` on the server ``server_url`` names; dropped afterwards."""
    if make_url(server_url).drivername == "postgresql":
        server_url = make_url(server_url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    asyncio.run(admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(admin_execute(server_url, f"CREATE DATABASE {name}"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_execute(server_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def bench_key_ring(master: str = MASTER_KEY, previous: str = "", secret: str = SECRET_KEY) -> KeyRing:
    """The keys a benchmark's commands use: by default the same as its servers' (``KEYS_ENVIRONMENT``)."""
    from fuquan.platform.core.config import load_settings
    from fuquan.platform.migrations.keys import key_ring

    keys = {"FUQUAN_SECRET_KEY": secret, "FUQUAN_MASTER_KEY": master, "FUQUAN_PREVIOUS_MASTER_KEYS": previous}
    return key_ring(load_settings({"FUQUAN_DATA_DIR": "/nonexistent", **keys}))


@contextlib.contextmanager
def bench_database(url: str, workdir: Path, name: str) -> Iterator[str]:
    """A SQLite file in ``workdir`` when ``url`` says sqlite, else a temporary PostgreSQL database named after the
    benchmark on the server ``url`` names (dropped afterwards)."""
    if url.startswith("sqlite"):
        from fuquan.platform.core.config import sqlite_url

        yield sqlite_url(workdir / "bench.db")  # the file goes with workdir
        return
    with temporary_database(url, f"fuquan_bench_{name}_{os.getpid()}") as database_url:
        yield database_url


async def seed_database(url: str) -> None:
    """Both tenants, the catalogue and the demo staff, as ``fuquan demo`` seeds them (no demo cases), and the
    tenants' data keys under ``MASTER_KEY``."""
    from fuquan.platform.core.db import create_engine, session_factory, session_scope
    from fuquan.platform.migrations.keys import prepare_keys
    from fuquan.platform.setup.demo import DEMO_STAFF, add_demo_staff
    from fuquan.platform.setup.known_factors import enrol_known_factors
    from fuquan.platform.setup.seed import seed

    engine = create_engine(url)
    try:
        maker = session_factory(engine)
        await seed(maker)
        async with session_scope(maker) as session:
            await add_demo_staff(session)
        await prepare_keys(bench_key_ring(), maker)
        async with session_scope(maker) as session:  # the admins' codes are made by ``login``
            await enrol_known_factors(session, bench_key_ring(), [staff.username for staff in DEMO_STAFF])
    finally:
        await engine.dispose()


# --- load -------------------------------------------------------------------------------------------------------


def client(base_url: str) -> httpx.AsyncClient:
    """One kept-alive connection; loopback only, whatever proxy the environment names."""
    return httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT, trust_env=False, limits=httpx.Limits(max_connections=1)
    )


def expect(response: httpx.Response, status: int, what: str) -> dict[str, Any]:
    if response.status_code != status:
        raise BenchmarkError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    return dict(response.json())


async def login(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    """The Authorization header of a demo staff member (every benchmark seeds them with the demo password)."""
    from fuquan.platform.setup.demo import DEMO_PASSWORD
    from fuquan.platform.setup.known_factors import KNOWN_CODES

    body = {"username": username, "password": DEMO_PASSWORD}
    answer = await http.post("/api/v1/auth/token", json=body)
    if answer.status_code == 401 and answer.json().get("rule") == "second_factor_required":  # an admin (known secret)
        answer = await http.post("/api/v1/auth/token", json={**body, "code": await KNOWN_CODES.acode(username)})
    token = expect(answer, 200, f"login {username}")["access_token"]
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Timing:
    seconds: float  # wall time of the timed part
    requests: int
    server_cpu_seconds: float | None  # the server's process group's CPU time in it (Linux), None where unknown
    client_cpu_seconds: float  # this process's

    def figures(self) -> dict[str, Any]:
        server = self.server_cpu_seconds
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests / self.seconds, 1),
            "server_cpu_ms_per_request": None if server is None else round(server * 1000 / self.requests, 3),
            "client_cpu_ms_per_request": round(self.client_cpu_seconds * 1000 / self.requests, 3),
        }


async def drive(
    server: Served,
    warm_up: str,
    concurrency: int,
    jobs: int,
    work: Callable[[httpx.AsyncClient, int], Awaitable[int]],
    *,
    warm: Callable[[httpx.AsyncClient, int], Awaitable[object]] | None = None,
) -> Timing:
    """``concurrency`` workers, each with its own httpx client (one kept-alive connection), share ``jobs``;
    ``work`` returns how many requests it made. Connections are made outside the timed part, and with ``warm``
    each client first does one job of its own (numbered ``jobs``, ``jobs + 1``, …) all at once, untimed: the
    server's first answers (its database connections opened, its statements compiled and prepared) are not
    what a serving process spends its day on."""
    numbers = iter(range(jobs))
    clients = [client(server.url) for _ in range(concurrency)]
    made = 0
    try:
        for each in clients:
            expect(await each.get(warm_up), 200, warm_up)
        if warm is not None:
            await asyncio.gather(*(warm(each, jobs + index) for index, each in enumerate(clients)))

        async def worker(each: httpx.AsyncClient) -> None:
            nonlocal made
            for number in numbers:
                requests = await work(each, number)  # awaited first: `made += await …` would lose updates
                made += requests

        server_cpu, client_cpu = server.cpu_seconds(), time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(worker(each) for each in clients))
        seconds = time.perf_counter() - started
        client_cpu, server_after = time.process_time() - client_cpu, server.cpu_seconds()
        server_seconds = None if server_cpu is None or server_after is None else server_after - server_cpu
        return Timing(seconds, made, server_seconds, client_cpu)
    finally:
        for each in clients:
            await each.aclose()


async def hammer(url: str, requests: list[bytes], connections: int, seconds: float) -> dict[str, Any]:
    """Keep-alive HTTP/1.1 over raw sockets: each connection sends a request, reads the answer, repeats — a load
    generator that spends little CPU, so that the cores go to the server."""
    parsed = httpx.URL(url)
    counts = [0] * connections
    errors = [0] * connections
    deadline = time.perf_counter() + seconds

    async def one(index: int) -> None:
        reader, writer = await asyncio.open_connection(parsed.host, parsed.port)
        try:
            number = index
            while time.perf_counter() < deadline:
                writer.write(requests[number % len(requests)])
                number += 1
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                await reader.readexactly(length)
                counts[index] += 1
                errors[index] += status != 200
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(connections)))
    elapsed = time.perf_counter() - began
    return {"requests_per_second": round(sum(counts) / elapsed, 1), "requests": sum(counts), "errors": sum(errors)}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The load generator's own garbage collector off while it measures: a full collection of this process's
    heap (the whole app imported, a policy world prepared) pauses it for about 100 ms, which would be counted
    as the server's latency. Everything alive is frozen first; the collector is restored afterwards."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


# --- figures ----------------------------------------------------------------------------------------------------


def percentile(samples: list[float], percent: float) -> float:
    """Nearest-rank percentile of seconds, in milliseconds."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1] * 1000, 2)


def latency(samples: list[float]) -> dict[str, float]:
    if not samples:
        return {}
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99), "max": round(max(samples) * 1000, 2)}


@contextlib.contextmanager
def seeded_app_and_bare(database_url: str, root: Path, name: str) -> Iterator[tuple[Served, Served]]:
    """A fresh database (a SQLite file in ``root``, or a temporary PostgreSQL one) migrated and seeded as
    ``fuquan demo`` seeds it, one app process serving it and a bare Litestar app beside it, limits lifted; the
    collector paused while they run."""
    from fuquan.platform.migrations.runner import upgrade

    with bench_database("sqlite" if database_url.startswith("sqlite") else database_url, root, name) as url:
        upgrade(url)
        asyncio.run(seed_database(url))
        env = {"FUQUAN_DATABASE_URL": url, "FUQUAN_DATA_DIR": str(root / "data"), **KEYS_ENVIRONMENT,
               "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "1000000", "FUQUAN_PUBLIC_LOOKUPS_PER_MINUTE": "1000000",
               "FUQUAN_LOG_LEVEL": "WARNING"}  # fmt: skip
        with (
            serving([SERVE], env, root) as [app],
            serving([BARE_SERVE], env, root, "/ping") as [bare],
            collector_paused(),
        ):
            yield app, bare
