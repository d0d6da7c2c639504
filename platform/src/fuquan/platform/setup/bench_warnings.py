"""``fuquan bench warnings``: the warning job over a million cases on PostgreSQL, run by two replicas at once.

``cases`` cases of 宁夏 are generated in SQL (spread over the region's townships; one in ten open, the rest closed;
the open ones accepted over the last 30 days with their yellow and red days after 3 and 6 days, and one in fifty
submitted with the last day of its acceptance period within the last 10 days or the next 5). Two warning jobs then
run at once, as two replicas would should their slots overlap; then once more, as the next slot finds nothing new.

Figures: the seconds of the first run (both replicas) and of the second; the alarms that fell due and the cases
told of each kind; the inbox items written; and the checks: every due alarm told exactly once (the inbox holds one
item per recipient and case and kind, and as many cases per kind as were due), nothing told on the second run.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from fuquan.platform.accounts.models import Staff
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.migrations.runner import upgrade
from fuquan.platform.notifications.models import InboxItem
from fuquan.platform.setup.benchkit import BenchmarkError, bench_database, seed_database
from fuquan.platform.supervision.services.warnings import WarningJob
from fuquan.tenants.models import Tenant, Unit

_APPLICANT = text("""
INSERT INTO applicant (tenant_id, id_index, id_cipher, id_masked, name_cipher, name_masked, created_at)
VALUES (:tenant, 'bench', '\\x00', '640202********0000', '\\x00', '张*', now()) RETURNING id
""")
_CASES = text("""
INSERT INTO case_file (tenant_id, receipt_no, query_code, item_code, catalog_edition, applicant_id, accepting_unit,
    routed_to, status, version, trace_length, form, form_masked, created_by, created_at, accepted_on, promised_days,
    deadline, needs_follow_up, yellow_on, red_on, accept_by, alarms_set)
SELECT :tenant, 'BENCH-' || g, 'Q' || g, 'HRSS-04', 1, :applicant, u.code,
    CASE WHEN k.kind IN ('accepted', 'in_review') THEN u.code END, k.kind, 1, 1, '{}', '{}', :staff, now(),
    CASE WHEN k.kind IN ('accepted', 'in_review') THEN CAST(:today AS date) - ((g / 20) % 30) END, 5,
    CASE WHEN k.kind IN ('accepted', 'in_review') THEN CAST(:today AS date) - ((g / 20) % 30) + 7 END, false,
    CASE WHEN k.kind IN ('accepted', 'in_review') THEN CAST(:today AS date) - ((g / 20) % 30) + 3 END,
    CASE WHEN k.kind IN ('accepted', 'in_review') THEN CAST(:today AS date) - ((g / 20) % 30) + 6 END,
    CASE WHEN k.kind = 'submitted' THEN CAST(:today AS date) - ((g / 50) % 15) + 5 END, true
FROM generate_series(1, :cases) AS g
CROSS JOIN LATERAL (SELECT CASE WHEN g % 20 = 0 THEN 'accepted' WHEN g % 20 = 10 THEN 'in_review'
                                WHEN g % 50 = 7 THEN 'submitted' ELSE 'closed' END AS kind) AS k
JOIN LATERAL (SELECT (CAST(:towns AS varchar[]))[1 + g % cardinality(CAST(:towns AS varchar[]))] AS code) AS u ON true
""")
_DUE = text("""
SELECT count(*) FILTER (WHERE status IN ('accepted', 'in_review') AND red_on <= :today) AS red,
       count(*) FILTER (WHERE status IN ('accepted', 'in_review') AND yellow_on <= :today
                        AND red_on > :today) AS yellow,
       count(*) FILTER (WHERE status = 'submitted' AND accept_by <= :today) AS acceptance
FROM case_file
""")


def run_warning_benchmark(server_url: str, *, data_dir: Path, cases: int) -> dict[str, Any]:
    if server_url.startswith("sqlite"):
        raise BenchmarkError(
            "the warning benchmark generates its cases with PostgreSQL's generate_series: give --database-url"
        )
    with bench_database(server_url, data_dir, "warnings") as url:
        upgrade(url)
        asyncio.run(seed_database(url))
        return asyncio.run(_measure(url, cases))


async def _measure(url: str, cases: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        maker = session_factory(engine)
        started = time.perf_counter()
        async with session_scope(maker) as session:
            tenant = await session.scalar(select(Tenant).where(Tenant.code == "64"))
            staff = await session.scalar(select(Staff.id).where(Staff.username == "cs_clerk"))
            if tenant is None or staff is None:
                raise BenchmarkError("the seeded tenant 64 or its clerk is missing")
            towns = list(await session.scalars(select(Unit.code).where(Unit.tenant_id == tenant.id, Unit.level == 4)))
            today = local_date(utcnow(), tenant.timezone)
            applicant = await session.scalar(_APPLICANT, {"tenant": tenant.id})
            await session.execute(_CASES, {"tenant": tenant.id, "applicant": applicant, "staff": staff,
                                           "today": today, "cases": cases, "towns": towns})  # fmt: skip
        async with session_scope(maker) as session:
            await session.execute(text("ANALYZE case_file"))
            due = (await session.execute(_DUE, {"today": today})).one()
        generated = time.perf_counter() - started

        replicas = [create_engine(url) for _ in range(2)]
        try:
            jobs = [WarningJob(session_factory(e), CatalogCache(session_factory(e))) for e in replicas]
            started = time.perf_counter()
            first = await asyncio.gather(*(job.run() for job in jobs))
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            second = await jobs[0].run()
            second_seconds = time.perf_counter() - started
        finally:
            for replica in replicas:
                await replica.dispose()

        async with session_scope(maker) as session:
            per_kind = dict((await session.execute(
                select(InboxItem.kind, func.count(func.distinct(InboxItem.case_id))).group_by(InboxItem.kind)
            )).tuples().all())  # fmt: skip
            items = await session.scalar(select(func.count()).select_from(InboxItem)) or 0
        told = {kind: sum(run.get(kind, 0) for run in first) for kind in ("overdue", "warning", "acceptance_overdue")}
        expected = {"overdue": due.red, "warning": due.yellow, "acceptance_overdue": due.acceptance}
        checks = {
            "each_due_alarm_told_once": told == expected,
            "inbox_cases_per_kind_match": {k: per_kind.get(k, 0) for k in expected} == expected,
            "second_run_told_nothing": not second,
        }
        if not all(checks.values()):
            raise BenchmarkError(f"warnings not told exactly once: {told} vs {expected}; inbox {per_kind}; {second}")
        return {
            "backend": "postgresql", "cases": cases, "generated_seconds": round(generated, 1),
            "due": expected, "told": told, "inbox_items": items, "by_replica": first,
            "first_run_seconds": round(first_seconds, 2), "second_run_seconds": round(second_seconds, 2),
            "checks": checks, "today": today.isoformat(),
        }  # fmt: skip
    finally:
        await engine.dispose()
