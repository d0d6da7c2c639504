"""One decision engine per tenant (sharding by province), kept in step with the policy change log.

How a change travels between processes (DESIGN §4, §6.3):

1. A service that grants or revokes calls :meth:`AuthorityRegistry.record` inside its transaction: the
   tenant's policy version is bumped (the row stays locked until commit, so a tenant's versions commit one
   at a time, in order) and the change — policy lines added and removed — is appended to ``policy_change``.
2. When the transaction commits, this process applies the change at once (a SQLAlchemy ``after_commit``
   hook) and announces (tenant, version) through ``on_committed`` (the app publishes it on the ``policy``
   channel: Redis pub/sub, or PostgreSQL LISTEN/NOTIFY).
3. Every other process hears it — or, should a message be lost, sees the version in its periodic catch-up —
   and applies the log from the version it holds, Casbin and the hot path together. :meth:`get` never
   answers from a policy older than a version the process has been told of: it catches up first.
4. A full rebuild happens only when a tenant is first used (the app primes every tenant at start-up) or when
   the log has been compacted past the version held; the engine is built in a worker thread, off the event
   loop, and swapped in atomically (one reference assignment).
"""

from __future__ import annotations

import asyncio
import bisect
import gc
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from fuquan.authority.engine.facade import TenantAuthority
from fuquan.authority.repositories import PolicyLine, PolicyRepository
from fuquan.platform.core.db import own_session
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.directory import UnitDirectory
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

_PENDING = "fuquan.authority.pending"
BUCKET_LEVEL = 4  # policy lines are bucketed by township (code[:9]); see engine/model.conf
_CONSISTENT_READ_ATTEMPTS = 20


EXPLANATIONS_KEPT = 50_000  # per tenant: the facts behind recent answers, forgotten with every change


@dataclass
class LoadedTenant:
    scope: TenantScope  # the whole tenant
    authority: TenantAuthority
    version: int
    bucket_codes: list[str]  # sorted codes of units at township level or above
    # what explanations read from the grants (chains, covering grants), valid for this version only
    explanations: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    @property
    def tenant_id(self) -> int:
        return self.scope.tenant_id

    def remember(self, version: int, key: tuple[Any, ...], facts: Any) -> None:
        """Keep ``facts`` read while ``version`` was held, unless a change came in meanwhile."""
        if self.version == version and len(self.explanations) < EXPLANATIONS_KEPT:
            self.explanations[key] = facts

    def bucket_codes_under(self, code: str) -> list[str]:
        start = bisect.bisect_left(self.bucket_codes, code)
        end = bisect.bisect_left(self.bucket_codes, code + "~")  # "~" sorts after every digit
        return self.bucket_codes[start:end]

    def apply(self, version: int, added: Sequence[tuple[str, ...]], removed: Sequence[tuple[str, ...]]) -> None:
        """One logged change, to both engines (policy lines have 5 fields, role lines 2)."""
        self.authority.apply(
            [line for line in added if len(line) == 5],
            [line for line in removed if len(line) == 5],
            added_roles=[line for line in added if len(line) == 2],
            removed_roles=[line for line in removed if len(line) == 2],
        )
        self.version = version
        self.explanations.clear()


@dataclass(frozen=True)
class PendingChange:
    """One logged change made in a transaction, applied here once (and only if) it commits."""

    registry: AuthorityRegistry
    tenant_id: int
    version: int
    added: list[PolicyLine]
    removed: list[PolicyLine]


