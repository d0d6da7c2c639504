"""``fuquan bench share``: signed calls to the data-sharing API over HTTP on loopback, next to an unsigned bare
endpoint doing the lookup alone, in one run.

The database (SQLite: a fresh file; PostgreSQL: a temporary database, dropped afterwards) is migrated and seeded
as ``fuquan demo`` seeds it; a civil-affairs application is registered and granted unemployment registrations for
低保 checks, and ``people`` synthetic residents of 大武口区 get an unemployment registration in Fuquan's own
records. The app is served as ``fuquan serve`` serves it, with each worker count asked for (more than one only
on PostgreSQL, with Redis), and beside it the bare app of ``bench_bare``. Then:

- **single** — ``calls`` single verifications at ``concurrency``, each signed (HMAC-SM3, fresh nonce and
  timestamp) by the client as a partner would: requests/s, server CPU per request, p50/p99;
- **batch** — ``batches`` batch verifications of 100 residents at ``batch_concurrency``;
- **bare** — ``calls`` unsigned ``POST /verify`` to the bare app at ``concurrency``: a JSON body, one indexed
  row, an answer in the same envelope;
- ``single_over_bare``: single requests/s ÷ bare requests/s, measured minutes apart on the same machine.

Each client first makes one untimed call (connections, statement preparation). Nothing is printed; everything
the run creates under ``data_dir`` is removed again.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from fuquan.integrations.gateway.protocol import new_nonce, sign
from fuquan.platform.setup.bench_cases import resident
from fuquan.platform.setup.benchkit import (
    BARE_SERVE,
    KEYS_ENVIRONMENT,
    SERVE,
    BenchmarkError,
    Served,
    bench_database,
    bench_key_ring,
    collector_paused,
    drive,
    latency,
    seed_database,
    serving,
)

__all__ = ["run_share_benchmark"]

PATH = "/api/share/v1/employment/unemployment_registration"
BATCH = 100


async def _prepare(database_url: str, people: int) -> tuple[str, str]:
    """The application, its grant and the residents' registrations; the key id and secret."""
    from fuquan.integrations.models import HrssRecord
    from fuquan.platform.core.db import create_engine, session_factory, session_scope
    from fuquan.platform.core.timeutil import utcnow
    from fuquan.platform.share import services
    from fuquan.tenants.services import tenant_scope

    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            scope = await tenant_scope(session, "64")
            keys = bench_key_ring()
            draft = services.AppDraft("bench-civil-affairs", "低保核对系统", "大武口区民政局", "bench")
            app, issued = await services.register(session, keys, scope, draft)
            grant = services.GrantDraft(PATH.removeprefix("/api/share/v1/"), ("dibao_eligibility",),
                                        ("registered", "since", "unit"), "bench", date.today() - timedelta(days=1),
                                        region="640202")  # fmt: skip
            await services.grant(session, scope, app.code, grant)
            cipher = await keys.cipher(scope, session)
            for index in range(people):
                session.add(HrssRecord(
                    tenant_id=scope.tenant_id, person_index=cipher.blind_index(resident(index)["id_number"]),
                    kind="unemployment_registration", since=date(2026, 3, 2), until=None, item_code="HRSS-02",
                    receipt_no=f"640202001-20260302-{index:04d}", unit_code="640202001", created_at=utcnow(),
                ))  # fmt: skip
        return issued.key_id, issued.secret
    finally:
        await engine.dispose()


def _signed(key: tuple[str, str], path: str, body: bytes) -> dict[str, str]:
    nonce = new_nonce()
    headers = sign(key[1], "POST", path, body, app_key=key[0], timestamp=int(time.time()), nonce=nonce,
                   request_id=nonce, purpose="dibao_eligibility:BENCH-1", user_id="bench").as_dict()  # fmt: skip
    return {"Content-Type": "application/json", **headers}


