"""SM2 signatures with SM3 (GB/T 32918, GB/T 32905) — the one module that talks to ``tongsuopy``.

``tongsuopy`` is the Python binding of Tongsuo (铜锁, the OpenAtom Foundation's OpenSSL fork that carries the
Chinese commercial algorithms, with a certified SM2 implementation in C); pyca/cryptography has SM3 and SM4 but
no SM2. The pure-Python alternatives were set aside: ``gmssl`` draws its nonce ``k`` from Python's ``random``
(a predictable ``k`` gives the private key away), and none of them is constant-time. The tests check this
module against the worked example of GB/T 32918 (part 5's recommended curve, as in GM/T 0003.5).

Signatures use the default distinguishing identifier of GM/T 0009 (``1234567812345678``) in ``Z_A``: it is the
one Tongsuo applies and the one other verifiers assume when none is agreed.
"""

from __future__ import annotations

from typing import Final

from tongsuopy.crypto import hashes, serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.asymciphers.utils import encode_dss_signature
from tongsuopy.crypto.exceptions import InvalidSignature

ALGORITHM: Final = "SM2-SM3"
USER_ID: Final = "1234567812345678"  # GM/T 0009 默认用户身份标识 (what Tongsuo puts into Z_A)
PRIVATE_BYTES: Final = 32
PUBLIC_BYTES: Final = 65  # 04 || X || Y
SIGNATURE_BYTES: Final = 64  # r || s, 32 bytes each
ORDER: Final = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123  # n of the recommended curve


def generate() -> tuple[bytes, bytes]:
    """A new key pair: the private scalar (32 bytes, big-endian) and the public point (uncompressed)."""
    key = ec.generate_private_key(ec.SM2())
    return key.private_numbers().private_value.to_bytes(PRIVATE_BYTES, "big"), public_point(key)


def public_point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def public_of(private: bytes) -> bytes:
    """The public point of a private scalar."""
    return public_point(ec.derive_private_key(int.from_bytes(private, "big"), ec.SM2()))


def sign(private: bytes, message: bytes) -> bytes:
    """The SM2 signature of ``message`` (SM3 over ``Z_A || message``) as ``r || s``, 64 bytes."""
    key = ec.derive_private_key(int.from_bytes(private, "big"), ec.SM2())
    r, s = _der_integers(bytes(key.sign(message, ec.ECDSA(hashes.SM3()))))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (``r || s``) is the SM2 signature of ``message`` under ``public``; False for any
    malformed input. The DER handed to Tongsuo is built here from two in-range integers, so a stored value that
    was tampered with can only fail the check, never reach the library's parser."""
    if len(signature) != SIGNATURE_BYTES or len(public) != PUBLIC_BYTES:
        return False
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if not (0 < r < ORDER and 0 < s < ORDER):
        return False
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), public)
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SM3()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _der_integers(der: bytes) -> tuple[int, int]:
    """(r, s) from the DER ``SEQUENCE { INTEGER r, INTEGER s }`` Tongsuo returns (short lengths: at most 72 bytes)."""
    if der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError("not an SM2 signature")
    values, at = [], 2
    for _ in range(2):
        if der[at] != 0x02:
            raise ValueError("not an SM2 signature")
        length = der[at + 1]
        values.append(int.from_bytes(der[at + 2 : at + 2 + length], "big"))
        at += 2 + length
    return values[0], values[1]


def sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return bytes(digest.finalize())


def fingerprint(public: bytes) -> str:
    """A key's short name for people: the first 16 hex digits of SM3 over its public point."""
    return sm3(public).hex()[:16].upper()
