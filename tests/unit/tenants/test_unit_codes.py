"""Unit codes as other systems send them: the 12-digit statistical form is the same unit as the short code."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuquan.platform.core.errors import BadRequest
from fuquan.tenants.divisions import (
    CODE_LENGTH_BY_LEVEL,
    InvalidUnitCode,
    level_of,
    load_province,
    normalise_unit_code,
    with_grids,
)


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("640000000000", "64"),  # province
        ("640200000000", "6402"),  # city
        ("640202000000", "640202"),  # county
        ("640202001000", "640202001"),  # township / street
        ("640202001001", "640202001001"),  # village / community: already its own code
        ("640202001010", "640202001010"),
        ("640202001100", "640202001100"),  # ends in zeros, but not in a whole zero segment
        ("110101000000", "110101"),
        ("460105000000", "460105"),
    ],
)
def test_the_12_digit_form_is_the_short_code(sent: str, kept: str) -> None:
    assert normalise_unit_code(sent) == kept


@pytest.mark.parametrize("code", ["64", "6402", "640202", "640202001", "640202001001", "640202001001001"])
def test_short_codes_and_grids_are_kept_as_they_are(code: str) -> None:
    assert normalise_unit_code(code) == code


def test_grid_codes_are_never_shortened() -> None:
    """A 15-digit code is a grid (village code + 3 digits), whatever its digits."""
    assert normalise_unit_code("640202001001000") == "640202001001000"
    assert normalise_unit_code("640000000000000") == "640000000000000"


@pytest.mark.parametrize(
    "bad",
    ["", "6", "640", "64020", "6402020", "6402020010", "64020200100", "6402020010010", "6402020010010010",
     "6402x2", "64020200100a", " 640202", "640202 ", "640202\n", "６４", "６４０２０２", "64²", "-64", "+64",
     "6" * 1000],
)  # fmt: skip
def test_anything_else_is_not_a_unit_code(bad: str) -> None:
    with pytest.raises(InvalidUnitCode, match="区划代码") as raised:
        normalise_unit_code(bad)
    error = raised.value
    assert isinstance(error, BadRequest) and error.status == 400 and error.rule == "unit_code"  # a 400 on the web
    assert isinstance(error, ValueError)  # and what msgspec and commands expect of a bad value
    assert "2、4、6、9、12 或 15 位数字" in error.detail and len(error.detail) < 200


def test_every_real_unit_sent_in_its_12_digit_form_comes_back_as_itself() -> None:
    """Over every unit of Ningxia and its grids: padding to 12 digits and normalising is the identity,
    and no two units share a 12-digit form."""
    seen: dict[str, str] = {}
    for division in with_grids(load_province("64")):
        sent = division.code.ljust(12, "0") if len(division.code) <= 12 else division.code
        assert normalise_unit_code(sent) == division.code, division
        assert seen.setdefault(sent, division.code) == division.code
        assert normalise_unit_code(division.code) == division.code


segment = {2: st.integers(1, 99), 4: st.integers(1, 99), 6: st.integers(1, 99), 9: st.integers(1, 999),
           12: st.integers(1, 999)}  # fmt: skip


@given(level=st.integers(1, 5), parts=st.tuples(*(segment[length] for length in (2, 4, 6, 9, 12))))
def test_padding_any_code_to_12_digits_and_back(level: int, parts: tuple[int, ...]) -> None:
    widths = (2, 2, 2, 3, 3)
    code = "".join(f"{part:0{width}d}" for part, width in zip(parts[:level], widths[:level], strict=True))
    assert len(code) == CODE_LENGTH_BY_LEVEL[level]
    assert normalise_unit_code(code.ljust(12, "0")) == code
    assert level_of(normalise_unit_code(code.ljust(12, "0"))) == level


def test_a_body_with_a_bad_code_is_a_validation_error_naming_the_field() -> None:
    """Raised in a Struct's ``__post_init__``, the ValueError becomes msgspec's ValidationError (a 400)."""

    class Body(msgspec.Struct, frozen=True):
        unit: str

        def __post_init__(self) -> None:
            msgspec.structs.force_setattr(self, "unit", normalise_unit_code(self.unit))

    assert msgspec.json.decode(b'{"unit": "640202000000"}', type=Body).unit == "640202"
    with pytest.raises(msgspec.ValidationError, match="区划代码"):
        msgspec.json.decode(b'{"unit": "6402x2"}', type=Body)
