"""``fuquan bench public``: the public information pages served by one worker — 办事指南 with where to go, a
township's 权力清单和责任清单, the 政策法规库 — at concurrency 16 from the response cache, next to a bare Litestar
``/ping`` in the same run; then how long a grant takes to show on the guide (the cache key changes with the policy
version). Target (issue 17): p99 ≤ 50 ms at concurrency 16, cached.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from fuquan.platform.setup.bench_cases import timed_requests
from fuquan.platform.setup.benchkit import ADMIN, TOWN, Served, client, expect, login, seeded_app_and_bare

VILLAGE = "640202001001"
PAGES = {
    "guide": f"/guide/64/HRSS-04?unit={VILLAGE}",
    "power_list": f"/lists/{TOWN}",
    "policies": "/policies/64?q=就业",
    "guide_api": f"/api/v1/public/guides/64/HRSS-04?unit={VILLAGE}",
}
CONCURRENCY = 16


async def _grant(http: httpx.AsyncClient, admin: dict[str, str], item: str) -> None:
    grant = {"item": item, "action": "accept", "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
             "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
    expect(await http.post("/api/v1/grants", json=grant, headers=admin), 201, f"grant {item}")


async def _measure(app: Served, bare: Served, requests: int) -> dict[str, Any]:
    async with client(app.url) as http:
        admin = await login(http, ADMIN)
        await _grant(http, admin, "HRSS-04")
        point = {"kind": "center", "name": "长胜街道便民服务中心", "address": "大武口区长胜街道朝阳西街 8 号",
                 "hours": "周一至周五 9:00-17:00"}  # fmt: skip
        expect(await http.post(f"/api/v1/units/{TOWN}/service-points", json=point, headers=admin), 201, "point")
    figures: dict[str, Any] = {}
    for name, path in PAGES.items():
        figures[name] = await timed_requests(app, "/health", CONCURRENCY, requests,
                                             lambda http, _n, path=path: http.get(path))  # fmt: skip
    figures["bare_ping"] = await timed_requests(
        bare, "/ping", CONCURRENCY, requests, lambda http, _n: http.get("/ping")
    )
    async with client(app.url) as http:  # a new grant: the next answer of the guide must show it
        before = (await http.get(PAGES["guide_api"].replace("HRSS-04", "HRSS-01"))).json()
        started = time.perf_counter()
        await _grant(http, await login(http, ADMIN), "HRSS-01")
        after = (await http.get(PAGES["guide_api"].replace("HRSS-04", "HRSS-01"))).json()
        figures["grant_shown"] = {
            "before": [p["unit_code"] for p in before["places"]], "after": [p["unit_code"] for p in after["places"]],
            "seconds_from_grant_to_answer": round(time.perf_counter() - started, 3),
        }  # fmt: skip
    return figures


def run_public_benchmark(database_url: str, *, requests: int, data_dir: Path) -> dict[str, Any]:
    data_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-public-", dir=data_dir))
    try:
        with seeded_app_and_bare(database_url, root, "public") as (app, bare):
            figures = asyncio.run(_measure(app, bare, requests))
        return {"backend": "sqlite" if database_url.startswith("sqlite") else "postgresql", "concurrency": CONCURRENCY,
                **figures}  # fmt: skip
    finally:
        shutil.rmtree(root, ignore_errors=True)
