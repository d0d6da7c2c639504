"""轮换 (rotation), with the app serving throughout.

- ``rewrap``: every data key wrapped anew by the current master key, after an operator has made a new master key
  current and kept the old one in ``FUQUAN_PREVIOUS_MASTER_KEYS``. Data is untouched; it takes a moment.
- ``rotate_data_key``: a tenant's new data key, and its data re-encrypted under it, in steps every process follows:
  the key is first added as *pending* (every process can then decrypt with it), made *active* only once every
  process has had time to learn of it (``grace_seconds``, a few catch-up intervals), and the data is re-encrypted
  once every process has stopped encrypting with the old key. Rows are rewritten in small batches, each only
  where it still holds what was read, so an edit made meanwhile is never overwritten: the next pass takes it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import own_session
from fuquan.platform.core.keys.ciphers import TenantCipher, key_id_of
from fuquan.platform.core.keys.models import ACTIVE, DATA, PENDING, RETIRED, EncryptedColumns
from fuquan.platform.core.keys.repositories import DataKeyRepository
from fuquan.platform.core.keys.services import DATA_KEY_BYTES, DATA_KEYS, KeyRing, wrapping_context
from fuquan.platform.core.tenancy import NamedTenant
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.core.versions.services import changed

log = structlog.get_logger()

MAX_PASSES = (
    10  # each pass only meets rows edited during the one before; more would mean something keeps writing old keys
)


@dataclass(frozen=True, slots=True)
class RewrapReport:
    rewrapped: int  # data keys now wrapped by the current master key that were not
    already_current: int


async def rewrap(session_maker: async_sessionmaker[AsyncSession], ring: KeyRing, actor: str) -> RewrapReport:
    """Every data key not wrapped by the current master key, wrapped by it: one transaction, audited per tenant."""
    current = ring.masters.current
    rewrapped, already = 0, 0
    async with own_session(session_maker, writes=True) as session, session.begin():
        repository = DataKeyRepository(session)
        tenants: dict[int, list[str]] = {}
        for key in await repository.all():
            if key.master_id == current.id:
                already += 1
                continue
            context = wrapping_context(key.tenant_id, key.key_id, key.purpose)
            material = ring.masters.unwrap(key.master_id, key.wrapped, context)
            if await repository.rewrap(key, current.id, current.wrap(material, context), utcnow()):
                rewrapped += 1
                tenants.setdefault(key.tenant_id, []).append(key.master_id)
        for tenant_id, old in tenants.items():
            detail = {"master": current.id, "from": sorted(set(old)), "keys": len(old)}
            await append(session, AuditEntry(action="keys.rewrap", tenant_id=tenant_id, actor=actor, detail=detail))
    log.info("data_keys_rewrapped", rewrapped=rewrapped, master=current.id)
    return RewrapReport(rewrapped, already)


@dataclass(frozen=True, slots=True)
class ReencryptReport:
    tenant: str
    new_key: int
    retired: list[int]
    rows: int  # rows rewritten
    values: int  # ciphertexts re-encrypted
    passes: int
    remaining: dict[str, dict[int | None, int]]  # per table.column: ciphertexts by data key after the last pass
    seconds: float


Progress = Callable[[str, int], None]  # (table, rows rewritten so far)


async def rotate_data_key(
    session_maker: async_sessionmaker[AsyncSession],
    ring: KeyRing,
    scope: NamedTenant,
    *,
    actor: str,
    grace_seconds: float,
    batch_size: int = 500,
    progress: Progress | None = None,
) -> ReencryptReport:
    started = time.perf_counter()
    async with own_session(session_maker, writes=True) as session, session.begin():
        keys = await DataKeyRepository(session).of_tenant(scope)
        new_key = max((key.key_id for key in keys), default=0) + 1
        old = [key.key_id for key in keys if key.purpose == DATA and key.state == ACTIVE]
        row = ring.key_row(scope, new_key, DATA, PENDING, os.urandom(DATA_KEY_BYTES), utcnow())
        await DataKeyRepository(session).add([row])
        await _changed(session, scope, actor, "keys.add", {"key": new_key, "master": ring.masters.current.id})
    await anyio.sleep(grace_seconds)  # every process can now decrypt with the new key

    async with own_session(session_maker, writes=True) as session, session.begin():
        repository, now = DataKeyRepository(session), utcnow()
        for key_id in old:
            await repository.set_state(scope, key_id, RETIRED, now)
        await repository.set_state(scope, new_key, ACTIVE, now)
        await _changed(session, scope, actor, "keys.activate", {"key": new_key, "retired": old})
    await anyio.sleep(grace_seconds)  # no process encrypts with the old key any more

    async with own_session(session_maker, writes=False) as session:
        cipher = await ring.load(session, scope)
    rows = values = passes = 0
    while passes < MAX_PASSES:
        passes += 1
        moved_rows, moved_values = 0, 0
        for place in ring.encrypted:
            place_rows, place_values = await _reencrypt(session_maker, cipher, scope, place, batch_size, progress)
            moved_rows, moved_values = moved_rows + place_rows, moved_values + place_values
        rows, values = rows + moved_rows, values + moved_values
        if moved_rows == 0:
            break
    remaining = await key_counts(session_maker, scope, ring.encrypted)
    async with own_session(session_maker, writes=True) as session, session.begin():
        detail = {"key": new_key, "rows": rows, "values": values, "passes": passes}
        await append(
            session, AuditEntry(action="keys.reencrypt", tenant_id=scope.tenant_id, actor=actor, detail=detail)
        )
    log.info("data_reencrypted", tenant=scope.tenant_code, key=new_key, rows=rows, passes=passes)
    return ReencryptReport(
        scope.tenant_code, new_key, old, rows, values, passes, remaining, time.perf_counter() - started
    )


async def _changed(session: AsyncSession, scope: NamedTenant, actor: str, action: str, detail: dict[str, Any]) -> None:
    await changed(session, scope, DATA_KEYS)
    await append(session, AuditEntry(action=action, tenant_id=scope.tenant_id, actor=actor, detail=detail))


async def _reencrypt(
    session_maker: async_sessionmaker[AsyncSession],
    cipher: TenantCipher,
    scope: NamedTenant,
    place: EncryptedColumns,
    batch_size: int,
    progress: Progress | None,
) -> tuple[int, int]:
    """One pass over ``place``'s rows of the tenant: (rows rewritten, values re-encrypted)."""
    active, after, rows, values = cipher.active_key_id, 0, 0, 0
    wanted = (*place.columns, *place.context_columns)
    while True:
        async with own_session(session_maker, writes=False) as session:
            batch = await DataKeyRepository(session).batch(place.table, scope, wanted, after, batch_size)
        if not batch:
            return rows, values
        after = batch[-1]["id"]
        changes = []
        for found in batch:
            stale = [name for name in place.columns if found[name] is not None and key_id_of(found[name]) != active]
            if not stale:
                continue
            context = place.context(scope.tenant_code, found)
            change: dict[str, Any] = {"row_id": found["id"]}
            for name in place.columns:
                value = found[name]
                change[f"old_{name}"] = value
                change[f"new_{name}"] = (
                    cipher.encrypt(cipher.decrypt(value, context=context), context=context) if name in stale else value
                )
            changes.append(change)
            values += len(stale)
        if changes:
            async with own_session(session_maker, writes=True) as session, session.begin():
                await DataKeyRepository(session).replace(place.table, place.columns, changes)
            rows += len(changes)
            if progress is not None:
                progress(place.table.name, rows)


async def key_counts(
    session_maker: async_sessionmaker[AsyncSession], scope: NamedTenant, encrypted: Sequence[EncryptedColumns]
) -> dict[str, dict[int | None, int]]:
    """Per ``table.column``: how many of the tenant's ciphertexts each data key made (None: format 1)."""
    counts: dict[str, dict[int | None, int]] = {}
    async with own_session(session_maker, writes=False) as session:
        repository = DataKeyRepository(session)
        for place in encrypted:
            for name in place.columns:
                counts[f"{place.table.name}.{name}"] = await repository.by_key(place.table, scope, name)
    return counts


def only_under(counts: Mapping[str, Mapping[int | None, int]], key_id: int) -> bool:
    return all(set(by_key) <= {key_id} for by_key in counts.values())