class AuthorityRegistry:
    def __init__(
        self, session_maker: async_sessionmaker[AsyncSession] | None = None, *, freeze_gc: bool = False
    ) -> None:
        """``session_maker``: reads of the log and rebuilds use their own short sessions (always what is
        committed); without one (commands, tests) they use the caller's session. ``freeze_gc``: after every
        build, what is alive is moved out of the garbage collector's reach (a serving process; see
        ``exempt_from_gc``) — not for a process that builds many apps, such as the tests'."""
        self._session_maker = session_maker
        self.freeze_gc = freeze_gc
        self._tenants: dict[int, LoadedTenant] = {}
        self._told: dict[int, int] = {}  # the newest version this process knows was committed
        self._locks: dict[int, asyncio.Lock] = {}
        self.on_committed: Callable[[int, int], None] | None = None
        self.units = UnitDirectory(session_maker)  # the hierarchy the decisions are about
        self.rebuilds = 0  # full loads, for operators and tests
        self.primed = False  # every tenant loaded once (the app's start-up): ready to serve

    # -- reading -----------------------------------------------------------------------------

    async def get(self, session: AsyncSession, scope: TenantScope) -> LoadedTenant:
        """The tenant's engine, holding every change this process has been told of."""
        tenant_id = scope.tenant_id
        loaded = self._tenants.get(tenant_id)
        if loaded is not None and (
            loaded.version >= self._told.get(tenant_id, 0)
            or tenant_id in session.sync_session.info.get(_PENDING, {})  # this transaction changes it
        ):
            return loaded
        return await self.catch_up(scope, session)

    def version_of(self, tenant_id: int) -> int | None:
        loaded = self._tenants.get(tenant_id)
        return None if loaded is None else loaded.version

    def known_version(self, tenant_id: int) -> int:
        """The newest version of the tenant's policy this process knows was committed (0: none yet)."""
        loaded = self._tenants.get(tenant_id)
        return max(0 if loaded is None else loaded.version, self._told.get(tenant_id, 0))

    def loaded_tenants(self) -> list[int]:
        return sorted(self._tenants)

    def policy_states(self) -> list[tuple[str, int, int]]:
        """(tenant code, version loaded, newest version known committed) per loaded tenant, for operators."""
        return [
            (loaded.scope.tenant_code, loaded.version, max(loaded.version, self._told.get(tenant_id, 0)))
            for tenant_id, loaded in sorted(self._tenants.items())
        ]

    # -- learning of changes -----------------------------------------------------------------

    def told(self, tenant_id: int, version: int) -> bool:
        """Version ``version`` of the tenant's policy was committed (an announcement or a poll); True if
        this process's engine is behind it."""
        if version > self._told.get(tenant_id, 0):
            self._told[tenant_id] = version
        loaded = self._tenants.get(tenant_id)
        return loaded is not None and loaded.version < version

    async def catch_up(self, scope: TenantScope, session: AsyncSession | None = None) -> LoadedTenant:
        """Bring the tenant's engine up to the newest version this process has been told of: apply the
        log from the version held, or build the engine when there is none or the log was compacted."""
        tenant_id = scope.tenant_id
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            loaded = self._tenants.get(tenant_id)
            if loaded is None:
                loaded = await self._build(scope.whole(), session)
            elif loaded.version < self._told.get(tenant_id, 0):
                async with self._reading(session) as reader:
                    if not await self._apply_log(loaded, reader):
                        loaded = await self._build(loaded.scope, session)
            return loaded

    async def poll(self, session: AsyncSession) -> list[int]:
        """The periodic catch-up: read every tenant's version (one small query) and catch up where behind.
        Returns the tenants that were behind."""
        behind = [
            tenant_id
            for tenant_id, version in (await PolicyRepository(session).versions()).items()
            if self.told(tenant_id, version)
        ]
        for tenant_id in behind:
            await self.catch_up_held(tenant_id)
        return behind

    async def catch_up_held(self, tenant_id: int) -> None:
        """Catch up a tenant this process holds, named by id as announcements and the version table name it
        (``told`` is True only for a tenant held here)."""
        loaded = self._tenants.get(tenant_id)
        if loaded is not None:
            await self.catch_up(loaded.scope)

    @asynccontextmanager
    async def _reading(self, session: AsyncSession | None) -> AsyncIterator[AsyncSession]:
        if self._session_maker is None:
            assert session is not None, "a registry without a session maker reads through the caller's session"
            yield session
            return
        async with own_session(self._session_maker, writes=False) as own:
            yield own

    async def _apply_log(self, loaded: LoadedTenant, session: AsyncSession) -> bool:
        """Apply the logged changes after the version held; False when the log no longer reaches back
        to it (compacted), so only a rebuild can catch up."""
        policy = PolicyRepository(session)
        tenant_id = loaded.tenant_id
        while loaded.version < self._told.get(tenant_id, 0):
            changes = await policy.changes_since(loaded.scope, loaded.version)
            if changes and changes[0][0] != loaded.version + 1:
                return False
            if not changes:
                # told of a version the log does not hold: compacted away, or not ours at all (a message
                # from another database, a restored backup) — believe the database
                if await policy.version(loaded.scope) > loaded.version:
                    return False
                self._told[tenant_id] = loaded.version
                break
            for version, added, removed in changes:
                loaded.apply(version, added, removed)
        return True

    async def _build(self, scope: TenantScope, session: AsyncSession | None) -> LoadedTenant:
        """Read a consistent copy of the stored policy and build both engines in a worker thread."""
        tenant_id = scope.tenant_id
        async with self._reading(session) as reader:
            version, rows, codes = await _consistent_policy(reader, scope)
        authority = await anyio.to_thread.run_sync(TenantAuthority.from_store, rows)
        loaded = LoadedTenant(scope, authority, version, sorted(codes))
        replaced = self._tenants.get(tenant_id)
        self._tenants[tenant_id] = loaded  # the atomic swap: readers see the old engine or the new one
        if self.freeze_gc:
            exempt_from_gc(replaced=replaced is not None)
        self.rebuilds += 1
        log.info("policy_loaded", tenant_id=tenant_id, rows=len(rows), version=version)
        self.told(tenant_id, version)
        if loaded.version < self._told.get(tenant_id, 0):  # changes committed while it was being built
            async with self._reading(session) as reader:
                await self._apply_log(loaded, reader)
        return loaded

    # -- writing -----------------------------------------------------------------------------

    async def lock(self, session: AsyncSession, scope: TenantScope) -> None:
        """Hold the tenant's policy lock until ``session``'s transaction ends (see PolicyRepository.lock):
        take it before reading the grants a change depends on."""
        await PolicyRepository(session).lock(scope)

    async def record(
        self, session: AsyncSession, scope: TenantScope, added: Sequence[PolicyLine], removed: Sequence[PolicyLine] = ()
    ) -> int:
        """Log a policy change made in ``session``'s transaction: the tenant's next version, written with it.

        The in-memory engine applies it once, and only if, the transaction commits."""
        policy = PolicyRepository(session)
        tenant_id = scope.tenant_id
        version = await policy.bump_version(scope)
        await policy.append_change(scope, version, added, removed, utcnow())
        pending: dict[int, list[PendingChange]] = session.sync_session.info.setdefault(_PENDING, {})
        pending.setdefault(tenant_id, []).append(PendingChange(self, tenant_id, version, list(added), list(removed)))
        return version

    def committed(self, change: PendingChange) -> None:
        """A change of ours committed: apply it now when it is the next version (no await: atomic for every
        coroutine), else leave it to the next catch-up; then tell the other processes."""
        tenant_id = change.tenant_id
        self.told(tenant_id, change.version)
        loaded = self._tenants.get(tenant_id)
        lock = self._locks.get(tenant_id)
        if loaded is not None and loaded.version == change.version - 1 and not (lock and lock.locked()):
            loaded.apply(change.version, change.added, change.removed)
        if self.on_committed is not None:
            self.on_committed(tenant_id, change.version)

    def forget(self, tenant_id: int) -> None:
        self._tenants.pop(tenant_id, None)


