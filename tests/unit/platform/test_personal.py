"""Resident ID checks (GB 11643-1999), display masks and the checks of what clerks type."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.personal import (
    PROVINCE_CODES,
    id_check_char,
    mask_id_number,
    mask_name,
    mask_phone,
    parse_resident_id,
    person_name,
    phone_number,
    readable_text,
    reveal_purpose,
)

TODAY = date(2025, 6, 1)
STANDARD_EXAMPLE = "11010519491231002X"  # GB 11643-1999, 5.2


def make_id(region: str, birth: str, sequence: str) -> str:
    body = region + birth + sequence
    return body + id_check_char(body)


def test_standard_example_is_valid() -> None:
    parsed = parse_resident_id(STANDARD_EXAMPLE, today=TODAY)
    assert parsed.number == STANDARD_EXAMPLE
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.region_code == "110105"
    assert parsed.sex == "female"  # 17th digit 2 is even


def test_generated_numbers_are_valid_and_sex_follows_the_17th_digit() -> None:
    male = parse_resident_id(make_id("640202", "19900101", "123"), today=TODAY)
    female = parse_resident_id(make_id("640202", "19900101", "124"), today=TODAY)
    assert (male.sex, female.sex) == ("male", "female")
    assert male.birth_date == date(1990, 1, 1)
    assert id_check_char(male.number[:17]) == male.number[17]


@pytest.mark.parametrize("region", ["710000", "810000", "820000", "150000", "650000"])
def test_outlying_and_border_province_codes_are_accepted(region: str) -> None:
    assert parse_resident_id(make_id(region, "19900101", "123"), today=TODAY).region_code == region


def test_lowercase_x_spaces_and_full_width_input_are_normalised() -> None:
    assert parse_resident_id("11010519491231002x", today=TODAY).number == STANDARD_EXAMPLE
    assert parse_resident_id(" 110105 19491231 002X ", today=TODAY).number == STANDARD_EXAMPLE
    assert parse_resident_id("１１０１０５１９４９１２３１００２ｘ", today=TODAY).number == STANDARD_EXAMPLE


def test_birth_today_is_accepted() -> None:
    assert parse_resident_id(make_id("640202", "20250601", "001"), today=TODAY).birth_date == TODAY


def test_default_today_accepts_a_past_birth() -> None:
    assert parse_resident_id(STANDARD_EXAMPLE).birth_date == date(1949, 12, 31)


INVALID = [
    pytest.param("11010519491231002", "id_length", id="17 characters"),
    pytest.param("11010519491231002X1", "id_length", id="19 characters"),
    pytest.param("110105491231002", "id_length", id="old 15-digit number"),
    pytest.param("", "id_length", id="empty"),
    pytest.param("1101051949123100AX", "id_format", id="letter in body"),
    pytest.param("11010519491231002Y", "id_format", id="letter other than X"),
    pytest.param("110105194912310021", "id_checksum", id="bad checksum"),
    pytest.param(make_id("640202", "19900230", "123"), "id_birth_date", id="Feb 30"),
    pytest.param(make_id("640202", "19901301", "123"), "id_birth_date", id="month 13"),
    pytest.param(make_id("640202", "20250602", "123"), "id_birth_date", id="tomorrow"),
    pytest.param(make_id("640202", "20300101", "123"), "id_birth_date", id="future year"),
    pytest.param(make_id("640202", "18500101", "123"), "id_birth_date", id="year 1850"),
    pytest.param(make_id("910101", "19900101", "123"), "id_region", id="province 91"),
    pytest.param(make_id("000101", "19900101", "123"), "id_region", id="province 00"),
]


@pytest.mark.parametrize(("text", "rule"), INVALID)
def test_invalid_numbers_fail_with_their_rule_and_never_echo_the_number(text: str, rule: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_resident_id(text, today=TODAY)
    error = caught.value
    assert error.rule == rule
    assert error.status == 422
    assert "身份证号码" in error.detail
    # No run of digits long enough to identify anyone: not the number, nor its body or birth date.
    assert not re.search(r"\d{5,}", error.detail)
    assert not re.search(r"\d{5,}", str(error))


def test_resident_id_repr_shows_only_the_masked_number() -> None:
    shown = repr(parse_resident_id(STANDARD_EXAMPLE, today=TODAY))
    assert STANDARD_EXAMPLE not in shown
    assert "1101**********002X" in shown
    assert "1949" not in shown


def test_id_check_char_rejects_wrong_input() -> None:
    for bad in ["1234", "1101051949123100A", "110105194912310021", "１１０１０５１９４９１２３１００２"]:
        with pytest.raises(ValueError, match="17"):
            id_check_char(bad)


def test_masks() -> None:
    assert mask_id_number("640202199001011234") == "6402**********1234"
    assert mask_id_number("11010519491231002x") == "1101**********002X"
    assert mask_id_number("12345678") == "********"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("张") == "*"
    assert mask_name("") == ""
    assert mask_phone("13812341234") == "138****1234"
    assert mask_phone("09512345678") == "095****5678"
    assert mask_phone("12345678") == "123*5678"
    assert mask_phone("1234567") == "*******"
    assert mask_phone("") == ""


# --- property: MOD 11-2 catches every single substitution and adjacent transposition ---

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


@st.composite
def id_bodies(draw: st.DrawFn) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    rest_of_region = draw(st.text(alphabet="0123456789", min_size=4, max_size=4))
    birth = draw(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    sequence = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    return province + rest_of_region + birth.strftime("%Y%m%d") + sequence


@given(body=id_bodies())
def test_generated_bodies_parse(body: str) -> None:
    parsed = parse_resident_id(body + id_check_char(body), today=TODAY)
    assert parsed.number[:17] == body
    assert parsed.birth_date.strftime("%Y%m%d") == body[6:14]


@given(body=id_bodies(), position=st.integers(min_value=0, max_value=16), replacement=digits)
def test_any_single_digit_change_is_caught(body: str, position: int, replacement: str) -> None:
    if body[position] == replacement:
        replacement = str((int(replacement) + 1) % 10)
    changed = body[:position] + replacement + body[position + 1 :]
    with pytest.raises(ValidationFailed) as caught:
        parse_resident_id(changed + id_check_char(body), today=TODAY)
    assert caught.value.rule == "id_checksum"  # the checksum is checked before date and region


@given(body=id_bodies(), position=st.integers(min_value=0, max_value=15))
def test_any_adjacent_transposition_is_caught(body: str, position: int) -> None:
    a, b = body[position], body[position + 1]
    if a == b:
        return
    swapped = body[:position] + b + a + body[position + 2 :]
    with pytest.raises(ValidationFailed) as caught:
        parse_resident_id(swapped + id_check_char(body), today=TODAY)
    assert caught.value.rule == "id_checksum"


@pytest.mark.parametrize("name", ["张三", "买买提·艾力", "欧阳 娜娜", "  李四  "])
def test_person_names_as_on_the_id_card(name: str) -> None:
    assert person_name(name) == " ".join(name.split())


@pytest.mark.parametrize("name", ["", "   ", "\x00", "张\x00三", "张\u200b三", "x" * 65])
def test_names_that_are_blank_invisible_or_too_long_are_refused(name: str) -> None:
    with pytest.raises(ValidationFailed, match="请填写申请人姓名"):
        person_name(name)


PHONES = [("138 1234 1234", "13812341234"), ("0951-1234567", "0951-1234567"), ("+8613812341234", "+8613812341234"),
          ("", None), ("  ", None)]  # fmt: skip
ARABIC_INDIC = "\u0666\u0664\u0660\u0662\u0660\u0662\u0660\u0660\u0661"


@pytest.mark.parametrize(("text", "phone"), PHONES)
def test_phone_numbers(text: str, phone: str | None) -> None:
    assert phone_number(text) == phone


@pytest.mark.parametrize("text", ["call me", ARABIC_INDIC, "１３８１２３４１２３４", "+11111111111111111111", "12345"])
def test_phone_numbers_of_other_scripts_or_lengths_are_refused(text: str) -> None:
    with pytest.raises(ValidationFailed, match="联系电话格式不正确"):
        phone_number(text)


def test_a_reveal_purpose_needs_readable_words() -> None:
    assert reveal_purpose("  核对\t身份\x00信息 ") == "核对 身份信息"
    assert readable_text("a\x00\u200bb  c") == "ab c"
    for blank in ("\x00\x00\x00\x00", "    ", "核对", "x" * 257):
        with pytest.raises(ValidationFailed, match="请填写查看用途"):
            reveal_purpose(blank)
