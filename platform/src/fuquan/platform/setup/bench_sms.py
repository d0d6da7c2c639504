"""``fuquan bench sms``: the SMS outbox delivered through the simulated platform with injected failures.

``messages`` SMS to distinct residents are written into the outbox, as case steps write them. ``replicas`` delivery
runners (as several app processes would run the job, should two slots overlap) then send them all through the SMS
simulator, which fails ``failure_rate`` of the requests outright and loses the answer of ``lost_answer_rate`` of
those it delivered (the sender sees a 504 and must retry without causing a second SMS). Retry delays are shortened
to tenths of a second so the run takes seconds, not the hours the real schedule spreads over.

Figures: messages per second; what the outbox says (every message ``sent``: 0 lost); what the platform delivered
(each resident's phone received exactly one message: 0 duplicates); the injected failures and lost answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from fuquan.integrations.sms.client import SmsGateway
from fuquan.integrations.sms.server import running_sms_simulator
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.migrations.runner import upgrade
from fuquan.platform.notifications.models import SmsMessage
from fuquan.platform.notifications.services.delivery import SmsDelivery
from fuquan.platform.notifications.services.outbox import sms_row
from fuquan.platform.setup.benchkit import BenchmarkError, bench_database, bench_key_ring, seed_database
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

CREDENTIALS = {"fuquan-bench": "bench-sms-secret"}
FAST_RETRIES = (timedelta(seconds=0.1), timedelta(seconds=0.2), timedelta(seconds=0.4))
MAX_SECONDS = 600.0


def run_sms_benchmark(
    database_url: str, *, data_dir: Path, messages: int, failure_rate: float, lost_answer_rate: float, replicas: int
) -> dict[str, Any]:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would drown the figures
    with bench_database(database_url, data_dir, "sms") as url:
        upgrade(url)
        asyncio.run(seed_database(url))
        with running_sms_simulator(CREDENTIALS) as sms:
            sms.control(failure_rate=failure_rate, lost_answer_rate=lost_answer_rate)
            result = asyncio.run(_deliver(url, sms.url, messages, replicas))
            stats = sms.stats()
            per_phone = Counter(message["to"] for message in sms.messages())
    counts = stats["counts"]
    result["platform"] = {
        "requests": counts.get("requests", 0), "delivered": stats["delivered"],
        "phones_reached": len(per_phone), "most_messages_to_one_phone": max(per_phone.values(), default=0),
        "injected_failures": counts.get("injected_failures", 0), "answers_lost": counts.get("answers_lost", 0),
        "repeats_answered_from_memory": counts.get("duplicates", 0),
    }  # fmt: skip
    result["lost"] = messages - result["outbox"].get("sent", 0)
    result["duplicates"] = stats["delivered"] - len(per_phone) + sum(n - 1 for n in per_phone.values())
    if result["lost"] or result["duplicates"]:
        raise BenchmarkError(f"messages lost or sent twice: {result}")
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    return {"backend": backend, "messages": messages, "failure_rate": failure_rate,
            "lost_answer_rate": lost_answer_rate, "replicas": replicas, **result}  # fmt: skip


async def _deliver(url: str, sms_url: str, messages: int, replicas: int) -> dict[str, Any]:
    engine = create_engine(url)
    keys = bench_key_ring()
    try:
        maker = session_factory(engine)
        async with session_scope(maker) as session:
            tenant = await TenantRepository(session).by_code("64")
            if tenant is None:
                raise BenchmarkError("the seeded tenant 64 is missing")
            scope = whole_tenant(tenant)
            cipher = await keys.cipher(scope, session)
            now = utcnow()
            for start in range(0, messages, 1000):
                rows = [
                    sms_row(cipher, scope, kind="case_decided", dedupe_key=f"bench:{n}", phone=f"13{n:09d}",
                            params={"item": "就业困难人员认定", "no": f"640202001-20261207-{n:04d}", "result": "准予"},
                            case_id=None, now=now)
                    for n in range(start, min(messages, start + 1000))
                ]  # fmt: skip
                await session.execute(insert(SmsMessage), [dict(row.values) for row in rows if row is not None])
        gateways = [SmsGateway(sms_url, "fuquan-bench", CREDENTIALS["fuquan-bench"]) for _ in range(replicas)]
        runners = [SmsDelivery(maker, keys, gateway, retry_delays=FAST_RETRIES) for gateway in gateways]
        started = time.perf_counter()
        try:
            while (await _states(maker)).get("pending", 0):
                if time.perf_counter() - started > MAX_SECONDS:
                    raise BenchmarkError(f"not delivered within {MAX_SECONDS:.0f} s: {await _states(maker)}")
                await asyncio.gather(*(runner.run() for runner in runners))
                await asyncio.sleep(0.1)
        finally:
            for gateway in gateways:
                await gateway.aclose()
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 2), "messages_per_second": round(messages / seconds, 1),
                "outbox": await _states(maker)}  # fmt: skip
    finally:
        await engine.dispose()


async def _states(maker: Any) -> dict[str, int]:
    async with session_scope(maker) as session:
        rows = await session.execute(select(SmsMessage.state, func.count()).group_by(SmsMessage.state))
        return {state: int(count) for state, count in rows.tuples()}
