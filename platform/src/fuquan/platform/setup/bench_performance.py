"""``fuquan bench performance``: staff and unit performance for a whole county over a year, on PostgreSQL.

A year of decided cases is generated in SQL for 大武口区 (640202: its townships and villages, handled by
``staff_per_town`` generated clerks and approvers per township) and three times as many in the rest of 宁夏, accepted
over the year's first 360 days (so each is decided and issued within it), each with its trace (收件, 提交, 受理,
准予 or 不予许可, 出件), its working days, and one in three rated, then vacuumed and analysed as autovacuum would
(else its run after the bulk insert slows whatever is timed beside it). A server is started on that database; the
county's supervisor then asks for the year per township and per person (each beside the year before) and for the XLSX
export, ``repeat`` times each.

Figures: the seconds of each request (median and slowest), the rows, and — the baseline, measured in the same run —
the seconds PostgreSQL alone takes to count the county's trace of the year (one ``count(*)``). Checks: the figures
add up to what was generated (every case accepted, decided and issued once).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text

from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import local_date, local_midnight, utcnow
from fuquan.platform.migrations.runner import upgrade
from fuquan.platform.setup.benchkit import (
    KEYS_ENVIRONMENT,
    SERVE,
    BenchmarkError,
    admin_execute,
    bench_database,
    client,
    expect,
    login,
    seed_database,
    serving,
)
from fuquan.tenants.models import Tenant, Unit

COUNTY = "640202"

_APPLICANT = text("""
INSERT INTO applicant (tenant_id, id_index, id_cipher, id_masked, name_cipher, name_masked, created_at)
VALUES (:tenant, 'bench', '\\x00', '640202********0000', '\\x00', '张*', now()) RETURNING id
""")
_STAFF = text("""
WITH made AS (
    INSERT INTO staff (tenant_id, username, display_name, password_hash, unit_code, active, created_at)
    SELECT :tenant, 'bench_' || t.code || '_' || r.role || '_' || n, '绩效' || r.role || n, 'x', t.code, true, now()
    FROM unnest(CAST(:towns AS varchar[])) AS t(code)
    CROSS JOIN (VALUES ('window_clerk'), ('approver')) AS r(role)
    CROSS JOIN generate_series(1, :per_town) AS n
    RETURNING id, unit_code, username)
INSERT INTO role_assignment (staff_id, tenant_id, unit_code, role)
SELECT id, :tenant, unit_code, CASE WHEN username LIKE '%window_clerk%' THEN 'window_clerk' ELSE 'approver' END
FROM made
""")
# one case per g: its unit, day, days taken and people; ``county`` cases are in 640202, the rest elsewhere
_CASES = text("""
INSERT INTO case_file (tenant_id, receipt_no, query_code, item_code, catalog_edition, applicant_id, accepting_unit,
    routed_to, status, version, trace_length, form, form_masked, created_by, acceptor_id, decider_id, created_at,
    accepted_at, decided_at, issued_at, accepted_on, promised_days, deadline, working_days_used, rating,
    needs_follow_up, alarms_set)
SELECT :tenant, 'PERF-' || g, 'Q' || g, 'HRSS-04', 1, :applicant, u.code, u.town, 'issued', 1, 6, '{}', '{}',
    p.clerk, p.clerk, p.approver, d.at, d.at, d.at + interval '3 days', d.at + interval '4 days', CAST(d.at AS date),
    10, CAST(d.at AS date) + 14, g % 13, CASE WHEN g % 3 = 0 THEN 1 + g % 5 END, false, true
FROM generate_series(1, :cases) AS g
JOIN LATERAL (SELECT CASE WHEN g % 4 = 0
        THEN (CAST(:county_units AS varchar[]))[1 + (g / 4) % cardinality(CAST(:county_units AS varchar[]))]
        ELSE (CAST(:other_units AS varchar[]))[1 + g % cardinality(CAST(:other_units AS varchar[]))] END AS code) AS c
    ON true
JOIN LATERAL (SELECT c.code, substr(c.code, 1, 9) AS town) AS u ON true
JOIN LATERAL (SELECT CAST(:start AS timestamptz) + ((g * 7919) % 31104000) * interval '1 second' AS at) AS d ON true
JOIN LATERAL (SELECT array_position(CAST(:towns AS varchar[]), u.town) AS i) AS t ON true
JOIN LATERAL (SELECT coalesce((CAST(:clerks AS bigint[]))[(t.i - 1) * :per_town + 1 + (g / 4) % :per_town], :fallback)
                  AS clerk,
              coalesce((CAST(:approvers AS bigint[]))[(t.i - 1) * :per_town + 1 + (g / 4) % :per_town], :fallback)
                  AS approver) AS p ON true
