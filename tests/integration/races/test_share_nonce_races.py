"""Two replicas presenting one X-Nonce at the same moment: exactly one is accepted (issue 15, deliverable 3)."""

from __future__ import annotations

import asyncio

import anyio
from racing import ROUNDS, two_connections
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.share.models import ShareNonce
from helpers import use_nonce


def test_two_replicas_presenting_one_nonce_at_once_accept_it_once(database_url: str) -> None:
    async def work() -> None:
        async with two_connections(database_url) as (one, two):
            for attempt in range(ROUNDS):
                results: list[bool] = []

                async def use(maker: async_sessionmaker[AsyncSession], nonce: str, found: list[bool]) -> None:
                    found.append(await use_nonce(maker, "fq64-race", nonce))

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(use, one, f"race-{attempt}", results)
                    tasks.start_soon(use, two, f"race-{attempt}", results)
                assert sorted(results) == [False, True], results
            async with one() as session:
                assert await session.scalar(select(func.count()).select_from(ShareNonce)) == ROUNDS

    asyncio.run(work())
