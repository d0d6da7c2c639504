"""The job runner every app process carries (DESIGN §4: periodic jobs).

Time is cut into slots of each job's period (slot n covers [n·period, (n+1)·period) in Unix time). At each
slot's start every process wakes:
- a job that must run in every process (``everywhere``: catching up with the policy log) just runs;
- any other job is claimed first: the process whose insert of the (job, slot) row lands runs it and records
  the outcome there; the others skip the slot. So a slot runs once however many replicas there are, and
  ``job_run`` shows operators what ran, where, when and how it ended.
"""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.db import own_session
from fuquan.platform.core.jobs.repositories import JobRunRepository
from fuquan.platform.core.timeutil import utcnow

log = structlog.get_logger()
JOB_RUNS = Counter("fuquan_job_runs", "Periodic job runs by outcome", ["job", "outcome"])  # GET /metrics

JobBody = Callable[[], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    period: float  # seconds between slots
    run: JobBody  # returns a small summary kept with the run (counts, never personal data)
    everywhere: bool = False  # True: every process runs each slot; False: one process per slot


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], owner: str | None = None) -> None:
        self._session_maker = session_maker
        self.owner = owner or process_name()
        self.jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        if job.name in self.jobs:
            raise ValueError(f"job {job.name!r} is already registered")
        if job.period <= 0:
            raise ValueError(f"job {job.name!r} needs a positive period")
        self.jobs[job.name] = job

    async def run(self) -> None:
        """Run every job at each of its slots until cancelled."""
        async with anyio.create_task_group() as tasks:
            for job in self.jobs.values():
                tasks.start_soon(self._loop, job)

    async def _loop(self, job: Job) -> None:
        while True:
            now = time.time()
            slot = int(now // job.period) + 1
            # every process wakes at the slot's start; a few ms of jitter spreads the claims' inserts
            await anyio.sleep(max(0.0, slot * job.period - now) + random.uniform(0, 0.005))  # noqa: S311
            # Shutdown waits for a job under way rather than cancel it mid-query: a cancelled query
            # invalidates its connection, and closing an invalidated aiosqlite connection can hang the loop.
            with anyio.CancelScope(shield=True):
                await self.run_slot(job, slot)

    async def run_slot(self, job: Job, slot: int) -> bool:
        """Run ``job`` for ``slot`` if it is this process's to run; True if it ran here."""
        if job.everywhere:
            try:
                await job.run()
            except Exception:  # the next slot retries
                JOB_RUNS.labels(job.name, "failure").inc()
                log.exception("job_failed", job=job.name, slot=slot)
            else:
                JOB_RUNS.labels(job.name, "success").inc()
            return True
        try:
            async with own_session(self._session_maker, writes=True) as session, session.begin():
                claimed = await JobRunRepository(session).claim(job.name, slot, self.owner, utcnow())
        except Exception:  # the database is unreachable: no claim, no run; the next slot tries again
            log.exception("job_claim_failed", job=job.name, slot=slot)
            return False
        if not claimed:
            return False
        outcome, detail = "success", {}
        try:
            detail = dict(await job.run() or {})
        except Exception as error:
            outcome, detail = "failure", {"error": type(error).__name__}
            log.exception("job_failed", job=job.name, slot=slot)
        async with own_session(self._session_maker, writes=True) as session, session.begin():
            await JobRunRepository(session).finish(job.name, slot, outcome, detail, utcnow())
        JOB_RUNS.labels(job.name, outcome).inc()
        # a run that found nothing to do is not worth a line at INFO (the SMS delivery runs every 2 s)
        report = log.info if detail or outcome != "success" else log.debug
        report("job_ran", job=job.name, slot=slot, outcome=outcome, owner=self.owner, detail=detail)
        return True
