"""A version per tenant and kind of setting (the working calendar, the partner gateways, …): what every
process's cache of that setting is checked against."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId


class SettingVersion(Base):
    """Bumped in the same transaction as every change of the tenant's setting of this kind."""

    __tablename__ = "setting_version"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
