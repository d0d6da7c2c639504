"""Known answers for the gateway protocol's cryptography and canonical string (DESIGN §8).

SM3: GB/T 32905-2016 appendix A. HMAC-SM3: GM/T 0042-2015 appendix D.3 (the vectors OpenSSL and
libxcrypt test against), plus RFC 2104 built by hand from SM3 with 64-byte blocks.
"""

from __future__ import annotations

import pytest

from fuquan.integrations.gateway.protocol import (
    HEADER_APP_KEY,
    HEADER_NONCE,
    HEADER_PURPOSE,
    HEADER_REQUEST_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    HEADER_USER_ID,
    canonical_string,
    new_nonce,
    sign,
    signature_matches,
)
from fuquan.platform.core.crypto import hmac_sm3_hex, sm3_hex

SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD_16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
SM3_EMPTY = "1ab21d8355cfa17f8e61194831e81a8f22bec8c728fefb747ed035eb5082aa2b"

PATH = "/gateway/gaj/v1/identity/verify"
SECRET = "s3cret"
APP_KEY = "fq-64-gaj"
TIMESTAMP = 1767225600
NONCE = "0123456789abcdef0123456789abcdef"


# ---- SM3 ----------------------------------------------------------------------------------------


def test_sm3_known_answers_from_gb_t_32905() -> None:
    assert sm3_hex(b"abc") == SM3_ABC
    assert sm3_hex(b"abcd" * 16) == SM3_ABCD_16


def test_sm3_of_nothing() -> None:
    assert sm3_hex(b"") == SM3_EMPTY


# ---- HMAC-SM3 -----------------------------------------------------------------------------------

GM_T_0042_D3 = [
    (
        bytes(range(0x01, 0x21)),
        b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq" * 2,
        "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a",
    ),
    (
        bytes(range(0x01, 0x26)),
        b"\xcd" * 50,
        "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae",
    ),
    (
        b"\x0b" * 32,
        b"Hi There",
        "c0ba18c68b90c88bc07de794bfc7d2c8d19ec31ed8773bc2b390c9604e0be11e",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "2e87f1d16862e6d964b50a5200bf2b10b764faa9680a296a2405f24bec39f882",
    ),
]


@pytest.mark.parametrize(("key", "message", "expected"), GM_T_0042_D3)
def test_hmac_sm3_known_answers_from_gm_t_0042(key: bytes, message: bytes, expected: str) -> None:
    assert hmac_sm3_hex(key, message) == expected


def rfc2104_hmac_sm3(key: bytes, message: bytes) -> str:
    """HMAC (RFC 2104) spelled out over SM3: 64-byte blocks, longer keys hashed first."""
    block = 64
    if len(key) > block:
        key = bytes.fromhex(sm3_hex(key))
    key = key.ljust(block, b"\x00")
    inner = bytes.fromhex(sm3_hex(bytes(b ^ 0x36 for b in key) + message))
    return sm3_hex(bytes(b ^ 0x5C for b in key) + inner)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        *((key, message) for key, message, _ in GM_T_0042_D3),
        (b"", b""),
        (b"k" * 64, b"exactly one block of key"),
        (b"a key longer than the sixty-four byte block of SM3, so it is hashed first......", b"abc"),
        (SECRET.encode(), canonical_string("POST", PATH, APP_KEY, TIMESTAMP, NONCE, b"abc")),
    ],
)
def test_hmac_sm3_is_rfc_2104_over_sm3(key: bytes, message: bytes) -> None:
    assert hmac_sm3_hex(key, message) == rfc2104_hmac_sm3(key, message)


def test_the_hand_built_hmac_agrees_with_the_published_vectors() -> None:
    for key, message, expected in GM_T_0042_D3:
        assert rfc2104_hmac_sm3(key, message) == expected


# ---- canonical string and signature ---------------------------------------------------------------


def test_canonical_string_is_the_documented_layout() -> None:
    assert canonical_string("post", PATH, APP_KEY, TIMESTAMP, NONCE, b"abc") == (
        b"POST\n/gateway/gaj/v1/identity/verify\nfq-64-gaj\n1767225600\n0123456789abcdef0123456789abcdef\n"
        b"66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_canonical_string_of_an_empty_body() -> None:
    assert canonical_string("POST", "/p", "k", "1", "n", b"") == b"POST\n/p\nk\n1\nn\n" + SM3_EMPTY.encode()


def signed(body: bytes = b"abc") -> dict[str, str]:
    return sign(
        SECRET,
        "POST",
        PATH,
        body,
        app_key=APP_KEY,
        timestamp=TIMESTAMP,
        nonce=NONCE,
        request_id="req-1",
        purpose="SL2026000001",
        user_id="clerk1",
    ).as_dict()


def test_sign_known_answer() -> None:
    headers = signed()
    expected = "bccdbc571a209d39e70e21e9b1a8f16a6a95cf8d926137627aace91756d8d137"
    assert headers[HEADER_SIGNATURE] == expected
    assert expected == rfc2104_hmac_sm3(
        SECRET.encode(), canonical_string("POST", PATH, APP_KEY, TIMESTAMP, NONCE, b"abc")
    )
    assert headers == {
        HEADER_APP_KEY: APP_KEY,
        HEADER_TIMESTAMP: "1767225600",
        HEADER_NONCE: NONCE,
        HEADER_REQUEST_ID: "req-1",
        HEADER_PURPOSE: "SL2026000001",
        HEADER_USER_ID: "clerk1",
        HEADER_SIGNATURE: expected,
    }


def matches(
    *,
    secret: str = SECRET,
    method: str = "POST",
    path: str = PATH,
    body: bytes = b'{"id_number":"x"}',
    app_key: str = APP_KEY,
    timestamp: str = str(TIMESTAMP),
    nonce: str = NONCE,
    signature: str | None = None,
) -> bool:
    if signature is None:
        signature = signed(b'{"id_number":"x"}')[HEADER_SIGNATURE]
    return signature_matches(
        secret, method, path, body, app_key=app_key, timestamp=timestamp, nonce=nonce, signature=signature
    )


def test_signature_matches_accepts_the_signed_request() -> None:
    assert matches()
    assert matches(method="post")  # the method is upper-cased before signing
    assert matches(signature=signed(b'{"id_number":"x"}')[HEADER_SIGNATURE].upper() + " ")


@pytest.mark.parametrize(
    "change",
    [
        {"secret": "other"},
        {"method": "GET"},
        {"path": PATH + "/"},
        {"app_key": "fq-65-gaj"},
        {"timestamp": str(TIMESTAMP + 1)},
        {"nonce": NONCE[:-1] + "0"},
        {"signature": "0" * 64},
        {"signature": ""},
    ],
    ids=lambda change: next(iter(change)),
)
def test_signature_matches_rejects_any_changed_field(change: dict[str, str]) -> None:
    assert not matches(**change)  # type: ignore[arg-type]


def test_signature_matches_rejects_any_changed_body_byte() -> None:
    body = b'{"id_number":"x"}'
    for index in range(len(body)):
        tampered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]
        assert not matches(body=tampered), index
    assert not matches(body=body + b" ")
    assert not matches(body=body[:-1])


def test_nonces_are_fresh() -> None:
    nonces = {new_nonce() for _ in range(1000)}
    assert len(nonces) == 1000
    assert all(len(nonce) == 32 and int(nonce, 16) >= 0 for nonce in nonces)
