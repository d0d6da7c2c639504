"""The job runner: a once-per-slot job runs in exactly one of several runners (each with its own engine and
connection pool, as replicas have), records how it ended, and a failing run neither stops the runner nor
loses the slot's record; a job meant for every process runs in each."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prometheus_client import REGISTRY

from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.jobs.repositories import JobRunRepository
from fuquan.platform.core.jobs.runner import Job, JobRunner

pytestmark = pytest.mark.anyio


async def test_each_slot_runs_in_one_runner(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(3)]
    runs: list[tuple[str, int]] = []

    def counting(owner: str) -> Job:
        async def run() -> dict[str, Any]:
            await asyncio.sleep(0.01)  # long enough for the others to try their claims meanwhile
            runs.append((owner, len(runs)))
            return {"owner": owner}

        return Job("counting", 60.0, run)

    runners = [JobRunner(session_factory(engine), owner=f"replica-{n}") for n, engine in enumerate(engines)]
    try:
        for slot in range(100, 110):
            ran = await asyncio.gather(*(runner.run_slot(counting(runner.owner), slot) for runner in runners))
            assert sorted(ran) == [False, False, True], slot
        assert len(runs) == 10
        async with session_factory(engines[0])() as session:
            rows = await JobRunRepository(session).runs("counting")
        assert [row.slot for row in rows] == list(range(100, 110))
        assert all(row.outcome == "success" and row.detail == {"owner": row.owner} for row in rows)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_a_failing_run_is_recorded_and_the_next_slot_runs(database_url: str) -> None:
    engine = create_engine(database_url)
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("partner system down")

    runner = JobRunner(session_factory(engine), owner="replica-1")
    counted = {outcome: REGISTRY.get_sample_value("fuquan_job_runs_total", {"job": "flaky", "outcome": outcome}) or 0.0
               for outcome in ("success", "failure")}  # fmt: skip
    try:
        assert await runner.run_slot(Job("flaky", 60.0, flaky), 1)
        assert await runner.run_slot(Job("flaky", 60.0, flaky), 2)
        assert not await runner.run_slot(Job("flaky", 60.0, flaky), 2)  # a slot runs once, even in one runner
        async with session_factory(engine)() as session:
            rows = await JobRunRepository(session).runs("flaky")
        assert [(row.slot, row.outcome, row.detail) for row in rows] == [
            (1, "failure", {"error": "RuntimeError"}),
            (2, "success", {}),
        ]
        for outcome in ("success", "failure"):  # what operators see on GET /metrics: one run each
            now = REGISTRY.get_sample_value("fuquan_job_runs_total", {"job": "flaky", "outcome": outcome})
            assert now == counted[outcome] + 1, outcome
    finally:
        await engine.dispose()


async def test_jobs_for_every_process_run_in_each(database_url: str) -> None:
    engines = [create_engine(database_url) for _ in range(2)]
    runs: list[int] = []

    async def everywhere() -> None:
        runs.append(1)

    try:
        runners = [JobRunner(session_factory(engine)) for engine in engines]
        job = Job("catch_up", 1.0, everywhere, everywhere=True)
        assert all(await asyncio.gather(*(runner.run_slot(job, 5) for runner in runners)))
        assert len(runs) == 2
        async with session_factory(engines[0])() as session:
            assert await JobRunRepository(session).runs("catch_up") == []  # nothing to claim, nothing recorded
    finally:
        for engine in engines:
            await engine.dispose()


def test_a_job_is_registered_once_with_a_positive_period() -> None:
    runner = JobRunner(None)  # type: ignore[arg-type]  # registration needs no database

    async def noop() -> None:
        return None

    runner.add(Job("one", 1.0, noop))
    with pytest.raises(ValueError, match="already registered"):
        runner.add(Job("one", 2.0, noop))
    with pytest.raises(ValueError, match="positive period"):
        runner.add(Job("two", 0, noop))
