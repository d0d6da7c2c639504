"""Envelope encryption's pieces: master keys wrapping data keys, a tenant's cipher and blind index, and format 1."""

from __future__ import annotations

import re

import pytest

from fuquan.platform.core.keys.ciphers import DecryptionFailed, LegacyCipher, TenantCipher, blind_index_of, key_id_of
from fuquan.platform.core.keys.master import MasterKey, MasterKeyMissing, MasterKeys

STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999, 5.2
MASTER, OTHER_MASTER = "m" * 64, "n" * 64
FORMAT_1_INDEX = "f6f09248d54e70dfcf14937e0f80ad268177d0c143fd14fb376257113310f660"  # computed by the release before
DATA_KEY, OTHER_DATA_KEY, INDEX_KEY = b"\x01" * 16, b"\x02" * 16, b"\x03" * 32


def cipher(active: int = 7, keys: dict[int, bytes] | None = None, tenant: str = "64") -> TenantCipher:
    return TenantCipher(tenant, active=active, keys=keys or {7: DATA_KEY}, index_key=INDEX_KEY)


# --- master keys ---


def test_a_master_key_wraps_and_unwraps_bound_to_its_context() -> None:
    master = MasterKey.of(MASTER)
    wrapped = master.wrap(DATA_KEY, b"fuquan/data-key/1/2/data")
    assert DATA_KEY not in wrapped and master.unwrap(wrapped, b"fuquan/data-key/1/2/data") == DATA_KEY
    for wrong in (b"fuquan/data-key/2/2/data", b"fuquan/data-key/1/3/data", b"fuquan/data-key/1/2/index"):
        with pytest.raises(MasterKeyMissing):
            master.unwrap(wrapped, wrong)
    with pytest.raises(MasterKeyMissing):
        MasterKey.of(OTHER_MASTER).unwrap(wrapped, b"fuquan/data-key/1/2/data")


def test_a_master_key_is_known_by_a_fingerprint_that_hides_it() -> None:
    master = MasterKey.of(MASTER)
    assert re.fullmatch(r"[0-9a-f]{16}", master.id) and master.id == MasterKey.of(f"  {MASTER}\n").id
    assert master.id != MasterKey.of(OTHER_MASTER).id
    assert MASTER not in repr(master) and MASTER[:8] not in master.id


def test_a_short_master_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        MasterKey.of("too-short")


def test_previous_master_keys_are_accepted_and_an_unknown_one_is_named() -> None:
    old = MasterKey.of(OTHER_MASTER)
    wrapped = old.wrap(DATA_KEY, b"ctx")
    keys = MasterKeys.of(MASTER, [OTHER_MASTER, MASTER])  # the current one among the previous ones is dropped
    assert [key.id for key in keys.previous] == [old.id]
    assert keys.unwrap(old.id, wrapped, b"ctx") == DATA_KEY
    with pytest.raises(MasterKeyMissing, match="FUQUAN_PREVIOUS_MASTER_KEYS"):
        MasterKeys.of(MASTER).unwrap(old.id, wrapped, b"ctx")


# --- a tenant's cipher ---


def test_round_trip_with_and_without_context() -> None:
    for plaintext in [STANDARD_EXAMPLE, "欧阳娜娜", ""]:
        assert cipher().decrypt(cipher().encrypt(plaintext)) == plaintext
        blob = cipher().encrypt(plaintext, context=b"64:applicant")
        assert cipher().decrypt(blob, context=b"64:applicant") == plaintext


def test_layout_names_the_data_key_and_nonces_are_random() -> None:
    first, second = cipher().encrypt(STANDARD_EXAMPLE), cipher().encrypt(STANDARD_EXAMPLE)
    assert first != second and first[5:17] != second[5:17]
    assert first[:5] == b"\x02\x00\x00\x00\x07" and key_id_of(first) == 7
    assert len(first) == 5 + 12 + len(STANDARD_EXAMPLE) + 16
    assert STANDARD_EXAMPLE.encode() not in first


def test_any_flipped_byte_is_detected_header_included() -> None:
    keys = {7: DATA_KEY, 6: DATA_KEY}  # a changed key id would otherwise find the same key
    blob = cipher(keys=keys).encrypt(STANDARD_EXAMPLE, context=b"ctx")
    for position in range(len(blob)):
        tampered = bytearray(blob)
        tampered[position] ^= 0x01
        with pytest.raises(DecryptionFailed):
            cipher(keys=keys).decrypt(bytes(tampered), context=b"ctx")


