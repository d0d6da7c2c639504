"""审计密钥: the keys of the audit chain's HMAC-SM3 and of its checkpoints' signatures — never in the database.

``FUQUAN_AUDIT_KEY`` (or the file ``FUQUAN_AUDIT_KEY_FILE`` names) is the current key; without one, a key is derived
from ``FUQUAN_SECRET_KEY`` under a label of its own, so it is still distinct from every other key. Each key is known by
an id (a fingerprint) that every sealed record and checkpoint carries: to rotate, set a new key and move the old one to
``FUQUAN_PREVIOUS_AUDIT_KEYS`` (comma-separated), where it keeps verifying what it sealed.
"""

from __future__ import annotations

from collections.abc import Iterable

from fuquan.platform.core.config import Settings
from fuquan.platform.core.crypto import hmac_sm3_hex, sm3_hex

_DERIVATION_LABEL = b"fuquan audit chain key v1"


class UnknownAuditKey(LookupError):
    """A record or checkpoint names a key id this process was not given."""


def derived_audit_key(secret_key: str) -> str:
    """The audit key of a deployment that configures none: HMAC-SM3 of a fixed label under the secret key."""
    return hmac_sm3_hex(secret_key.encode(), _DERIVATION_LABEL)


def audit_key_id(key: str) -> str:
    """A key's public name: 16 hex digits of its SM3 fingerprint (reveals nothing of the key)."""
    return sm3_hex(b"fuquan audit key id|" + key.encode())[:16]


class AuditKeys:
    """The current audit key, which seals and signs, and earlier ones, which only verify."""

    def __init__(self, current: str, previous: Iterable[str] = ()) -> None:
        if not current:
            raise ValueError("an audit key is required")
        self.current_id = audit_key_id(current)
        self._keys = {audit_key_id(key): key.encode() for key in (*previous, current)}

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditKeys:
        return cls(settings.audit_key or derived_audit_key(settings.secret_key), settings.previous_audit_keys)

    def mac(self, data: bytes, key_id: str | None = None) -> str:
        """HMAC-SM3 of ``data`` under the key ``key_id`` (the current key when not given)."""
        key = self._keys.get(key_id or self.current_id)
        if key is None:
            raise UnknownAuditKey(key_id)
        return hmac_sm3_hex(key, data)

    def knows(self, key_id: str) -> bool:
        return key_id in self._keys
