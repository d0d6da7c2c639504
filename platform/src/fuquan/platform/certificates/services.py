"""电子证照: issue the signed record of an approved case's result, revoke it with the decision, verify it for anyone.

A certificate is a small structured record (GB/T 36904's core elements: 证照名称、编号、持证主体及其代码、颁证单位及其
代码、颁证日期) encoded as canonical JSON and signed with SM2 by the issuing organ's active key. The exact signed bytes
are kept (encrypted: they carry the holder's full name and number), so verification re-checks the signature
over what was signed — it does not trust a flag in the database — under whichever key signed it, old or new.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.certificates import sm2
from fuquan.platform.certificates.keys import signing_key
from fuquan.platform.certificates.models import REVOKED, VALID, Certificate, OrganKey, certificate_context
from fuquan.platform.certificates.repositories import CertificateRepository, OrganKeyRepository
from fuquan.platform.certificates.schemas import CertificateRead, OrganKeyRead, Standing, VerificationRead
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.keys.ciphers import DecryptionFailed, TenantCipher
from fuquan.platform.core.keys.master import MasterKeys
from fuquan.platform.core.personal import mask_id_number, mask_name
from fuquan.platform.core.tenancy import NamedTenant, OfTenant

log = structlog.get_logger()

VERIFY_CODE_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out on the phone
VERIFY_CODE_LENGTH: Final = 8


class CertificateRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the organ signs (证照数据). Encoded with sorted keys: one record, one byte string."""

    number: str  # 证照编号
    title: str  # 证照名称
    item_code: str
    item_name: str
    holder: str  # 持证主体
    holder_id: str  # 持证主体代码 (the ID number)
    organ: str  # 颁证单位
    organ_code: str
    handled_by: str | None  # 受…委托，由…办理: the entrusted organ that took the decision, if any
    receipt_no: str
    issued_on: date
    key: str  # the signing key's fingerprint
    algorithm: str = sm2.ALGORITHM

    def signed_bytes(self) -> bytes:
        return msgspec.json.encode(self, order="sorted")


@dataclass(frozen=True, slots=True)
class Issuance:
    """The facts of a decision that a certificate records (the case service gathers them)."""

    case_id: int
    receipt_no: str
    item_code: str
    item_name: str
    title: str  # 证照名称: the item's 办理结果名称, else 准予…决定
    holder: str
    holder_id: str
    holder_masked: str
    holder_id_masked: str
    organ_code: str
    organ_name: str
    handled_by: str | None
    actor: str
    actor_id: int | None
    issued_on: date
    issued_at: datetime


def certificate_title(item_name: str, result_name: str = "") -> str:
    """证照名称: the item's 办理结果名称 where the catalogue names one, else 准予…决定 (行政许可法 Art. 38's
    准予行政许可的书面决定)."""
    return result_name.strip("《》 ") or f"准予{item_name}决定"


async def issue(
    session: AsyncSession, masters: MasterKeys, cipher: TenantCipher, scope: NamedTenant, facts: Issuance
) -> Certificate:
    """颁发: sign the record with the issuing organ's active key and store it, with its audit record."""
    repository = CertificateRepository(session)
    number = f"{facts.receipt_no}-{await repository.count_of_case(facts.case_id) + 1:02d}"
    key = await signing_key(session, masters, scope, facts.organ_code, facts.issued_at)
    record = CertificateRecord(
        number=number, title=facts.title, item_code=facts.item_code,
        item_name=facts.item_name, holder=facts.holder, holder_id=facts.holder_id, organ=facts.organ_name,
        organ_code=facts.organ_code, handled_by=facts.handled_by, receipt_no=facts.receipt_no,
        issued_on=facts.issued_on, key=key.fingerprint,
    )  # fmt: skip
    signed = record.signed_bytes()
    certificate = Certificate(
        tenant_id=scope.tenant_id, number=number, case_id=facts.case_id, item_code=facts.item_code,
        verify_code="".join(secrets.choice(VERIFY_CODE_ALPHABET) for _ in range(VERIFY_CODE_LENGTH)),
        title=record.title, organ_code=facts.organ_code, organ_name=facts.organ_name,
        holder_masked=facts.holder_masked, holder_id_masked=facts.holder_id_masked, issued_on=facts.issued_on,
        key_id=key.id, signature=sm2.sign(key.private, signed), status=VALID, issued_at=facts.issued_at,
        record_cipher=cipher.encrypt(signed.decode(), context=certificate_context(scope.tenant_code, number)),
    )  # fmt: skip
    repository.add(certificate)
    await append(
        session,
        AuditEntry(
            action="certificate.issue", tenant_id=scope.tenant_id, actor=facts.actor, actor_id=facts.actor_id,
            unit=facts.organ_code, resource=f"certificate:{number}",
            detail={"case_id": facts.case_id, "organ": facts.organ_code, "key": key.fingerprint},
        ),
    )  # fmt: skip
    log.info("certificate_issued", case_id=facts.case_id, organ=facts.organ_code, key_serial=key.serial)
    return certificate


