"""``fuquan bench files``: uploaded materials with two app processes that share no disk, through object storage.

Two ``fuquan serve`` processes, each with a data dir of its own, share one database (and Redis when given) and
one S3 bucket (moto's S3 server, started here on a free port). A window clerk opens cases at 长胜街道 and
``uploads`` distinct photos are uploaded to their required materials by ``concurrency`` clients, alternately
through one process and the other. Then every acknowledged upload is read back through the *other* process
and compared byte for byte: ``lost`` counts what was acknowledged but cannot be read back whole.

Halfway through, the S3 server is stopped for ``outage_seconds`` and started again on the same port, as a MinIO
restart is (moto keeps the bucket in its process, as MinIO keeps it on disk). Uploads meanwhile are refused with
503 and nothing recorded; the clients retry them, as a clerk would, until the store is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from fuquan.platform.setup.bench_cases import ITEM, resident
from fuquan.platform.setup.benchkit import (
    ADMIN,
    CLERK,
    KEYS_ENVIRONMENT,
    SERVE,
    TOWN,
    BenchmarkError,
    Served,
    bench_database,
    client,
    expect,
    latency,
    login,
    seed_database,
    serving,
)

BUCKET = "fuquan-bench-files"
MAX_UPLOADS = 20_000
MAX_ATTEMPTS = 60  # per upload, 0.5 s apart: the store may be down for up to half a minute
GRANT_SEEN_SECONDS = 30.0  # what is measured is the store's outage, not how soon a process learns of a grant


def distinct_png(number: int) -> bytes:
    """A valid 1×1 PNG whose colour is ``number``: every upload different, so none is stored only once."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1×1, 8-bit RGB
    pixel = zlib.compress(b"\x00" + (number % 2**24).to_bytes(3, "big"))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


