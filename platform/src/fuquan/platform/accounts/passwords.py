"""Passwords: strength (zxcvbn, with the person's own names counted as guessable), argon2id hashes."""

from __future__ import annotations

import re

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from fuquan.platform.core.errors import ValidationFailed

# argon2id with the library's RFC 9106 "low memory" profile (64 MiB, 3 passes, 4 lanes)
PROFILE: Parameters = profiles.RFC_9106_LOW_MEMORY


class _Hashing:
    hasher = PasswordHasher.from_parameters(PROFILE)
    dummy = hasher.hash("fuquan-dummy-password")  # verified for an unknown username: timing reveals no username


MIN_PASSWORD_LENGTH = 10
MAX_CHECKED_PASSWORD = 100  # zxcvbn's time grows with length; a password this long is judged by its start

MIN_PASSWORD_SCORE = 3  # zxcvbn's 0–4: 3 is "safely unguessable: moderate protection from offline slow-hash attacks"


def check_password(password: str, *, username: str, unit_code: str, display_name: str = "") -> None:
    """密码强度: at least ``MIN_PASSWORD_LENGTH`` characters, not built from the username, and a zxcvbn score of at
    least ``MIN_PASSWORD_SCORE`` with the username, the unit's code and the display name counted as guessable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符", rule="password_length")
    if username.casefold() in password.casefold():
        raise ValidationFailed("密码不能包含用户名，请换一个别人猜不到的密码", rule="password_like_username")
    guessable = [part for part in (username, unit_code, display_name) if part]
    rest = password[:MAX_CHECKED_PASSWORD]
    for part in guessable:  # what is left once the guessable parts are taken out must be strong on its own
        rest = re.sub(re.escape(part), "", rest, flags=re.IGNORECASE)
    if not rest or zxcvbn(rest, user_inputs=guessable)["score"] < MIN_PASSWORD_SCORE:
        raise ValidationFailed(
            "密码太容易被猜到：请用更长的、不含常见词语、连续数字或重复字符的密码（例如几个不相关的词加数字）",
            rule="weak_password",
        )


def use_profile(parameters: Parameters) -> None:
    """Hash new passwords (and the dummy) with other parameters: the test suite uses argon2-cffi's
    ``profiles.CHEAPEST``, as the library advises for tests. A hash carries its own parameters, so hashes made under
    either profile verify under the other."""
    _Hashing.hasher = PasswordHasher.from_parameters(parameters)
    _Hashing.dummy = _Hashing.hasher.hash("fuquan-dummy-password")


def hash_password(password: str) -> str:
    return _Hashing.hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; with no hash (an unknown username) a dummy one is verified, so timing does not
    reveal which usernames exist."""
    try:
        return _Hashing.hasher.verify(password_hash or _Hashing.dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
