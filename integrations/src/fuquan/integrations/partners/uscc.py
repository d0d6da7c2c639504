"""统一社会信用代码 (GB 32100-2015): 18 characters, the last a check character over the first 17.

Checked before any call to market regulation: a mistyped code is the clerk's to fix, not a query.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
LENGTH = 18


class InvalidCreditCode(ValueError):
    """The code is malformed; ``args[0]`` is a message for the clerk (it does not repeat the code)."""


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalise_credit_code(raw: str) -> str:
    """Upper-cased, trimmed and verified, or ``InvalidCreditCode`` saying what is wrong."""
    code = raw.strip().upper()
    if len(code) != LENGTH:
        raise InvalidCreditCode(f"统一社会信用代码应为 18 位，当前为 {len(code)} 位")
    bad = sorted({char for char in code if char not in ALPHABET})
    if bad:
        raise InvalidCreditCode(f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、S、V、Z）")
    if check_character(code[:17]) != code[17]:
        raise InvalidCreditCode("统一社会信用代码校验位不正确，请核对后重新输入")
    return code


def with_check_character(first17: str) -> str:
    """The full code for a 17-character body (the simulators issue codes this way)."""
    return first17 + check_character(first17)
