"""What every app process does besides answering requests (DESIGN §4): announcements between processes, the
policy engines primed at start-up and kept current, caches told of newer versions, and the periodic jobs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

import anyio
import structlog
from litestar import Litestar
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from redis.asyncio import Redis
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.sync import POLICY_CHANNEL, announcer, compaction_job, heard, prime
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.audit.checkpoints import CheckpointStore
from fuquan.platform.core.audit.keys import AuditKeys
from fuquan.platform.core.audit.sealer import Sealer
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import own_session
from fuquan.platform.core.jobs.runner import Job, JobRunner
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.versions import services as setting_versions
from fuquan.platform.escalations.services.tiers import TierJob
from fuquan.platform.migrations.keys import prepare_keys
from fuquan.platform.migrations.runner import require_current_schema
from fuquan.platform.notifications.services.delivery import SmsDelivery
from fuquan.platform.share import services as share_services
from fuquan.platform.supervision.services.orders import OrderJob
from fuquan.platform.supervision.services.warnings import WarningJob
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

log = structlog.get_logger()

# Logouts travel on the policy channel, marked: with a second subscription on Redis (one pub/sub connection)
# every policy announcement went unheard (changes then arrived only with the 1 s catch-up).
LOGOUT_MARK = b"logout:"


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    """Announcements between processes: Redis pub/sub, else PostgreSQL LISTEN/NOTIFY, else in-process."""
    backend: ChannelsBackend
    if settings.redis_url:
        backend = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url))
    elif make_url(settings.database_url).get_backend_name() == "postgresql":
        dsn = make_url(settings.database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        backend = AsyncPgChannelsBackend(dsn=dsn)
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(backend=backend, channels=[POLICY_CHANNEL])


def audit_sealer(settings: Settings, session_maker: async_sessionmaker[AsyncSession]) -> Sealer:
    """The process's sealer, keyed, writing its checkpoints where the settings say."""
    return Sealer(
        session_maker,
        AuditKeys.from_settings(settings),
        CheckpointStore.from_settings(settings),
        checkpoint_every=settings.audit_checkpoint_seconds,
    )


NONCE_SWEEP_SECONDS = 60.0
SMS_DELIVERY_SECONDS = 2.0


def job_runner(
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    registry: AuthorityRegistry,
    catalogs: CatalogCache,
    keys: KeyRing,
    sms: SmsDelivery | None = None,
) -> JobRunner:
    jobs = JobRunner(session_maker)

    async def catch_up() -> dict[str, Any]:
        """Every process, every second or so: newer policy versions (should an announcement be lost),
        newer catalogue editions and settings versions — one small query each."""
        async with own_session(session_maker, writes=False) as session:
            behind = await registry.poll(session)
            await catalogs.poll(session)
            await setting_versions.poll(session)
        if behind:
            log.info("policy_caught_up_by_poll", tenants=behind)
        return {"behind": len(behind)}

    jobs.add(Job("catch_up", settings.policy_catch_up_seconds, catch_up, everywhere=True))
    retention = timedelta(seconds=settings.policy_log_retention_seconds)
    jobs.add(
        compaction_job(
            session_maker, settings.policy_log_compaction_seconds, settings.policy_log_keep_versions, retention
        )
    )

    async def forget_nonces() -> dict[str, Any]:
        """One process a minute: the data-sharing API's nonces too old to be replayed (their timestamps are refused)."""
        async with own_session(session_maker, writes=True) as session:
            forgotten = await share_services.forget_old_nonces(session)
            await session.commit()
        return {"forgotten": forgotten}

    jobs.add(Job("share_nonces", NONCE_SWEEP_SECONDS, forget_nonces))
    jobs.add(Job("case_warnings", settings.warning_job_seconds, WarningJob(session_maker, catalogs).run))
    jobs.add(Job("escalation_tiers", settings.warning_job_seconds, TierJob(session_maker, keys).run))
    jobs.add(Job("supervision_orders", settings.warning_job_seconds, OrderJob(session_maker).run))
    if sms is not None:  # residents' SMS wait in the outbox until a platform is configured
        jobs.add(Job("sms_delivery", SMS_DELIVERY_SECONDS, sms.run))
    return jobs


def background_work(
    session_maker: async_sessionmaker[AsyncSession],
    registry: AuthorityRegistry,
    keys: KeyRing,
    logins: LoginDirectory,
    channels: ChannelsPlugin,
    jobs: JobRunner,
    sealer: Sealer,
    closing: Sequence[Callable[[], Awaitable[Any]]],
) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    """The app's lifespan: the background work runs for as long as the app does; ``closing`` runs after."""
    registry.on_committed = announcer(channels)
    logins.on_forgotten = _logout_announcer(channels)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Litestar) -> AsyncIterator[None]:
        engine = session_maker.kw["bind"]
        await require_current_schema(engine)
        await _keys_ready(keys, session_maker)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(prime, registry, session_maker)
            tasks.start_soon(_logged, "listener_failed", _listen(channels, registry, logins))
            tasks.start_soon(jobs.run)
            tasks.start_soon(sealer.run)
            yield
            tasks.cancel_scope.cancel()
        for close in closing:
            await close()

    return lifespan


async def _keys_ready(keys: KeyRing, session_maker: async_sessionmaker[AsyncSession]) -> None:
    """Before serving: every tenant has its keys, and this process can unwrap them — a master key missing from its
    configuration stops it here, named in the log, rather than failing the requests that need personal data."""
    await prepare_keys(keys, session_maker)
    async with own_session(session_maker, writes=False) as session:
        tenants = await TenantRepository(session).all()
    for tenant in tenants:
        await keys.cipher(whole_tenant(tenant))


def _logout_announcer(channels: ChannelsPlugin) -> Callable[[str], None]:
    def announce(digest: str) -> None:
        try:
            channels.publish(LOGOUT_MARK + digest.encode(), POLICY_CHANNEL)
        except RuntimeError:  # channels not started (a command, a test without lifespan): copies lapse in 1 s
            log.debug("logout_announcement_skipped")

    return announce


async def _listen(channels: ChannelsPlugin, registry: AuthorityRegistry, logins: LoginDirectory) -> None:
    """What other processes announce, until cancelled: newer policy versions, and logouts."""
    async with channels.start_subscription([POLICY_CHANNEL]) as subscriber:
        async for raw in subscriber.iter_events():
            if raw.startswith(LOGOUT_MARK):
                logins.drop(raw[len(LOGOUT_MARK) :].decode(errors="replace"))
            else:
                await heard(registry, raw)


async def _logged(event: str, work: Awaitable[None]) -> None:
    """Background work whose failure must not stop the app (the periodic catch-up covers for it)."""
    try:
        await work
    except Exception:
        log.exception(event)
