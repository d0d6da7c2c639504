"""One decision engine per tenant (sharding by province), kept in step with the database.

Changes made by this process are applied right after their transaction commits (a
SQLAlchemy ``after_commit`` hook), so the next decision sees them; changes made by other
processes (replicas) show as a newer per-tenant policy version, checked on every use and by
the periodic ``reconcile``, and the engine is rebuilt from the database.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from fuquan.authority.engine.facade import TenantAuthority
from fuquan.authority.repositories import PolicyLine, PolicyRepository
from fuquan.tenants.repositories import UnitRepository

log = structlog.get_logger()

_PENDING = "fuquan.authority.pending"
BUCKET_LEVEL = 4  # policy lines are bucketed by township (code[:9]); see engine/model.conf


@dataclass
class LoadedTenant:
    authority: TenantAuthority
    version: int
    bucket_codes: list[str]  # sorted codes of units at township level or above

    def bucket_codes_under(self, code: str) -> list[str]:
        start = bisect.bisect_left(self.bucket_codes, code)
        end = bisect.bisect_left(self.bucket_codes, code + "~")  # "~" sorts after every digit
        return self.bucket_codes[start:end]


@dataclass
class PendingChange:
    """One transaction's policy changes to one tenant: one version, steps applied in order."""

    registry: AuthorityRegistry
    tenant_id: int
    version: int
    steps: list[tuple[list[PolicyLine], list[PolicyLine]]] = field(default_factory=list)


class AuthorityRegistry:
    def __init__(self) -> None:
        self._tenants: dict[int, LoadedTenant] = {}

    async def get(self, session: AsyncSession, tenant_id: int) -> LoadedTenant:
        """The tenant's engine, current with the database.

        One primary-key read of the policy version per call: if another process (replica)
        changed the policy, the engine is rebuilt from the database and swapped in.
        """
        loaded = self._tenants.get(tenant_id)
        if loaded is not None and tenant_id in session.sync_session.info.get(_PENDING, {}):
            return loaded  # this transaction is changing the policy; it is applied on commit
        if loaded is None or loaded.version != await PolicyRepository(session).version(tenant_id):
            if loaded is not None:
                log.info("policy_reloaded_after_external_change", tenant_id=tenant_id)
            loaded = await self._load(session, tenant_id)
            self._tenants[tenant_id] = loaded  # an atomic swap: readers see the old or the new engine
        return loaded

    async def _load(self, session: AsyncSession, tenant_id: int) -> LoadedTenant:
        policy = PolicyRepository(session)
        version = await policy.version(tenant_id)
        rows = await policy.rows(tenant_id)
        authority = TenantAuthority.from_store(rows)
        codes = await UnitRepository(session).codes_up_to_level(tenant_id, BUCKET_LEVEL)
        log.info("policy_loaded", tenant_id=tenant_id, rows=len(rows), version=version)
        return LoadedTenant(authority, version, sorted(codes))

    async def record(
        self, session: AsyncSession, tenant_id: int, added: Sequence[PolicyLine], removed: Sequence[PolicyLine] = ()
    ) -> None:
        """Note a policy change made in ``session``'s transaction.

        The first change of a transaction bumps the tenant's policy version (in the same
        transaction); the in-memory engine applies the changes once, and only if, it commits.
        """
        pending: dict[int, PendingChange] = session.sync_session.info.setdefault(_PENDING, {})
        change = pending.get(tenant_id)
        if change is None:
            version = await PolicyRepository(session).bump_version(tenant_id)
            change = pending[tenant_id] = PendingChange(self, tenant_id, version)
        change.steps.append((list(added), list(removed)))

    def apply(self, change: PendingChange) -> None:
        loaded = self._tenants.get(change.tenant_id)
        if loaded is None:
            return  # not loaded yet: the first use will load the committed state
        if change.version != loaded.version + 1:
            # another process changed the policy in between: rebuild on next use
            self._tenants.pop(change.tenant_id, None)
            return
        for added, removed in change.steps:
            loaded.authority.apply(added, removed)
        loaded.version = change.version

    def forget(self, tenant_id: int) -> None:
        self._tenants.pop(tenant_id, None)

    async def reconcile(self, session: AsyncSession) -> list[int]:
        """Drop engines whose version lags the database (changed by another process)."""
        stale = [
            tenant_id
            for tenant_id, version in (await PolicyRepository(session).versions()).items()
            if tenant_id in self._tenants and self._tenants[tenant_id].version != version
        ]
        for tenant_id in stale:
            self.forget(tenant_id)
            log.info("policy_reloaded_after_external_change", tenant_id=tenant_id)
        return stale


@event.listens_for(Session, "after_commit")
def _apply_after_commit(session: Session) -> None:
    for change in session.info.pop(_PENDING, {}).values():
        change.registry.apply(change)


@event.listens_for(Session, "after_soft_rollback")
def _discard_after_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_PENDING, None)
