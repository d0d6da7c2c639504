"""The process's key ring (密钥环): the master keys, and each tenant's data keys unwrapped on first use and kept
while the tenant's ``data_keys`` version stays (every process learns of a change within its catch-up interval).

A tenant's first keys are made before any request needs them: when an app process starts (for every tenant
that has none) and by the commands that add tenants. A tenant whose data was encrypted before data keys
existed (format 1) keeps the blind-index key it had, so every stored index still finds its person.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.keys.ciphers import LegacyCipher, TenantCipher
from fuquan.platform.core.keys.master import MasterKeyMissing, MasterKeys
from fuquan.platform.core.keys.models import ACTIVE, DATA, INDEX, DataKey, EncryptedColumns
from fuquan.platform.core.keys.repositories import DataKeyRepository
from fuquan.platform.core.tenancy import NamedTenant
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.core.versions.services import TenantSettingCache, changed

log = structlog.get_logger()

DATA_KEYS = "data_keys"  # the setting version every change of a tenant's keys bumps
DATA_KEY_BYTES = 16  # SM4
INDEX_KEY_BYTES = 32  # HMAC-SM3


class KeysNotReady(FuquanError):
    """The tenant's data keys cannot be used in this process: none made yet, or wrapped by a master key it lacks."""

    status = 503
    title = "数据密钥暂不可用"
    type_slug = "keys-not-ready"


def wrapping_context(tenant_id: int, key_id: int, purpose: str) -> bytes:
    """What a wrapped key is bound to: a wrapped key moved to another tenant, id or purpose fails to unwrap."""
    return f"fuquan/data-key/{tenant_id}/{key_id}/{purpose}".encode()


class KeyRing:
    """One per process. With a session maker, a tenant's cipher is loaded once and kept until its keys change."""

    def __init__(
        self,
        masters: MasterKeys,
        legacy: LegacyCipher | None = None,
        session_maker: async_sessionmaker[AsyncSession] | None = None,
        encrypted: Sequence[EncryptedColumns] = (),
    ) -> None:
        self.masters = masters
        self.legacy = legacy
        self.encrypted = tuple(encrypted)  # where the data lives: what first keys and re-encryption look at
        self._cache = None if session_maker is None else TenantSettingCache(DATA_KEYS, self.load, session_maker)

    def __repr__(self) -> str:
        return f"KeyRing(master={self.masters.current.id})"

    async def cipher(self, scope: NamedTenant, session: AsyncSession | None = None) -> TenantCipher:
        """The tenant's cipher: from the cache, else read through ``session`` — a command's, which keeps no cache
        and makes the tenant's first keys if it has none."""
        if self._cache is not None:
            return await self._cache.get(scope)
        if session is None:
            raise ValueError("a key ring without a session maker reads through the caller's session")
        await self.ensure(session, scope)
        return await self.load(session, scope)

    async def load(self, session: AsyncSession, scope: NamedTenant) -> TenantCipher:
        keys = await DataKeyRepository(session).of_tenant(scope)
        data: dict[int, bytes] = {}
        index_key, active = None, None
        try:
            for key in keys:
                material = self.masters.unwrap(
                    key.master_id, key.wrapped, wrapping_context(key.tenant_id, key.key_id, key.purpose)
                )
                if key.purpose == INDEX:
                    index_key = material
                else:
                    data[key.key_id] = material
                    active = key.key_id if key.state == ACTIVE else active
        except MasterKeyMissing as missing:
            log.error("data_key_unwrap_failed", tenant=scope.tenant_code, reason=str(missing))
            raise KeysNotReady("数据密钥无法解开，请联系系统管理员检查主密钥配置", rule="master_key_missing") from None
        if index_key is None or active is None:
            log.error("data_keys_missing", tenant=scope.tenant_code)
            raise KeysNotReady("本租户的数据密钥尚未建立，请联系系统管理员", rule="data_keys_missing")
        return TenantCipher(scope.tenant_code, active=active, keys=data, index_key=index_key, legacy=self.legacy)

    def key_row(
        self, scope: NamedTenant, key_id: int, purpose: str, state: str, material: bytes, now: datetime
    ) -> dict[str, Any]:
        """A new ``data_key`` row: ``material`` wrapped by the current master key."""
        master, context = self.masters.current, wrapping_context(scope.tenant_id, key_id, purpose)
        return {
            "tenant_id": scope.tenant_id, "key_id": key_id, "purpose": purpose, "state": state,
            "master_id": master.id, "wrapped": master.wrap(material, context), "created_at": now, "changed_at": now,
        }  # fmt: skip

    async def ensure(self, session: AsyncSession, scope: NamedTenant) -> bool:
        """Make the tenant's first keys if it has none (True when made): an index key and an active data key."""
        repository = DataKeyRepository(session)
        if await repository.of_tenant(scope):
            return False
        index_key = os.urandom(INDEX_KEY_BYTES)
        kept = False
        if self.legacy is not None:
            for place in self.encrypted:
                if await repository.holds_rows(place.table, scope):
                    index_key, kept = self.legacy.index_key, True  # its stored indexes were made with this key
                    break
        now = utcnow()
        rows = [
            self.key_row(scope, 1, INDEX, ACTIVE, index_key, now),
            self.key_row(scope, 2, DATA, ACTIVE, os.urandom(DATA_KEY_BYTES), now),
        ]
        await repository.add(rows)
        if {key.wrapped for key in await repository.of_tenant(scope)} != {row["wrapped"] for row in rows}:
            return False  # another process made them first (its insert won; ours did nothing)
        await changed(session, scope, DATA_KEYS)
        await append(
            session,
            AuditEntry(
                action="keys.create", tenant_id=scope.tenant_id, actor="system", resource="data_key",
                detail={"master": self.masters.current.id, "index_key_kept_from_secret_key": kept},
            ),
        )  # fmt: skip
        log.info("data_keys_created", tenant=scope.tenant_code, master=self.masters.current.id)
        return True


def describe(key: DataKey, masters: MasterKeys) -> str:
    """Which master wrapped ``key``, in words for ``fuquan keys status``."""
    if key.master_id == masters.current.id:
        return "当前主密钥"
    if any(key.master_id == previous.id for previous in masters.previous):
        return "旧主密钥（待轮换）"
    return "未配置的主密钥"
