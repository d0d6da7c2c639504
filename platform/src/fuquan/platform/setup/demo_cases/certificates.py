"""The demo's certificates follow its history: a case generated today and moved into the past (``runner._backdate``)
gets its final receipt number and dates only then, so each certificate its approval signed is signed again — same
organ, same key, same holder — with the final number and the day of the backdated decision, and a revocation keeps
the day of the backdated revocation. The trace's mentions of the certificate follow."""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import Case, CaseEvent
from fuquan.platform.certificates import sm2
from fuquan.platform.certificates.keys import wrapping_context
from fuquan.platform.certificates.models import Certificate, certificate_context
from fuquan.platform.certificates.repositories import CertificateRepository, OrganKeyRepository
from fuquan.platform.certificates.services import CertificateRecord
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.keys.master import MasterKeys
from fuquan.platform.core.timeutil import local_date
from fuquan.tenants.scope import TenantScope


async def redate(
    session: AsyncSession, scope: TenantScope, cipher: TenantCipher, masters: MasterKeys, case: Case,
    events: list[CaseEvent],
) -> None:  # fmt: skip
    certificates = await CertificateRepository(session).of_case(scope, case.id)
    if not certificates:
        return
    keys = {key.id: key for key in await OrganKeyRepository(session).by_ids({c.key_id for c in certificates})}
    renamed: dict[str, str] = {}
    decided = case.decided_at or case.created_at
    revoked = next((event.at for event in reversed(events) if event.action == "revoke"), None)
    for certificate in certificates:
        key = keys[certificate.key_id]
        private = masters.unwrap(key.master_id, key.wrapped, wrapping_context(key.tenant_id, key.unit_code, key.serial))
        old = certificate.number
        signed = cipher.decrypt(certificate.record_cipher, context=certificate_context(scope.tenant_code, old))
        record = msgspec.json.decode(signed.encode(), type=CertificateRecord)
        number = f"{case.receipt_no}-{old.rsplit('-', 1)[1]}"
        record = msgspec.structs.replace(record, number=number, receipt_no=case.receipt_no,
                                         issued_on=local_date(decided, scope.timezone))  # fmt: skip
        _sign(certificate, record, private, cipher, scope)
        certificate.issued_at = decided
        if certificate.revoked_at is not None and revoked is not None:
            certificate.revoked_at = revoked
        renamed[old] = number
    for event in events:
        detail = dict(event.detail or {})
        if detail.get("certificate") in renamed:
            detail["certificate"] = renamed[detail["certificate"]]
        if "certificates_revoked" in detail:
            detail["certificates_revoked"] = [renamed.get(n, n) for n in detail["certificates_revoked"]]
        event.detail = detail


def _sign(certificate: Certificate, record: CertificateRecord, private: bytes, cipher: TenantCipher,
          scope: TenantScope) -> None:  # fmt: skip
    signed = record.signed_bytes()
    certificate.number, certificate.issued_on = record.number, record.issued_on
    certificate.signature = sm2.sign(private, signed)
    context = certificate_context(scope.tenant_code, record.number)
    certificate.record_cipher = cipher.encrypt(signed.decode(), context=context)
