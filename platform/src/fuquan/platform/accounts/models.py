"""Staff accounts (工作人员), their roles at units, and API bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fuquan.platform.core.db import Base, BigId, IdMixin


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
