"""X-Nonce is single use across every replica (issue 15, deliverable 3): the nonce is a row whose key is the pair
(key id, nonce), written in the call's transaction, so of two calls with one nonce — from two processes at the
same moment — exactly one is accepted (``races/test_share_nonce_races.py``). Old nonces are forgotten once their
timestamps could not be accepted."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update

from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.share import services
from fuquan.platform.share.models import ShareNonce
from helpers import use_nonce


def test_a_nonce_is_accepted_once_per_key(database_url: str) -> None:
    async def work() -> None:
        engine = create_engine(database_url)
        maker = session_factory(engine)
        try:
            assert await use_nonce(maker, "fq64-a", "n-1") is True
            assert await use_nonce(maker, "fq64-a", "n-1") is False  # the replay
            assert await use_nonce(maker, "fq64-b", "n-1") is True  # another key's nonce is its own
            assert await use_nonce(maker, "fq64-a", "x" * 65) is False  # longer than any nonce we keep: refused
            async with maker() as session, session.begin():  # an hour later it is forgotten
                await session.execute(update(ShareNonce).values(seen_at=utcnow() - timedelta(hours=1)))
            async with maker() as session, session.begin():
                assert await services.forget_old_nonces(session) == 2
        finally:
            await engine.dispose()

    asyncio.run(work())
