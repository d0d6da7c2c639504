"""The product served for the browser tests: started as separate processes, the way people start it.

SQLite: ``fuquan demo --port P`` (the developer's command: fresh database, demo staff, grants, 300 demo cases,
the partner simulators on free ports). PostgreSQL (when ``FUQUAN_TEST_DATABASE_URL`` is set, as in CI): the
operator's commands on a fresh database — ``fuquan seed --demo``, ``fuquan simulate``, ``fuquan partners
use-simulators`` and ``fuquan serve`` — with Redis when ``FUQUAN_TEST_REDIS_URL`` is set. Each gets its own data
directory (secret key, simulator secret, uploads). Nothing here imports the application: the processes are the
product, and their output is kept in a log file shown when one of them fails.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

READY_TIMEOUT = 300.0  # seconds; the demo data takes about a minute on a two-core machine
SIMULATOR_COUNT = 6  # fuquan simulate listens on --port … --port+5, one port per partner department
_ENV_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH", "SYSTEMROOT")


def fuquan_command() -> list[str]:
    """The ``fuquan`` console script of the environment running the tests."""
    script = Path(sysconfig.get_path("scripts")) / "fuquan"
    if script.exists():
        return [str(script)]
    found = shutil.which("fuquan")
    if found:
        return [found]
    return [sys.executable, "-c", "from fuquan.platform.cli.main import main; main()"]


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_floor() -> int:
    """The lowest port the kernel hands out for ``bind(0)`` and outgoing connections (Linux default 32768)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port_range(count: int = 1) -> int:
    """The first of ``count`` consecutive free ports, below the kernel's ephemeral range: a port picked inside
    it may be handed, before the server binds it, to a simulator's ``bind(0)`` or to any outgoing connection
    of the other test workers (PostgreSQL, Redis) — seen once as "address already in use"."""
    ceiling = min(_ephemeral_floor(), 32_768)
    floor = min(20_000, ceiling // 2)
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(floor, ceiling - count)
        if all(_port_is_free(base + offset) for offset in range(count)):
            return base
    raise RuntimeError(f"no {count} consecutive free loopback ports between {floor} and {ceiling}")


@dataclass
class DemoServer:
    backend: str
    data_dir: Path
    port: int = field(default_factory=free_port_range)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    database: str | None = None  # the PostgreSQL database created for the run
    ready_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "server.log"

    def log_tail(self, lines: int = 80) -> str:
        if not self.log.exists():
            return "(no output)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def _output(self) -> IO[bytes]:
        return self.log.open("ab")

    def _spawn(self, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with self._output() as output:
            process = subprocess.Popen(  # its own process group: stopping it also stops what it started
                args, env=env, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,
            )  # fmt: skip
        self.processes.append(process)
        return process

    def _run(self, args: list[str], env: dict[str, str]) -> None:
        with self._output() as output:
            done = subprocess.run(  # the return code is checked below, with the log
                args,
                check=False,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=READY_TIMEOUT,
            )
        if done.returncode != 0:
            raise RuntimeError(f"`{' '.join(args[-4:])}` exited with {done.returncode}")

    def dead_process(self) -> str | None:
        for process in self.processes:
            if process.poll() is not None:
                return f"`{' '.join(str(arg) for arg in process.args)}` exited with {process.returncode}"  # type: ignore[union-attr]
        return None

    def wait_ready(self) -> None:
        started = time.monotonic()
        while time.monotonic() - started < READY_TIMEOUT:
            dead = self.dead_process()
            if dead:
                raise RuntimeError(dead)
            try:
                with urllib.request.urlopen(f"{self.url}/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.url}/ready did not answer within {READY_TIMEOUT:.0f} s")

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)  # the group we created for it (start_new_session)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=15)
        self.processes.clear()


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A clean environment: none of the developer's own FUQUAN_* settings leak into the served product."""
    env = {name: os.environ[name] for name in _ENV_KEPT if name in os.environ}
    env.update(
        FUQUAN_DATA_DIR=str(data_dir),
        FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE="10000",  # every test logs in from 127.0.0.1
        PYTHONUNBUFFERED="1",
        COLUMNS="120",
    )
    env.update(extra)
    return env


def start_sqlite(server: DemoServer) -> None:
    server.data_dir.mkdir(parents=True, exist_ok=True)
    server._spawn([*fuquan_command(), "demo", "--port", str(server.port)], _environment(server.data_dir))
    server.wait_ready()


async def _admin_execute(admin_url: str, statement: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def start_postgresql(server: DemoServer, admin_url: str, redis_url: str | None) -> None:
    server.data_dir.mkdir(parents=True, exist_ok=True)
    server.database = f"fuquan_e2e_{os.getpid()}"
    asyncio.run(_admin_execute(admin_url, f"DROP DATABASE IF EXISTS {server.database} WITH (FORCE)"))
    asyncio.run(_admin_execute(admin_url, f"CREATE DATABASE {server.database}"))
    database_url = make_url(admin_url).set(database=server.database).render_as_string(hide_password=False)
    extra = {"FUQUAN_DATABASE_URL": database_url}
    if redis_url:
        extra |= {"FUQUAN_REDIS_URL": redis_url, "FUQUAN_REDIS_NAMESPACE": f"fuquan-e2e-{os.getpid()}"}
    env = _environment(server.data_dir, **extra)
    fuquan = fuquan_command()
    simulators = str(free_port_range(SIMULATOR_COUNT))
    server._run([*fuquan, "seed", "--demo"], env)
    server._spawn([*fuquan, "simulate", "--port", simulators], env)
    server._run([*fuquan, "partners", "use-simulators", "--tenant", "64", "--tenant", "46", "--port", simulators], env)
    server._spawn([*fuquan, "serve", "--port", str(server.port)], env)
    server.wait_ready()


def drop_database(server: DemoServer, admin_url: str) -> None:
    if server.database:
        asyncio.run(_admin_execute(admin_url, f"DROP DATABASE IF EXISTS {server.database} WITH (FORCE)"))
