"""个人信息加密: a tenant's cipher (SM4-GCM under its data keys, HMAC-SM3 blind index under its index key), and
the first format, keyed from ``FUQUAN_SECRET_KEY``, which is still read until re-encryption has moved it on.

A ciphertext names the data key it was made with, so data keys can change while old data stays readable:

    format 2:  02 | key id (4 bytes) | nonce (12) | SM4-GCM ciphertext | tag (16)   — header and context authenticated
    format 1:  01 | nonce (12) | ciphertext | tag (16)                               — keys derived from the secret key
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fuquan.platform.core.crypto import hmac_sm3_hex
from fuquan.platform.core.personal import normalise_id_number

NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
_FORMAT_1: Final = b"\x01"
_FORMAT_2: Final = b"\x02"
_HEADER_2: Final = 5


class DecryptionFailed(Exception):
    """A stored ciphertext is corrupt, was tampered with, belongs to another context, or needs a key this process
    does not hold. Not a ``FuquanError``: stored data failing its integrity check is a server fault, not bad input.
    """


def _seal(key: bytes, header: bytes, plaintext: str, context: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)  # random per message: GCM breaks if a nonce repeats under one key
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header + context)
    return header + nonce + encryptor.update(plaintext.encode()) + encryptor.finalize() + encryptor.tag


def _open(key: bytes, header: bytes, body: bytes, context: bytes) -> str:
    if len(body) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionFailed("truncated ciphertext")
    nonce, ciphertext, tag = body[:NONCE_BYTES], body[NONCE_BYTES:-TAG_BYTES], body[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(header + context)
    try:
        return (decryptor.update(ciphertext) + decryptor.finalize()).decode()
    except InvalidTag:
        raise DecryptionFailed("authentication failed: wrong key or context, or tampered ciphertext") from None


def blind_index_of(index_key: bytes, tenant_code: str, id_number: str) -> str:
    """盲索引: hex HMAC-SM3 of ``tenant:number``: equality lookup without decrypting. The tenant in the input keeps
    one person's indexes unrelated across tenants even under one key (as in format 1)."""
    if not tenant_code or ":" in tenant_code:
        # ':' is the separator; forbidding it keeps (tenant, number) → input one-to-one.
        raise ValueError("tenant must be non-empty and contain no ':'")
    return hmac_sm3_hex(index_key, f"{tenant_code}:{normalise_id_number(id_number)}".encode())


class LegacyCipher:
    """Format 1, keyed from ``FUQUAN_SECRET_KEY`` through HKDF-SM3: read only, so that data written before data
    keys existed stays readable until ``fuquan keys rotate --data-keys`` re-encrypts it."""

    __slots__ = ("_encryption_key", "index_key")

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("secret_key must not be empty")
        secret = secret_key.encode()
        self._encryption_key = _legacy_derive(secret, b"fuquan/pii/sm4-gcm", 16)
        self.index_key = _legacy_derive(secret, b"fuquan/pii/blind-index/hmac-sm3", 32)

    def __repr__(self) -> str:
        return "LegacyCipher(<keys hidden>)"

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> bytes:
        """Only to make data as releases before data keys did (upgrade tests)."""
        return _FORMAT_1 + _seal(self._encryption_key, b"", plaintext, context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        if blob[:1] != _FORMAT_1:
            raise DecryptionFailed("not a format 1 ciphertext")
        return _open(self._encryption_key, b"", blob[1:], context)


def _legacy_derive(secret: bytes, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SM3(), length=length, salt=b"fuquan/pii/v1", info=info).derive(secret)


class TenantCipher:
    """One tenant's cipher: encrypts with its active data key, decrypts with whichever key a ciphertext names,
    and computes its blind index. Obtained per request from the process's ``KeyRing``."""

    __slots__ = ("_active", "_index_key", "_keys", "_legacy", "tenant_code")

    def __init__(
        self,
        tenant_code: str,
        *,
        active: int,
        keys: Mapping[int, bytes],
        index_key: bytes,
        legacy: LegacyCipher | None = None,
    ) -> None:
        if active not in keys:
            raise ValueError("the active data key must be among the keys")
        self.tenant_code = tenant_code
        self._active = active
        self._keys = dict(keys)
        self._index_key = index_key
        self._legacy = legacy

    def __repr__(self) -> str:
        return f"TenantCipher(tenant={self.tenant_code!r}, active={self._active}, <keys hidden>)"

    @property
    def active_key_id(self) -> int:
        return self._active

    def encrypt(self, plaintext: str, *, context: bytes = b"") -> bytes:
        """``context`` (e.g. the tenant and the kind of record) is authenticated: a ciphertext copied into another
        tenant's or another kind of record fails to decrypt."""
        return _seal(self._keys[self._active], _FORMAT_2 + self._active.to_bytes(4, "big"), plaintext, context)

    def decrypt(self, blob: bytes, *, context: bytes = b"") -> str:
        if blob[:1] == _FORMAT_1 and self._legacy is not None:
            return self._legacy.decrypt(blob, context=context)
        key_id = key_id_of(blob)
        if key_id is None:
            raise DecryptionFailed("unknown format or truncated ciphertext")
        key = self._keys.get(key_id)
        if key is None:
            raise DecryptionFailed(f"data key {key_id} of tenant {self.tenant_code} is not loaded")
        return _open(key, blob[:_HEADER_2], blob[_HEADER_2:], context)

    def blind_index(self, id_number: str) -> str:
        return blind_index_of(self._index_key, self.tenant_code, id_number)


def key_id_of(blob: bytes) -> int | None:
    """The data key a format-2 ciphertext was made with; None for format 1 or anything else."""
    if len(blob) < _HEADER_2 or blob[:1] != _FORMAT_2:
        return None
    return int.from_bytes(blob[1:_HEADER_2], "big")
