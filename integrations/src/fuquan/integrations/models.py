"""Per-tenant partner configuration and Fuquan's own records (人社自有数据) that later cases reuse."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin
from fuquan.platform.core.keys.models import EncryptedColumns


class PartnerEndpointRecord(IdMixin, Base):
    """Where one tenant reaches one partner's gateway, with its app key and (encrypted) secret."""

    __tablename__ = "partner_endpoint"
    __table_args__ = (UniqueConstraint("tenant_id", "partner"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))
    partner: Mapped[str] = mapped_column(String(32))
    base_url: Mapped[str] = mapped_column(String(256))
    app_key: Mapped[str] = mapped_column(String(128))
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)  # SM4-GCM, bound to tenant and partner
    timeout_seconds: Mapped[float] = mapped_column(Float, default=2.0)
    retries: Mapped[int] = mapped_column(SmallInteger, default=2)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(64))


def partner_secret_context(tenant_code: str, partner: str) -> bytes:
    """What a partner secret's ciphertext is bound to: the tenant and the partner."""
    return f"{tenant_code}:partner:{partner}".encode()


def _row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return partner_secret_context(tenant_code, row["partner"])


PARTNER_SECRETS = EncryptedColumns(PartnerEndpointRecord, ("secret_cipher",), _row_context, ("partner",))


class HrssRecord(IdMixin, Base):
    """登记、认定 decided through Fuquan (就业登记, 失业登记, 就业困难人员认定…), found by the person's
    blind index, so an issued case satisfies a later item's material without paper."""

    __tablename__ = "hrss_record"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    person_index: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    item_code: Mapped[str] = mapped_column(String(32))
    receipt_no: Mapped[str] = mapped_column(String(40))
    unit_code: Mapped[str] = mapped_column(String(15))
    created_at: Mapped[datetime]
