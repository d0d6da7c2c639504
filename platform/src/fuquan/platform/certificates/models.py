"""机关签名密钥 and 电子证照: each organ's SM2 keys (held wrapped by the master key) and the certificates they sign."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin
from fuquan.platform.core.keys.models import EncryptedColumns

ACTIVE: Final = "active"  # signs new certificates
RETIRED: Final = "retired"  # signs nothing more; still verifies what it signed

VALID: Final = "valid"
REVOKED: Final = "revoked"


class OrganKey(IdMixin, Base):
    """An organ's SM2 signing key (机关签名密钥). The private scalar is stored wrapped by the master key (SM4-GCM,
    bound to tenant, organ and serial); the public point stays in the clear for verification. Rotation retires
    the active key and makes the next serial active: a retired key keeps verifying what it signed."""

    __tablename__ = "organ_key"
    __table_args__ = (UniqueConstraint("tenant_id", "unit_code", "serial"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(15))  # the organ's unit
    serial: Mapped[int] = mapped_column(SmallInteger)  # 1, 2, … per organ
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # 04 || X || Y
    fingerprint: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8))
    master_id: Mapped[str] = mapped_column(String(16))  # the master key that wrapped it
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


def certificate_context(tenant_code: str, number: str) -> bytes:
    """What a certificate's encrypted record is bound to: moved to another number or tenant, it fails to decrypt."""
    return f"{tenant_code}:certificate:{number}".encode()


def _row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return certificate_context(tenant_code, str(row["number"]))


class Certificate(IdMixin, Base):
    """电子证照: the signed record of an approved case's result. ``record_cipher`` holds the exact bytes that were
    signed (canonical JSON with the holder's full name and number), encrypted like any personal data; the masked
    holder and the organ are kept in the clear for the public verification page. Never deleted: a revoked
    certificate keeps ``revoked_at`` and the reason, and its page says so."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        Index("ix_certificate_number", "number"),
        Index("ix_certificate_case", "case_id"),
    )

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(40))  # 证照编号: the case's receipt number and a sequence
    verify_code: Mapped[str] = mapped_column(String(10))  # 核验码, printed beside the number
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("case_file.id", ondelete="CASCADE"))
    item_code: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(160))  # 证照名称
    organ_code: Mapped[str] = mapped_column(String(15))  # 颁证单位: the issuing organ's unit
    organ_name: Mapped[str] = mapped_column(String(128))
    holder_masked: Mapped[str] = mapped_column(String(64))
    holder_id_masked: Mapped[str] = mapped_column(String(32))
    issued_on: Mapped[date]
    key_id: Mapped[int] = mapped_column(BigId, ForeignKey("organ_key.id"))
    record_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary)  # r || s
    status: Mapped[str] = mapped_column(String(8))
    issued_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(500))
    revoked_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("staff.id"))


CERTIFICATE_SECRETS = EncryptedColumns(Certificate, ("record_cipher",), _row_context, ("number",))
