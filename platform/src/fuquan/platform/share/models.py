"""Partner departments' applications (共享应用) calling Fuquan's data-sharing API, and their signing keys."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId, IdMixin, JsonB
from fuquan.platform.core.keys.models import EncryptedColumns


class ShareApp(IdMixin, Base):
    """One partner department's application, registered by a tenant (e.g. 大武口区民政局's 低保核对系统)."""

    __tablename__ = "share_app"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))  # the tenant's short name for it, e.g. "dwk-civil-affairs"
    name: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(64))
    contact: Mapped[str] = mapped_column(String(128))
    allowed_clients: Mapped[str] = mapped_column(String(512), default="")  # addresses or networks; "" = any
    suspended_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ShareKey(IdMixin, Base):
    """A signing key of an application: its id travels in ``X-App-Key``, its secret (SM4-encrypted with the
    tenant's data key) signs the calls. A rotated key keeps working until ``expires_at`` (the overlap)."""

    __tablename__ = "share_key"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_app.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[str] = mapped_column(String(40), unique=True)  # unique across tenants: it finds the tenant
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]


def share_secret_context(tenant_code: str, key_id: str) -> bytes:
    """What a key's secret is bound to: the tenant and the key id (a ciphertext copied to another key's row does
    not decrypt)."""
    return f"{tenant_code}:share-key:{key_id}".encode()


def _row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return share_secret_context(tenant_code, row["key_id"])


SHARE_SECRETS = EncryptedColumns(ShareKey, ("secret_cipher",), _row_context, ("key_id",))


class ShareGrant(IdMixin, Base):
    """共享授权: one application may use one dataset, for these purposes, seeing these fields, for residents of
    ``region`` (a unit code's subtree; NULL: the whole tenant), from ``valid_from`` until ``valid_until``, on the
    legal basis or agreement ``basis`` (数据共享协议编号). Revoked, it stays as history."""

    __tablename__ = "share_grant"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_app.id", ondelete="CASCADE"), index=True)
    dataset: Mapped[str] = mapped_column(String(64))
    purposes: Mapped[list[str]] = mapped_column(JsonB)
    fields: Mapped[list[str]] = mapped_column(JsonB)
    region: Mapped[str | None] = mapped_column(String(15))
    basis: Mapped[str] = mapped_column(String(128))
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ShareNonce(Base):
    """A nonce a key has used (X-Nonce): its row's primary key is the pair, so of two calls with one nonce — on any
    replica — one insert lands and the other is a replay. Kept for the ±300 s timestamp window and a margin."""

    __tablename__ = "share_nonce"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(index=True)


class ShareCall(IdMixin, Base):
    """调用日志: one call to the data-sharing API, answered or refused — which application (NULL when the key was
    not known), dataset, purpose and the caller's file number, the partner's operator, the outcome and why. The
    subjects asked about are in ``share_call_subject``, by blind index only: the log never holds an ID number."""

    __tablename__ = "share_call"
    __table_args__ = (Index("ix_share_call_app_at", "app_id", "at"),)

    tenant_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    app_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("share_app.id", ondelete="CASCADE"))
    key_id: Mapped[str] = mapped_column(String(40))  # as presented (a refused call's may be unknown)
    at: Mapped[datetime]
    dataset: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(32))
    reference: Mapped[str] = mapped_column(String(64))  # the caller's own case or file number (X-Purpose)
    operator: Mapped[str] = mapped_column(String(64))  # X-User-Id
    request_id: Mapped[str] = mapped_column(String(64))
    client: Mapped[str] = mapped_column(String(45))
    code: Mapped[str] = mapped_column(String(2))  # the envelope's code
    reason: Mapped[str] = mapped_column(String(48))  # "answered", or why it was refused
    subjects: Mapped[int] = mapped_column(SmallInteger, default=0)


class ShareCallSubject(Base):
    """A resident a call asked about (by the tenant's blind index of the ID number): what lets the resident see
    who used their data (the public progress page)."""

    __tablename__ = "share_call_subject"
    __table_args__ = (Index("ix_share_call_subject_person", "tenant_id", "subject_index"),)

    call_id: Mapped[int] = mapped_column(BigId, ForeignKey("share_call.id", ondelete="CASCADE"), primary_key=True)
    subject_index: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"))


class ShareQuota(Base):
    """How many calls a key has had answered on one day (the tenant's local day): the daily quota, counted in one
    row every replica increments."""

    __tablename__ = "share_quota"

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    used: Mapped[int]