def test_truncated_empty_or_foreign_blobs_are_rejected() -> None:
    blob = cipher().encrypt(STANDARD_EXAMPLE)
    for bad in [b"", blob[:1], blob[:5], blob[:32], blob[:-1], b"\x03" + blob[1:]]:
        with pytest.raises(DecryptionFailed):
            cipher().decrypt(bad)


def test_wrong_context_or_wrong_key_is_rejected() -> None:
    blob = cipher().encrypt(STANDARD_EXAMPLE, context=b"64:applicant")
    for wrong in [b"", b"46:applicant", b"64:partner:x"]:
        with pytest.raises(DecryptionFailed):
            cipher().decrypt(blob, context=wrong)
    with pytest.raises(DecryptionFailed):
        cipher(keys={7: OTHER_DATA_KEY}).decrypt(blob, context=b"64:applicant")


def test_old_keys_still_decrypt_after_the_active_key_changes() -> None:
    old = cipher(active=7, keys={7: DATA_KEY}).encrypt("张三")
    rotated = cipher(active=8, keys={7: DATA_KEY, 8: OTHER_DATA_KEY})
    assert rotated.decrypt(old) == "张三" and key_id_of(rotated.encrypt("张三")) == 8
    with pytest.raises(DecryptionFailed, match="not loaded"):
        cipher(active=7, keys={7: DATA_KEY}).decrypt(rotated.encrypt("张三"))


def test_keys_never_show_in_repr() -> None:
    shown = repr(cipher())
    assert DATA_KEY.hex() not in shown and "tenant='64'" in shown


def test_blind_index_is_stable_normalised_and_tenant_separated() -> None:
    index = cipher().blind_index(STANDARD_EXAMPLE)
    assert re.fullmatch(r"[0-9a-f]{64}", index)
    assert cipher(active=8, keys={8: OTHER_DATA_KEY}).blind_index(STANDARD_EXAMPLE) == index  # data keys don't matter
    assert cipher().blind_index("11010519491231002x") == index
    assert cipher().blind_index(" 110105 19491231 002X") == index
    assert cipher(tenant="46").blind_index(STANDARD_EXAMPLE) != index
    assert cipher().blind_index("640202199001011234") != index
    assert blind_index_of(b"\x04" * 32, "64", STANDARD_EXAMPLE) != index


def test_blind_index_refuses_ambiguous_tenants() -> None:
    for tenant in ["", "a:b"]:
        with pytest.raises(ValueError, match="tenant"):
            blind_index_of(INDEX_KEY, tenant, STANDARD_EXAMPLE)


# --- format 1: keyed from the secret key, as before data keys ---


def test_format_1_is_read_by_a_tenant_cipher_that_holds_the_legacy_keys() -> None:
    legacy = LegacyCipher("s" * 64)
    old = legacy.encrypt(STANDARD_EXAMPLE, context=b"64:applicant")
    assert old[:1] == b"\x01" and key_id_of(old) is None
    reader = TenantCipher("64", active=7, keys={7: DATA_KEY}, index_key=legacy.index_key, legacy=legacy)
    assert reader.decrypt(old, context=b"64:applicant") == STANDARD_EXAMPLE
    with pytest.raises(DecryptionFailed):
        cipher().decrypt(old, context=b"64:applicant")  # without the legacy keys
    with pytest.raises(DecryptionFailed):
        TenantCipher("64", active=7, keys={7: DATA_KEY}, index_key=INDEX_KEY, legacy=LegacyCipher("t" * 64)).decrypt(
            old, context=b"64:applicant"
        )


def test_format_1_blind_indexes_are_kept_when_its_index_key_is_kept() -> None:
    """Before data keys, ``PersonalDataCipher.blind_index(n, tenant=t)`` was HMAC-SM3(HKDF(secret), "t:n"): a tenant
    that keeps the legacy index key finds its residents by the indexes already stored (value fixed here)."""
    legacy = LegacyCipher("a" * 64)
    kept = TenantCipher("yinchuan", active=7, keys={7: DATA_KEY}, index_key=legacy.index_key)
    assert kept.blind_index(STANDARD_EXAMPLE) == FORMAT_1_INDEX


def test_an_empty_secret_key_is_refused() -> None:
    with pytest.raises(ValueError, match="secret_key"):
        LegacyCipher("")