class _S3:
    """moto's S3 server on a free port, which can be restarted on the same port with its buckets kept."""

    def __init__(self) -> None:
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as error:  # a development dependency: the benchmark runs from a checkout
            raise BenchmarkError(
                "fuquan bench files needs moto's S3 server: run it from a checkout (uv sync)"
            ) from error
        self._server_class = ThreadedMotoServer
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the S3 server's line per request: not the figures
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, self.port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{self.port}"

    def restart(self, outage_seconds: float) -> None:
        self.server.stop()
        time.sleep(outage_seconds)
        self.server = self._server_class(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()


@contextlib.contextmanager
def _s3() -> Iterator[tuple[_S3, dict[str, str]]]:
    s3 = _S3()
    try:
        if httpx.put(f"{s3.endpoint}/{BUCKET}", timeout=10, trust_env=False).status_code != 200:
            raise BenchmarkError("the S3 server did not create the bucket")
        yield s3, {"FUQUAN_FILES_URL": f"s3://{BUCKET}/materials", "AWS_ENDPOINT": s3.endpoint,
                   "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "fuquan-bench",
                   "AWS_SECRET_ACCESS_KEY": "fuquan-bench-secret"}  # fmt: skip
    finally:
        s3.server.stop()


async def _granted(http: httpx.AsyncClient, servers: list[Served]) -> dict[str, str]:
    """The town may accept the item, and every process knows it; the clerk's header."""
    admin = await login(http, ADMIN)
    grant = {"item": ITEM, "action": "accept", "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
             "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
    expect(await http.post("/api/v1/grants", json=grant, headers=admin), 201, "grant")
    clerk = await login(http, CLERK)
    await asyncio.gather(*(_granted_at(server, clerk) for server in servers))
    return clerk


async def _granted_at(server: Served, clerk: dict[str, str]) -> None:
    """Wait until ``server`` answers that the town may accept the item."""
    params = {"unit": TOWN, "item": ITEM, "action": "accept"}
    deadline = time.monotonic() + GRANT_SEEN_SECONDS
    async with client(server.url) as http:
        while True:
            answer = expect(await http.get("/api/v1/authority/check", params=params, headers=clerk), 200, "check")
            if answer["allowed"]:
                return
            if time.monotonic() > deadline:
                raise BenchmarkError(f"{server.url} did not learn of the grant within {GRANT_SEEN_SECONDS:g} s")
            await asyncio.sleep(0.1)


async def _uploads(
    servers: list[Served], uploads: int, concurrency: int, s3: _S3, outage_seconds: float
) -> dict[str, Any]:
    async with client(servers[0].url) as http:
        clerk = await _granted(http, servers)
        slots: list[tuple[int, int]] = []
        number = 0
        while len(slots) < uploads:
            body = {"item": ITEM, "unit": TOWN, "applicant": resident(number)}
            case = expect(await http.post("/api/v1/cases", json=body, headers=clerk), 201, "create")
            number += 1
            slots += [(case["id"], m["index"]) for m in case["materials"] if m["required"] and m["state"] == "missing"]
    slots = slots[:uploads]
    acknowledged: dict[int, tuple[bytes, int]] = {}  # position -> (bytes, the process that took them)
    refused: list[str] = []
    unavailable = 0  # 503 answers while the store was down, each retried
    restart: asyncio.Task[None] | None = None
    seconds: list[float] = []
    queue = list(enumerate(slots))
    queue.reverse()

    async def worker(http: httpx.AsyncClient, process: int) -> None:
        nonlocal unavailable, restart
        while queue:
            position, (case_id, index) = queue.pop()
            if restart is None and position >= len(slots) // 2 and outage_seconds > 0:
                restart = asyncio.create_task(asyncio.to_thread(s3.restart, outage_seconds))
            data = distinct_png(position)
            for _attempt in range(MAX_ATTEMPTS):
                started = time.perf_counter()
                answer = await http.post(f"/api/v1/cases/{case_id}/materials/{index}",
                                         files={"file": ("photo.png", data, "image/png")}, headers=clerk)  # fmt: skip
                seconds.append(time.perf_counter() - started)
                if answer.status_code != 503:
                    break
                unavailable += 1
                await asyncio.sleep(0.5)  # the store is down: try again, as the clerk would
            if answer.status_code == 200:
                acknowledged[position] = (data, process)
            else:
                refused.append(f"{answer.status_code} {answer.text[:200]}")

    async with contextlib.AsyncExitStack() as stack:
        # ``concurrency`` clients on each process, one kept-alive connection each
        opened = [(await stack.enter_async_context(client(servers[n % 2].url)), n % 2) for n in range(2 * concurrency)]
        began = time.perf_counter()
        await asyncio.gather(*(worker(http, process) for http, process in opened))
        if restart is not None:
            await restart
        elapsed = time.perf_counter() - began
        lost = 0
        for position, (data, process) in acknowledged.items():
            case_id, index = slots[position]
            other = opened[1 - process][0]  # a client of the process that did not take the upload
            read = await other.get(f"/api/v1/cases/{case_id}/materials/{index}/file", headers=clerk)
            lost += read.status_code != 200 or read.content != data
    return {
        "uploads": len(slots),
        "acknowledged": len(acknowledged),
        "refused": len(refused),
        "refusals": refused[:5],
        "s3_restarted_after": len(slots) // 2 if restart is not None else None,
        "s3_outage_seconds": outage_seconds if restart is not None else 0,
        "answered_503_while_s3_was_down": unavailable,
        "read_back_through_the_other_process": len(acknowledged) - lost,
        "lost": lost,
        "seconds": round(elapsed, 2),
        "uploads_per_second": round(len(slots) / elapsed, 1),
        "upload_ms": latency(seconds),
    }


def run_files_benchmark(
    database_url: str,
    *,
    redis_url: str | None,
    uploads: int = 1000,
    concurrency: int = 4,
    outage_seconds: float = 2.0,
    data_dir: Path,
) -> dict[str, Any]:
    """The figures (see the module's docstring) as a JSON-able dict."""
    from fuquan.platform.migrations.runner import upgrade

    if not 1 <= uploads <= MAX_UPLOADS:
        raise ValueError(f"uploads must be between 1 and {MAX_UPLOADS}")
    data_dir.mkdir(parents=True, exist_ok=True)
    with _s3() as (s3, s3_environment), bench_database(database_url, data_dir, "files") as database:
        upgrade(database)
        asyncio.run(seed_database(database))
        common = {**s3_environment, "FUQUAN_DATABASE_URL": database, **KEYS_ENVIRONMENT, "FUQUAN_LOG_LEVEL": "WARNING",
                  "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "1000000", "FUQUAN_REDIS_URL": redis_url or "",
                  "FUQUAN_REDIS_NAMESPACE": f"fuquan-bench-files-{os.getpid()}-{time.monotonic_ns()}"}  # fmt: skip
        with (
            serving([SERVE], {**common, "FUQUAN_DATA_DIR": str(data_dir / "one")}, data_dir) as [one],
            serving([SERVE], {**common, "FUQUAN_DATA_DIR": str(data_dir / "two")}, data_dir) as [two],
        ):
            figures = asyncio.run(_uploads([one, two], uploads, concurrency, s3, outage_seconds))
        figures["local_files_written"] = sum(1 for _ in data_dir.glob("*/files/**/*") if _.is_file())
    return {"backend": database_url.split(":", 1)[0].split("+", maxsplit=1)[0], "processes": 2, **figures}
