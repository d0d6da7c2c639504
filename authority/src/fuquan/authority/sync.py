"""Keeping every process's engines current (DESIGN §4 "policy sync between processes").

- ``POLICY_CHANNEL`` carries (tenant, version) announcements on Litestar channels: Redis pub/sub when Redis
  is configured, PostgreSQL LISTEN/NOTIFY when only PostgreSQL is, in-process otherwise.
- :func:`listen` applies the log as soon as an announcement arrives;
- :meth:`AuthorityRegistry.poll` (the app's catch-up job) compares the versions every second or so in every
  process, should a message be lost;
- :func:`compaction_job` forgets old log entries once per slot across replicas.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import anyio
import msgspec
import structlog
from litestar.channels import ChannelsPlugin
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import PolicyRepository
from fuquan.platform.core.db import own_session
from fuquan.platform.core.jobs.runner import Job, JobBody
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

log = structlog.get_logger()

POLICY_CHANNEL = "policy"


class Announcement(msgspec.Struct, frozen=True):
    tenant: int
    version: int


def announcer(channels: ChannelsPlugin, channel: str = POLICY_CHANNEL) -> Any:
    """The registry's ``on_committed``: publish (tenant, version) without waiting (it runs in a commit hook)."""

    def announce(tenant_id: int, version: int) -> None:
        try:
            channels.publish(msgspec.json.encode(Announcement(tenant_id, version)), channel)
        except RuntimeError:  # channels not started (a command, a test without lifespan): others poll
            log.debug("policy_announcement_skipped", tenant_id=tenant_id, version=version)

    return announce


async def heard(registry: AuthorityRegistry, raw: bytes) -> None:
    """Apply the log if another process announced a newer version than this one holds."""
    try:
        news = msgspec.json.decode(raw, type=Announcement)
    except msgspec.DecodeError:
        log.warning("policy_announcement_unreadable")
        return
    if registry.told(news.tenant, news.version):
        try:
            with anyio.CancelScope(shield=True):  # see JobRunner: never cancel a query half-way
                await registry.catch_up_held(news.tenant)
        except Exception:  # the periodic catch-up retries
            log.exception("policy_catch_up_failed", tenant_id=news.tenant)


async def prime(registry: AuthorityRegistry, session_maker: async_sessionmaker[AsyncSession]) -> None:
    """Build every tenant's engine at start-up, so no request waits for a first load; until then /ready
    says "starting". A database not reachable yet is tried again."""
    delay = 0.5
    while True:
        try:
            with anyio.CancelScope(shield=True):  # see JobRunner: never cancel a query half-way
                async with own_session(session_maker, writes=False) as session:
                    scopes = [whole_tenant(tenant) for tenant in await TenantRepository(session).all()]
                for scope in scopes:
                    await registry.catch_up(scope)
        except Exception:
            log.exception("policy_prime_failed", retry_in_seconds=delay)
            await anyio.sleep(delay)
            delay = min(delay * 2, 30.0)
            continue
        registry.primed = True
        return


def compaction_job(
    session_maker: async_sessionmaker[AsyncSession], period: float, keep_versions: int, retention: timedelta
) -> Job:
    async def run() -> dict[str, Any]:
        async with own_session(session_maker, writes=True) as session, session.begin():
            removed = await PolicyRepository(session).compact_log(keep_versions, utcnow() - retention)
        return {"removed": removed}

    body: JobBody = run
    return Job("policy_log_compaction", period, body)