async def _calls(
    server: Served, warm_up: str, concurrency: int, count: int, send: Any, check: Any
) -> dict[str, Any]:  # fmt: skip
    seconds: list[float] = []

    async def one(http: httpx.AsyncClient, number: int) -> int:
        started = time.perf_counter()
        response = await send(http, number)
        seconds.append(time.perf_counter() - started)
        envelope = response.json() if response.status_code == 200 else {}
        if envelope.get("code") != "00" or not check(envelope["data"]):
            raise BenchmarkError(f"{response.request.url}: HTTP {response.status_code} {response.text[:300]}")
        return 1

    timing = await drive(server, warm_up, concurrency, count, one, warm=send)
    return {**timing.figures(), "request_ms": latency(seconds)}


async def _measure(
    app: Served, bare: Served, key: tuple[str, str], people: int, calls: int, batches: int, concurrency: int,
    batch_concurrency: int,
) -> dict[str, Any]:  # fmt: skip
    def single(http: httpx.AsyncClient, number: int) -> Any:
        body = json.dumps({"id_number": resident(number % people)["id_number"]}).encode()
        return http.post(PATH, content=body, headers=_signed(key, PATH, body))

    def batch(http: httpx.AsyncClient, number: int) -> Any:
        subjects = [{"id_number": resident((number * BATCH + n) % people)["id_number"]} for n in range(BATCH)]
        body = json.dumps({"subjects": subjects}).encode()
        return http.post(f"{PATH}/batch", content=body, headers=_signed(key, f"{PATH}/batch", body))

    def unsigned(http: httpx.AsyncClient, number: int) -> Any:
        body = json.dumps({"id_number": resident(number % people)["id_number"]}).encode()
        return http.post("/verify", content=body, headers={"Content-Type": "application/json"})

    figures = {
        "single": await _calls(app, "/health", concurrency, calls, single, lambda data: data["registered"] is True),
        "batch": {"subjects_per_call": BATCH, "concurrency": batch_concurrency, **await _calls(
            app, "/health", batch_concurrency, batches, batch, lambda data: data["count"] == BATCH)},
        "bare": await _calls(bare, "/ping", concurrency, calls, unsigned, lambda data: data["registered"] is True),
    }  # fmt: skip
    figures["single_over_bare"] = round(
        figures["single"]["requests_per_second"] / figures["bare"]["requests_per_second"], 3
    )
    return figures


def run_share_benchmark(
    database_url: str, *, data_dir: Path, workers: tuple[int, ...] = (1, 2), redis_url: str | None = None,
    people: int = 1000, calls: int = 2000, batches: int = 100, concurrency: int = 16, batch_concurrency: int = 4,
) -> dict[str, Any]:  # fmt: skip
    """The figures per worker count (see the module's docstring), as a JSON-able dict."""
    from fuquan.platform.migrations.runner import upgrade

    sqlite = database_url.startswith("sqlite")
    if sqlite:
        workers = (1,)
    elif any(count > 1 for count in workers) and not redis_url:
        raise ValueError("several workers share nonces' news, limits and caches through Redis: give a Redis URL")
    data_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-share-", dir=data_dir))
    results: dict[str, Any] = {"backend": "sqlite" if sqlite else "postgresql", "people": people}
    try:
        with bench_database("sqlite" if sqlite else database_url, root, "share") as url:
            upgrade(url)
            asyncio.run(seed_database(url))
            key = asyncio.run(_prepare(url, people))
            env = {
                "FUQUAN_DATABASE_URL": url, "FUQUAN_DATA_DIR": str(root / "data"), **KEYS_ENVIRONMENT,
                "FUQUAN_LOG_LEVEL": "WARNING", "FUQUAN_REDIS_URL": redis_url or "",
                "FUQUAN_REDIS_NAMESPACE": f"fuquan-bench-share-{os.getpid()}-{time.monotonic_ns()}",
                "FUQUAN_SHARE_CALLS_PER_MINUTE": "1000000000", "FUQUAN_SHARE_CALLS_PER_DAY": "1000000000",
                "BARE_PEOPLE": ",".join(resident(index)["id_number"] for index in range(people)),
            }  # fmt: skip
            for count in workers:
                with (
                    serving([[*SERVE, "--workers", str(count)]], env, root) as [app],
                    serving([BARE_SERVE], env, root, "/ping") as [bare],
                    collector_paused(),
                ):
                    results[f"workers_{count}"] = asyncio.run(
                        _measure(app, bare, key, people, calls, batches, concurrency, batch_concurrency)
                    )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results
