"""``fuquan bench certificates``: the e-certificate path through the HTTP API of a served app, next to a bare
Litestar ``/ping`` served in the same run.

Cases of HRSS-04 are created, accepted and approved at 长胜街道 (each approval signs a certificate with the
street's SM2 key); then, one request at a time after a first untimed one: the 办理结果通知书 with its certificate
(seal, QR codes, SM2 fingerprint) and, for comparison, the receipt; then the public verification page and its
JSON answer at concurrency 1 and 16 (each re-checks the signature over the decrypted record), and the bare
``/ping`` at the same concurrency. Targets (issue 17): a notice ≤ 100 ms, verification ≤ 20 ms.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from fuquan.platform.setup.bench_cases import Tally, accepted_case, timed_requests
from fuquan.platform.setup.benchkit import ADMIN, CLERK, TOWN, Served, client, expect, login, seeded_app_and_bare

ITEM = "HRSS-04"
APPROVER = "cs_approver"


async def _approved(app: Served, cases: int) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """``cases`` approved cases and the clerk's header; each with its certificate."""
    async with client(app.url) as http:
        admin = await login(http, ADMIN)
        for action in ("accept", "decide"):
            grant = {"item": ITEM, "action": action, "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
                     "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
            expect(await http.post("/api/v1/grants", json=grant, headers=admin), 201, f"grant {action}")
        clerk, approver = await login(http, CLERK), await login(http, APPROVER)
        tally, found = Tally(), []
        for index in range(cases):
            await accepted_case(http, clerk, index, tally)
        listed = expect(await http.get("/api/v1/cases", params={"limit": cases}, headers=clerk), 200, "list")
        for listed_case in listed["items"]:
            case = listed_case
            for action in ("assign", "approve"):
                body = {"action": action, "version": case["version"]}
                step = await http.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=approver)
                case = expect(step, 200, action)
            certificates = await http.get(f"/api/v1/cases/{case['id']}/certificates", headers=clerk)
            found.append({**case, "certificate": certificates.json()[0]})
        return clerk, found


async def _measure(app: Served, bare: Served, cases: int, requests: int) -> dict[str, Any]:
    clerk, approved = await _approved(app, cases)

    def document(name: str) -> Any:
        def send(http: httpx.AsyncClient, number: int) -> Any:
            case = approved[number % len(approved)]
            return http.get(f"/api/v1/cases/{case['id']}/documents/{name}", headers=clerk)

        return send

    def page(http: httpx.AsyncClient, number: int) -> Any:
        certificate = approved[number % len(approved)]["certificate"]
        return http.get("/verify", params={"no": certificate["number"], "code": certificate["verify_code"]})

    def answer(http: httpx.AsyncClient, number: int) -> Any:
        certificate = approved[number % len(approved)]["certificate"]
        return http.get(f"/api/v1/public/certificates/{certificate['number']}",
                        params={"code": certificate["verify_code"]})  # fmt: skip

    figures: dict[str, Any] = {
        "cases": len(approved),
        "result_notice_pdf": await timed_requests(app, "/health", 1, requests, document("result_notice.pdf")),
        "receipt_pdf": await timed_requests(app, "/health", 1, requests, document("receipt.pdf")),
    }
    for concurrency in (1, 16):
        figures[f"verify_page_c{concurrency}"] = await timed_requests(app, "/health", concurrency, requests * 4, page)
        figures[f"verify_api_c{concurrency}"] = await timed_requests(app, "/health", concurrency, requests * 4, answer)
        figures[f"bare_ping_c{concurrency}"] = await timed_requests(
            bare, "/ping", concurrency, requests * 4, lambda http, _n: http.get("/ping")
        )
    return figures


def run_certificate_benchmark(database_url: str, *, cases: int, requests: int, data_dir: Path) -> dict[str, Any]:
    data_dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="bench-certificates-", dir=data_dir))
    try:
        started = time.perf_counter()
        with seeded_app_and_bare(database_url, root, "certificates") as (app, bare):
            figures = asyncio.run(_measure(app, bare, cases, requests))
        figures["seconds"] = round(time.perf_counter() - started, 1)
        return {"backend": "sqlite" if database_url.startswith("sqlite") else "postgresql", **figures}
    finally:
        shutil.rmtree(root, ignore_errors=True)
