"""The SM2 module against the standards' worked examples, and what a verifier must refuse.

GB/T 32918.2 signs with the recommended curve of GB/T 32918.5 (as GM/T 0003.5 does): private key ``d``, the
message "message digest" and the default user id 1234567812345678 give the public key and the signature (r, s)
below for the nonce k = 59276E27…; Tongsuo signs with a random k, so the vector is checked by verifying the
standard's signature and deriving the standard's public key — which proves Z_A (the id and the curve) and SM3
are the standard's. SM3 itself is checked against GB/T 32905's two examples."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuquan.platform.certificates import sm2

D = bytes.fromhex("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
PUBLIC = bytes.fromhex(
    "04"
    "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
    "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
)
MESSAGE = b"message digest"
R = bytes.fromhex("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3")
S = bytes.fromhex("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA")


def test_sm3_matches_gb_t_32905() -> None:
    assert sm2.sm3(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm2.sm3(b"abcd" * 16).hex() == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_the_standards_key_pair_and_signature() -> None:
    assert sm2.public_of(D) == PUBLIC
    assert sm2.USER_ID == "1234567812345678"
    assert sm2.verify(PUBLIC, MESSAGE, R + S)


@pytest.mark.parametrize(
    ("public", "message", "signature"),
    [
        (PUBLIC, b"message digesT", R + S),  # another message
        (PUBLIC, MESSAGE, S + R),  # r and s swapped
        (PUBLIC, MESSAGE, R + S[:-1] + bytes([S[-1] ^ 1])),  # one bit of s
        (PUBLIC, MESSAGE, R + S + b"\x00"),  # too long
        (PUBLIC, MESSAGE, b""),
        (PUBLIC, MESSAGE, bytes(64)),  # r = s = 0
        (PUBLIC, MESSAGE, b"\xff" * 64),  # beyond the curve's order
        (PUBLIC[:-1] + bytes([PUBLIC[-1] ^ 1]), MESSAGE, R + S),  # a point off the curve
        (b"\x04" + bytes(64), MESSAGE, R + S),
        (PUBLIC[:33], MESSAGE, R + S),
    ],
)
def test_what_a_verifier_refuses(public: bytes, message: bytes, signature: bytes) -> None:
    assert sm2.verify(public, message, signature) is False


@settings(max_examples=40, deadline=None)
@given(message=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=511))
def test_a_signature_holds_for_its_message_and_no_bit_of_it_can_change(message: bytes, flip: int) -> None:
    private, public = sm2.generate()
    signature = sm2.sign(private, message)
    assert len(signature) == sm2.SIGNATURE_BYTES and sm2.verify(public, message, signature)
    altered = bytearray(signature)
    altered[flip // 8] ^= 1 << (flip % 8)
    assert not sm2.verify(public, message, bytes(altered))
    assert sm2.public_of(private) == public
