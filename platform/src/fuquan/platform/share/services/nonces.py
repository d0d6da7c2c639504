"""X-Nonce 单次有效, in a store every replica shares (the database)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.gateway.protocol import TIMESTAMP_WINDOW_SECONDS
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.share.repositories import ShareNonceRepository, ShareQuotaRepository

# a nonce is remembered longer than any timestamp it could come with is accepted (±300 s), with a margin
NONCE_RETENTION = timedelta(seconds=2 * TIMESTAMP_WINDOW_SECONDS + 60)


async def use_nonce(session: AsyncSession, key_id: str, nonce: str) -> bool:
    """X-Nonce 单次有效: True the first time a key presents the nonce, on whichever replica; False for a replay.
    The row is written in the call's own transaction, beside its audit record."""
    if not nonce or len(nonce) > 64:
        return False
    return await ShareNonceRepository(session).use(key_id, nonce, utcnow())


async def forget_old_nonces(session: AsyncSession) -> int:
    """Nonces older than any acceptable timestamp can no longer be replayed (their timestamps are refused); and
    the daily quotas' counts of days before yesterday (whatever a tenant's time zone, no longer any key's today)."""
    await ShareQuotaRepository(session).forget_before(utcnow().date() - timedelta(days=2))
    return await ShareNonceRepository(session).forget_before(utcnow() - NONCE_RETENTION)
