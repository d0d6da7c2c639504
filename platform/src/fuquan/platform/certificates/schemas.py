"""What the certificate API answers (msgspec Structs)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import msgspec

Standing = Literal["valid", "revoked", "not_authentic"]


class CertificateRead(msgspec.Struct, frozen=True, kw_only=True):
    """A case's e-certificate as staff see it (the holder masked, as everywhere)."""

    number: str
    verify_code: str
    title: str
    organ_code: str
    organ_name: str
    holder: str
    holder_id: str
    issued_on: date
    status: str  # valid | revoked
    key_fingerprint: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


class VerificationRead(msgspec.Struct, frozen=True, kw_only=True):
    """核验结果 for anyone holding the number and 核验码: ``standing`` is ``valid`` (authentic and in force),
    ``revoked`` (authentic, revoked since) or ``not_authentic`` (the signature does not hold)."""

    standing: Standing
    number: str
    title: str
    organ_name: str
    holder: str
    holder_id: str
    issued_on: date
    key_fingerprint: str
    signed_with_retired_key: bool
    algorithm: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None


class OrganKeyRead(msgspec.Struct, frozen=True, kw_only=True):
    """An organ's signing key as an admin sees it: never the private half."""

    unit_code: str
    serial: int
    algorithm: str
    fingerprint: str
    state: str
    public_key: str  # hex of 04 || X || Y, for anyone verifying offline
    created_at: datetime
    retired_at: datetime | None = None