def exempt_from_gc(*, replaced: bool) -> None:
    """Move the engines (and everything else then alive: the app itself) out of the cyclic garbage collector's
    reach: at Shandong scale an engine is ~650k objects, and a full collection scanning the heap took 115-190 ms
    under load, about once a second, a pause for every request then in flight. After a rebuild the old engine
    is collected once first (rare: after a compacted log)."""
    if replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


async def _consistent_policy(session: AsyncSession, scope: TenantScope) -> tuple[int, list[tuple[str, ...]], list[str]]:
    """(version, rows, bucket codes) as of one version: every change bumps the version in its transaction,
    so an unchanged version before and after the reads means no change committed in between."""
    policy = PolicyRepository(session)
    for _attempt in range(_CONSISTENT_READ_ATTEMPTS):
        before = await policy.version(scope)
        rows = await policy.rows(scope)
        codes = await UnitRepository(session).codes_up_to_level(scope, BUCKET_LEVEL)
        if await policy.version(scope) == before:  # each statement sees what was committed when it began
            return before, rows, codes
    raise RuntimeError(f"the policy of tenant {scope.tenant_code} kept changing while it was read")


@event.listens_for(Session, "after_commit")
def _apply_after_commit(session: Session) -> None:
    for changes in session.info.pop(_PENDING, {}).values():
        for change in sorted(changes, key=lambda c: c.version):
            change.registry.committed(change)


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)
