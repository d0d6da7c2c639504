"""Staff accounts (工作人员), their roles at units, API bearer tokens, and admins' second factors (动态验证码)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuquan.platform.core.db import Base, BigId, IdMixin
from fuquan.platform.core.keys.models import EncryptedColumns


class Staff(IdMixin, Base):
    __tablename__ = "staff"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    unit_code: Mapped[str] = mapped_column(String(15))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="staff", lazy="selectin", cascade="all, delete-orphan"
    )


class RoleAssignment(IdMixin, Base):
    """A role a person holds at a unit (岗位)."""

    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("staff_id", "unit_code", "role"),)

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"))
    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    unit_code: Mapped[str] = mapped_column(String(15))
    role: Mapped[str] = mapped_column(String(32))
    staff: Mapped[Staff] = relationship(back_populates="roles")


class ApiToken(IdMixin, Base):
    """A bearer token; only its SM3 digest is stored, so a database leak yields no usable token."""

    __tablename__ = "api_token"

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class SecondFactor(IdMixin, Base):
    """A person's TOTP secret (RFC 6238), encrypted with the tenant's data key. ``enrolled_at`` is NULL while
    the secret has been shown but no code proved with it yet; ``last_step`` is the time step of the last code
    accepted, so each code is accepted once only (RFC 6238 §5.2)."""

    __tablename__ = "second_factor"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"), unique=True)
    secret_cipher: Mapped[bytes] = mapped_column(LargeBinary)  # SM4-GCM, bound to tenant and staff member
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    enrolled_at: Mapped[datetime | None]


def factor_secret_context(tenant_code: str, staff_id: int) -> bytes:
    """What a TOTP secret's ciphertext is bound to: the tenant and the person (a secret copied to another
    person's row does not decrypt)."""
    return f"{tenant_code}:second-factor:{staff_id}".encode()


def _factor_row_context(tenant_code: str, row: Mapping[str, Any]) -> bytes:
    return factor_secret_context(tenant_code, row["staff_id"])


FACTOR_SECRETS = EncryptedColumns(SecondFactor, ("secret_cipher",), _factor_row_context, ("staff_id",))


class RecoveryCode(IdMixin, Base):
    """A one-time recovery code (恢复码) for when the authenticator is lost; only its SM3 digest is stored."""

    __tablename__ = "recovery_code"
    __table_args__ = (UniqueConstraint("staff_id", "digest"),)

    staff_id: Mapped[int] = mapped_column(BigId, ForeignKey("staff.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]
