"""Known-answer tests: GB/T 32905-2016 appendix A and HMAC-SM3 (RFC 2104 construction)."""

from __future__ import annotations

from fuquan.platform.core.crypto import hmac_sm3_hex, sm3_hex


def test_sm3_standard_vectors() -> None:
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_hmac_sm3_matches_the_rfc2104_construction() -> None:
    key, message = b"fuquan-key", b"GET\n/api/share/v1/x"
    block = 64
    padded = key.ljust(block, b"\0")
    inner = bytes.fromhex(sm3_hex(bytes(b ^ 0x36 for b in padded) + message))
    expected = sm3_hex(bytes(b ^ 0x5C for b in padded) + inner)
    assert hmac_sm3_hex(key, message) == expected
