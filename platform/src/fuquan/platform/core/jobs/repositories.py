"""All SQL of job slot claims."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.db import conflict_insert
from fuquan.platform.core.jobs.models import JobRun


class JobRunRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, job: str, slot: int, owner: str, at: datetime) -> bool:
        """Insert the slot's row: True for the one process whose insert lands, False for every other."""
        claim = conflict_insert(self.session, JobRun).values(
            job=job, slot=slot, owner=owner, started_at=at, outcome="running", detail={}
        )
        claimed = await self.session.scalar(claim.on_conflict_do_nothing().returning(JobRun.slot))
        return claimed is not None

    async def finish(self, job: str, slot: int, outcome: str, detail: dict[str, Any], at: datetime) -> None:
        await self.session.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.slot == slot)
            .values(outcome=outcome, detail=detail, finished_at=at)
        )

    async def runs(self, job: str | None = None) -> list[JobRun]:
        query = select(JobRun).order_by(JobRun.job, JobRun.slot)
        if job is not None:
            query = query.where(JobRun.job == job)
        return list(await self.session.scalars(query))
