"""Password hashes: argon2id at RFC 9106's low-memory profile in the product; the suite's cheap profile changes only
how fast its own hashes are made, never whether any hash verifies."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles

from fuquan.platform.accounts import passwords


def test_the_product_hashes_at_rfc_9106_low_memory() -> None:
    assert passwords.PROFILE == profiles.RFC_9106_LOW_MEMORY
    assert (passwords.PROFILE.memory_cost, passwords.PROFILE.time_cost) == (65536, 3)


def test_a_hash_verifies_whatever_profile_made_it() -> None:
    strong = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY).hash("长胜街道-窗口-2026")
    assert passwords.verify_password(strong, "长胜街道-窗口-2026")
    assert not passwords.verify_password(strong, "长胜街道-窗口-2027")
    cheap = passwords.hash_password("长胜街道-窗口-2026")
    assert PasswordHasher().verify(cheap, "长胜街道-窗口-2026")
    assert not passwords.verify_password(None, "长胜街道-窗口-2026")  # an unknown user: the dummy, and no
