"""Several ``fuquan serve`` processes on one database: the scaled-out shape of DESIGN §4, run for real.

In-process test clients hand requests to the app one at a time, so they cannot race; separate processes can.
Each replica is the product started the way an operator starts it, with its own port and log file, sharing
the database, the secret key and (on PostgreSQL) Redis. ``Replicas.clients`` are httpx clients, one per
replica, used concurrently.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from e2e.servers import free_port_range, fuquan_command
from helpers import TEST_MASTER_KEY

READY_TIMEOUT = 60.0
_ENV_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass
class Replica:
    name: str
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    _log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The JSON log lines this replica wrote (optionally only ``event``)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if event is None or entry.get("event") == event:
                    found.append(entry)
        return found

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def replica_environment(database_url: str, redis_url: str | None, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _ENV_KEPT if name in os.environ}
    env |= {
        "FUQUAN_DATABASE_URL": database_url,
        "FUQUAN_DATA_DIR": str(data_dir),
        "FUQUAN_SECRET_KEY": "test-secret-key",
        "FUQUAN_MASTER_KEY": TEST_MASTER_KEY,
        "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        "FUQUAN_LOG_JSON": "true",
        "FUQUAN_REDIS_NAMESPACE": f"fuquan-replicas-{os.getpid()}-{time.monotonic_ns()}",
        **extra,
    }
    if redis_url:
        env["FUQUAN_REDIS_URL"] = redis_url
    return env


@contextmanager
def replicas(
    database_url: str,
    redis_url: str | None,
    directory: Path,
    count: int = 2,
    serve_options: tuple[str, ...] = (),
    **settings: str,
) -> Iterator[list[Replica]]:
    """``count`` replicas serving ``database_url``, started together; stopped (and their logs kept) after.
    ``serve_options`` are added to each ``fuquan serve`` (e.g. ``("--workers", "2")``)."""
    env = replica_environment(database_url, redis_url, directory / "data", **settings)
    started: list[Replica] = []
    try:
        for index in range(count):
            replica = Replica(f"replica-{index + 1}", free_port_range(), directory / f"replica-{index + 1}.log")
            replica._log_file = replica.log.open("wb")
            replica.process = subprocess.Popen(
                [*fuquan_command(), "serve", "--port", str(replica.port), *serve_options],
                env=env,
                stdout=replica._log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            started.append(replica)
        for replica in started:
            _wait_ready(replica)
        yield started
    finally:
        for replica in started:
            _stop(replica)


def _wait_ready(replica: Replica) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        assert replica.process is not None
        if replica.process.poll() is not None:
            raise AssertionError(f"{replica.name} exited with {replica.process.returncode}:\n{replica.tail()}")
        try:
            if httpx.get(f"{replica.url}/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{replica.name} was not ready within {READY_TIMEOUT} s:\n{replica.tail()}")


def _stop(replica: Replica) -> None:
    if replica.process is not None and replica.process.poll() is None:
        os.killpg(replica.process.pid, signal.SIGTERM)
        try:
            replica.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(replica.process.pid, signal.SIGKILL)
            replica.process.wait()
    if replica._log_file is not None:
        replica._log_file.close()