async def revoke(
    session: AsyncSession, scope: NamedTenant, case_id: int, reason: str, actor: str, actor_id: int | None,
    now: datetime,
) -> list[str]:  # fmt: skip
    """注销: the decision behind them was reversed; the case's valid certificates are revoked (their numbers)."""
    numbers = await CertificateRepository(session).revoke_of_case(scope, case_id, reason, actor_id, now)
    for number in numbers:
        await append(
            session,
            AuditEntry(
                action="certificate.revoke", tenant_id=scope.tenant_id, actor=actor, actor_id=actor_id,
                resource=f"certificate:{number}", detail={"case_id": case_id, "reason": reason},
            ),
        )  # fmt: skip
    if numbers:
        log.info("certificates_revoked", case_id=case_id, count=len(numbers))
    return numbers


async def verify(
    session: AsyncSession, cipher_of: Callable[[NamedTenant], Awaitable[TenantCipher]], number: str, verify_code: str
) -> VerificationRead | None:
    """核验: the certificate of ``number`` and ``verify_code`` (None when there is none), its signature checked over
    the bytes that were signed, under the key that signed them, and the stored facts checked against the record."""
    found = await CertificateRepository(session).published(number, verify_code)
    if found is None:
        return None
    certificate, key, tenant = found
    authentic = False
    try:
        cipher = await cipher_of(tenant)
        signed = cipher.decrypt(certificate.record_cipher, context=certificate_context(tenant.tenant_code, number))
        record = msgspec.json.decode(signed.encode(), type=CertificateRecord)
        authentic = sm2.verify(key.public_key, signed.encode(), certificate.signature) and _agrees(certificate, record)
    except (DecryptionFailed, msgspec.DecodeError):
        log.warning("certificate_record_unreadable", certificate_id=certificate.id)
    standing: Standing = "not_authentic" if not authentic else "revoked" if certificate.status == REVOKED else "valid"
    if not authentic:
        log.warning("certificate_not_authentic", certificate_id=certificate.id)
    return VerificationRead(
        standing=standing, number=certificate.number, title=certificate.title, organ_name=certificate.organ_name,
        holder=certificate.holder_masked, holder_id=certificate.holder_id_masked, issued_on=certificate.issued_on,
        key_fingerprint=key.fingerprint, signed_with_retired_key=key.state != "active", algorithm=key.algorithm,
        revoked_at=certificate.revoked_at, revoked_reason=certificate.revoked_reason,
    )  # fmt: skip


def _agrees(certificate: Certificate, record: CertificateRecord) -> bool:
    """The clear columns the page shows say what the signed record says (the holder too, as masked)."""
    return (
        record.number == certificate.number
        and mask_name(record.holder) == certificate.holder_masked
        and mask_id_number(record.holder_id) == certificate.holder_id_masked
        and record.title == certificate.title
        and record.organ == certificate.organ_name
        and record.organ_code == certificate.organ_code
        and record.issued_on == certificate.issued_on
    )


def certificate_read(certificate: Certificate, fingerprint: str) -> CertificateRead:
    return CertificateRead(
        number=certificate.number, verify_code=certificate.verify_code, title=certificate.title,
        organ_code=certificate.organ_code, organ_name=certificate.organ_name, holder=certificate.holder_masked,
        holder_id=certificate.holder_id_masked, issued_on=certificate.issued_on, status=certificate.status,
        key_fingerprint=fingerprint, revoked_at=certificate.revoked_at, revoked_reason=certificate.revoked_reason,
    )  # fmt: skip


async def of_case(session: AsyncSession, scope: OfTenant, case_id: int) -> list[CertificateRead]:
    """A case's certificates (the caller has found the case in its scope)."""
    found = await CertificateRepository(session).of_case(scope, case_id)
    keys = {key.id: key.fingerprint for key in await OrganKeyRepository(session).by_ids({c.key_id for c in found})}
    return [certificate_read(certificate, keys[certificate.key_id]) for certificate in found]


def organ_key_read(key: OrganKey) -> OrganKeyRead:
    return OrganKeyRead(
        unit_code=key.unit_code, serial=key.serial, algorithm=key.algorithm, fingerprint=key.fingerprint,
        state=key.state, public_key=key.public_key.hex(), created_at=key.created_at, retired_at=key.retired_at,
    )  # fmt: skip
