"""数据密钥 (data keys): each tenant's own keys, stored wrapped by a master key (envelope encryption, DESIGN §10).

A tenant has one blind-index key for good (every stored index depends on it) and a sequence of data keys:
``pending`` (every process may decrypt with it, none encrypts yet), ``active`` (the one new data is encrypted
with) and ``retired`` (still decrypts what it encrypted, until re-encryption has moved that data on).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, BigId

DATA: Final = "data"  # SM4-GCM encryption of personal data and partner secrets
INDEX: Final = "index"  # HMAC-SM3 blind index (盲索引)

PENDING: Final = "pending"
ACTIVE: Final = "active"
RETIRED: Final = "retired"


class DataKey(Base):
    __tablename__ = "data_key"

    tenant_id: Mapped[int] = mapped_column(BigId, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # in the ciphertext header
    purpose: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(8))
    master_id: Mapped[str] = mapped_column(String(16))  # the fingerprint of the master key that wrapped it
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    changed_at: Mapped[datetime]


@dataclass(frozen=True, slots=True)
class EncryptedColumns:
    """Where a feature keeps ciphertexts: a model's table with ``id`` and ``tenant_id``, its encrypted columns, and the
    context (GCM's associated data) a row's values are bound to, from the tenant code and the row's
    ``context_columns``. Re-encryption reads and rewrites them through this description."""

    model: type[Base]
    columns: tuple[str, ...]
    context: Callable[[str, Mapping[str, Any]], bytes]
    context_columns: tuple[str, ...] = ()

    @property
    def table(self) -> Table:
        return cast(Table, self.model.__table__)