""")
_EVENTS = text("""
INSERT INTO case_event (case_id, tenant_id, seq, at, actor_id, actor_name, role, unit, action, from_status, to_status,
    detail)
SELECT c.id, c.tenant_id, s.seq, c.accepted_at + s.after, CASE WHEN s.action IN ('approve', 'deny') THEN c.decider_id
    ELSE c.acceptor_id END, '绩效', 'window_clerk', CASE WHEN s.action IN ('approve', 'deny') THEN c.routed_to
    ELSE c.accepting_unit END, s.action, s.from_status, s.to_status, '{}'
FROM case_file c
CROSS JOIN LATERAL (VALUES (1, interval '0', 'create', NULL, 'draft'), (2, interval '1 minute', 'submit', 'draft',
        'submitted'), (3, interval '2 minutes', 'accept', 'submitted', 'accepted'),
        (4, interval '3 days', CASE WHEN c.id % 10 = 0 THEN 'deny' ELSE 'approve' END, 'in_review', 'approved'),
        (5, interval '4 days', 'issue', 'approved', 'issued')) AS s(seq, after, action, from_status, to_status)
WHERE c.receipt_no LIKE 'PERF-%'
""")
_BASELINE = text("""
SELECT count(*) FROM case_event WHERE tenant_id = :tenant AND at >= :start AND at < :end AND unit LIKE '640202%'
""")


def run_performance_benchmark(server_url: str, *, cases: int, staff_per_town: int, repeat: int) -> dict[str, Any]:
    if server_url.startswith("sqlite"):
        raise BenchmarkError(
            "the performance benchmark generates its cases with PostgreSQL's generate_series: give --database-url"
        )
    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        workdir = Path(scratch)
        with bench_database(server_url, workdir, "performance") as url:
            upgrade(url)
            asyncio.run(seed_database(url))
            started = time.perf_counter()
            generated = asyncio.run(_generate(url, cases, staff_per_town))
            generated["seconds"] = round(time.perf_counter() - started, 1)
            env = {"FUQUAN_DATABASE_URL": url, "FUQUAN_DATA_DIR": str(workdir / "data"), **KEYS_ENVIRONMENT,
                   "FUQUAN_LOG_LEVEL": "WARNING", "FUQUAN_REDIS_URL": "",
                   "FUQUAN_REDIS_NAMESPACE": f"fuquan-bench-performance-{os.getpid()}"}  # fmt: skip
            with serving([SERVE], env, workdir) as [server]:
                measured = asyncio.run(_measure(server.url, url, generated, repeat))
            return {"backend": "postgresql", "generated": generated, **measured}


async def _generate(url: str, cases: int, staff_per_town: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with session_scope(session_factory(engine)) as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.code == "64"))
            if tenant is None:
                raise BenchmarkError("the seeded tenant 64 is missing")
            units = list(await session.scalars(select(Unit.code).where(Unit.tenant_id == tenant.id,
                                                                         Unit.level.in_((4, 5)))))  # fmt: skip
            county = [code for code in units if code.startswith(COUNTY)]
            towns = sorted({code[:9] for code in county})
            others = [code for code in units if not code.startswith(COUNTY)]
            today = local_date(utcnow(), tenant.timezone)
            first = today - timedelta(days=365)
            fallback = await session.scalar(text("SELECT min(id) FROM staff WHERE tenant_id = :t"), {"t": tenant.id})
            applicant = await session.scalar(_APPLICANT, {"tenant": tenant.id})
            await session.execute(_STAFF, {"tenant": tenant.id, "towns": towns, "per_town": staff_per_town})
            made = (await session.execute(text(
                "SELECT id, unit_code, username LIKE '%window_clerk%' FROM staff WHERE username LIKE 'bench_%'"
                " ORDER BY unit_code, id"))).tuples().all()  # fmt: skip
            clerks = [int(i) for i, _unit, clerk in made if clerk]  # per town in order, ``per_town`` each
            approvers = [int(i) for i, _unit, clerk in made if not clerk]
            await session.execute(_CASES, {
                "tenant": tenant.id, "applicant": applicant, "cases": cases, "county_units": county,
                "other_units": others, "start": local_midnight(first, tenant.timezone), "per_town": staff_per_town,
                "fallback": fallback, "towns": towns, "clerks": clerks, "approvers": approvers,
            })  # fmt: skip
            await session.execute(_EVENTS)
        for table in ("case_file", "case_event", "staff", "role_assignment"):  # as autovacuum would, before timing
            await admin_execute(url, f"VACUUM ANALYZE {table}")
        async with session_scope(session_factory(engine)) as session:
            in_county = await session.scalar(text(
                "SELECT count(*) FROM case_file WHERE receipt_no LIKE 'PERF-%' AND accepting_unit LIKE '640202%'"
                " AND accepted_at >= :start"), {"start": local_midnight(first, tenant.timezone)})  # fmt: skip
            events = await session.scalar(text("SELECT count(*) FROM case_event"))
        return {"cases": cases, "county_cases": int(in_county or 0), "events": int(events or 0),
                "county_towns": len(towns), "first": first.isoformat(), "last": today.isoformat(),
                "tenant_id": tenant.id}  # fmt: skip
    finally:
        await engine.dispose()


async def _timed(http: httpx.AsyncClient, path: str, params: dict[str, str], headers: dict[str, str],
                 repeat: int) -> tuple[list[float], httpx.Response]:  # fmt: skip
    seconds, answer = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        answer = await http.get(path, params=params, headers=headers)
        seconds.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise BenchmarkError(f"{path}: HTTP {answer.status_code} {answer.text[:300]}")
    assert answer is not None
    return seconds, answer


def _summary(seconds: list[float]) -> dict[str, float]:
    return {"median_seconds": round(statistics.median(seconds), 3), "slowest_seconds": round(max(seconds), 3)}


async def _measure(base_url: str, url: str, generated: dict[str, Any], repeat: int) -> dict[str, Any]:
    params = {"unit": COUNTY, "first": generated["first"], "last": generated["last"], "compare": "previous"}
    async with client(base_url) as http:
        supervisor = await login(http, "dwk_supervisor")
        results: dict[str, Any] = {}
        by_unit, answer = await _timed(http, "/api/v1/supervision/performance", params, supervisor, repeat)
        read = answer.json()
        results["per_township"] = {**_summary(by_unit), "rows": len(read["rows"])}
        total = read["total"]["figures"]
        by_staff, answer = await _timed(http, "/api/v1/supervision/performance", {**params, "by": "staff"},
                                        supervisor, repeat)  # fmt: skip
        results["per_person"] = {**_summary(by_staff), "rows": len(answer.json()["rows"])}
        xlsx, answer = await _timed(http, "/api/v1/supervision/performance/export", {**params, "by": "staff"},
                                    supervisor, repeat)  # fmt: skip
        results["xlsx_per_person"] = {**_summary(xlsx), "bytes": len(answer.content)}
        expect(await http.get("/ready"), 200, "ready")
    results["baseline_count_seconds"] = await _baseline(url, generated, repeat)
    checks = {
        "every_county_case_accepted_once": total["accepted"] == generated["county_cases"],
        "every_county_case_decided_once": total["decided"] == generated["county_cases"],
        "every_county_case_issued_once": total["issued"] == generated["county_cases"],
    }
    if not all(checks.values()):
        raise BenchmarkError(f"the figures do not add up: {total} for {generated['county_cases']} cases")
    return {**results, "checks": checks}


async def _baseline(url: str, generated: dict[str, Any], repeat: int) -> float:
    """PostgreSQL alone counting the county's trace of the year: the floor under any figure built on it."""
    engine = create_engine(url)
    try:
        seconds = []
        async with session_scope(session_factory(engine)) as session:
            tz = "Asia/Shanghai"
            first, last = date.fromisoformat(generated["first"]), date.fromisoformat(generated["last"])
            params = {"tenant": generated["tenant_id"], "start": local_midnight(first, tz),
                      "end": local_midnight(last + timedelta(days=1), tz)}  # fmt: skip
            for _ in range(repeat):
                started = time.perf_counter()
                await session.scalar(_BASELINE, params)
                seconds.append(time.perf_counter() - started)
        return round(statistics.median(seconds), 3)
    finally:
        await engine.dispose()
