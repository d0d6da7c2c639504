"""SM3 (GB/T 32905) and HMAC-SM3 from ``cryptography``."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, hmac


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, data: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()
