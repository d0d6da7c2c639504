"""机关签名密钥: each organ's SM2 key pair, made when it first signs, held wrapped by the master key, rotatable.

The private scalar is wrapped with the current master key (SM4-GCM, bound to tenant, organ and serial, as data
keys are: a wrapped key copied to another organ does not unwrap). Rotation retires the active key and makes the
next serial active in the same transaction; certificates keep naming the key that signed them, so a retired key
still verifies everything it signed. ``fuquan keys rotate`` re-wraps these keys with the data keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.certificates import sm2
from fuquan.platform.certificates.models import ACTIVE, OrganKey
from fuquan.platform.certificates.repositories import OrganKeyRepository
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict
from fuquan.platform.core.keys.master import MasterKeyMissing, MasterKeys
from fuquan.platform.core.keys.services import KeysNotReady
from fuquan.platform.core.tenancy import OfTenant

log = structlog.get_logger()


def wrapping_context(tenant_id: int, unit_code: str, serial: int) -> bytes:
    return f"fuquan/organ-key/{tenant_id}/{unit_code}/{serial}".encode()


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An organ's active key, unwrapped for one signature."""

    id: int
    unit_code: str
    serial: int
    fingerprint: str
    private: bytes = field(repr=False)


async def signing_key(
    session: AsyncSession, masters: MasterKeys, scope: OfTenant, unit_code: str, now: datetime
) -> SigningKey:
    """The organ's active key, made now if it has none (its first signature)."""
    repository = OrganKeyRepository(session)
    key = await repository.active(scope, unit_code)
    if key is None:
        await _make(session, masters, scope, unit_code, 1, now, "system")
        key = await repository.active(scope, unit_code)
        if key is None:  # another process made serial 1 and a rotation retired it meanwhile: vanishingly rare
            raise Conflict("机关签名密钥正在轮换，请稍后重试", rule="organ_key_rotating")
    context = wrapping_context(key.tenant_id, key.unit_code, key.serial)
    try:
        private = masters.unwrap(key.master_id, key.wrapped, context)
    except MasterKeyMissing as missing:
        log.error("organ_key_unwrap_failed", unit=unit_code, reason=str(missing))
        raise KeysNotReady("机关签名密钥无法解开，暂不能签发电子证照，请联系系统管理员检查主密钥配置",
                           rule="master_key_missing") from None  # fmt: skip
    return SigningKey(key.id, key.unit_code, key.serial, key.fingerprint, private)


async def _make(
    session: AsyncSession, masters: MasterKeys, scope: OfTenant, unit_code: str, serial: int, now: datetime,
    actor: str,
) -> bool:  # fmt: skip
    private, public = sm2.generate()
    master = masters.current
    row = {
        "tenant_id": scope.tenant_id, "unit_code": unit_code, "serial": serial, "algorithm": sm2.ALGORITHM,
        "public_key": public, "fingerprint": sm2.fingerprint(public), "state": ACTIVE, "master_id": master.id,
        "wrapped": master.wrap(private, wrapping_context(scope.tenant_id, unit_code, serial)), "created_at": now,
        "retired_at": None,
    }  # fmt: skip
    made = await OrganKeyRepository(session).add(row)
    if made:
        await append(
            session,
            AuditEntry(
                action="organ_key.create", tenant_id=scope.tenant_id, actor=actor, resource=f"organ_key:{unit_code}",
                detail={"unit": unit_code, "serial": serial, "fingerprint": row["fingerprint"]},
            ),
        )  # fmt: skip
        log.info("organ_key_created", unit=unit_code, serial=serial)
    return made


async def rotate(
    session: AsyncSession, masters: MasterKeys, scope: OfTenant, unit_code: str, actor: str, now: datetime,
    request_id: str | None = None,
) -> OrganKey:  # fmt: skip
    """轮换: retire the organ's active key and make the next one active; the new key."""
    repository = OrganKeyRepository(session)
    current = await repository.active(scope, unit_code)
    if current is not None and not await repository.retire(current, now):
        raise Conflict("该机关的签名密钥刚被轮换过，请刷新后再试", rule="organ_key_rotating")
    serial = await repository.last_serial(scope, unit_code) + 1
    if not await _make(session, masters, scope, unit_code, serial, now, actor):
        raise Conflict("该机关的签名密钥刚被轮换过，请刷新后再试", rule="organ_key_rotating")
    await append(
        session,
        AuditEntry(
            action="organ_key.rotate", tenant_id=scope.tenant_id, actor=actor, resource=f"organ_key:{unit_code}",
            request_id=request_id,
            detail={"unit": unit_code, "retired": None if current is None else current.serial, "active": serial},
        ),
    )  # fmt: skip
    key = await repository.active(scope, unit_code)
    assert key is not None  # made in this transaction
    return key


async def rewrap(session: AsyncSession, masters: MasterKeys) -> int:
    """Every organ key not wrapped by the current master key, wrapped by it (after a master key rotation)."""
    repository = OrganKeyRepository(session)
    current, count = masters.current, 0
    for key in await repository.all():
        if key.master_id == current.id:
            continue
        context = wrapping_context(key.tenant_id, key.unit_code, key.serial)
        material = masters.unwrap(key.master_id, key.wrapped, context)
        count += await repository.rewrap(key, current.id, current.wrap(material, context))
    return count
