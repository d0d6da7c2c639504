"""Personal data (个人信息): resident ID numbers, display masks and the checks of what clerks type (DESIGN §10).

- ``parse_resident_id`` checks a 公民身份号码 against GB 11643-1999.
- ``mask_*`` give the masked forms shown on screen (脱敏显示).
- encryption at rest and the blind index (盲索引) are the key ring's (``core.keys``).

Error messages never repeat the number: they reach logs and API responses.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.timeutil import local_date, utcnow

# Province-level codes (省级行政区划代码). The authoritative table lives in fuquan.tenants.divisions, a higher
# layer core may not import; 71/81/82 also appear on residence permits (居住证) for Taiwan, Hong Kong and Macao.
PROVINCE_CODES: Final = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82"),
    }
)

ID_LENGTH: Final = 18
EARLIEST_BIRTH_YEAR: Final = 1900
# ISO 7064 MOD 11-2: weight of position i is 2**(17 - i) mod 11; a remainder r maps to _CHECK_CHARS[r].
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS: Final = "10X98765432"
_BODY_RE: Final = re.compile(r"[0-9]{17}[0-9X]")
_SHANGHAI: Final = "Asia/Shanghai"

Sex = Literal["male", "female"]


@dataclass(frozen=True, slots=True, repr=False)
class ResidentId:
    """A checked 公民身份号码: the normalised number and what it encodes."""

    number: str  # 18 characters, check character upper-case
    birth_date: date  # 出生日期
    sex: Sex  # 性别, from the 17th digit (顺序码): odd is male
    region_code: str  # 地址码, the first six digits

    def __repr__(self) -> str:
        # A ResidentId may end up in a log line or a traceback; show only the masked number.
        return f"ResidentId(number={mask_id_number(self.number)!r})"


def normalise_id_number(text: str) -> str:
    """The number as stored and indexed: NFKC (full-width digits and ｘ), no spaces, upper-case X."""
    # NFKC turns full-width digits and ｘ from Chinese input methods into ASCII; clerks also type spaces.
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def id_check_char(first17: str) -> str:
    """The check character (校验码) for the first 17 digits, by ISO 7064 MOD 11-2."""
    if len(first17) != ID_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected exactly 17 ASCII digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def parse_resident_id(text: str, *, today: date | None = None) -> ResidentId:
    """Check a 公民身份号码 (GB 11643-1999) and return what it encodes; ``ValidationFailed`` if invalid.

    ``today`` defaults to the current date in China, so a birth registered today is accepted.
    """
    number = normalise_id_number(text)
    if len(number) != ID_LENGTH:
        if len(number) == 15:
            # 15-digit numbers were issued before 1999 and cannot be checked; ask for the current card.
            raise ValidationFailed("这是旧版15位身份证号码，请改用18位身份证号码", rule="id_length")
        raise ValidationFailed(f"身份证号码应为18位，当前为{len(number)}位，请核对后重新输入", rule="id_length")
    if not _BODY_RE.fullmatch(number):
        raise ValidationFailed("身份证号码前17位只能是数字，最后一位是数字或字母X，请核对后重新输入", rule="id_format")
    if id_check_char(number[:17]) != number[17]:
        raise ValidationFailed("身份证号码校验位不正确，请核对后重新输入", rule="id_checksum")

    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationFailed(
            "身份证号码中的出生日期（第7至14位）不是有效日期，请核对后重新输入", rule="id_birth_date"
        ) from None
    if today is None:
        today = local_date(utcnow(), _SHANGHAI)
    if birth_date > today:
        raise ValidationFailed("身份证号码中的出生日期晚于今天，请核对后重新输入", rule="id_birth_date")
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        raise ValidationFailed(
            f"身份证号码中的出生年份早于{EARLIEST_BIRTH_YEAR}年，请核对后重新输入", rule="id_birth_date"
        )

    if number[:2] not in PROVINCE_CODES:
        raise ValidationFailed("身份证号码前两位不是有效的省级行政区划代码，请核对后重新输入", rule="id_region")

    sex: Sex = "male" if int(number[16]) % 2 == 1 else "female"
    return ResidentId(number=number, birth_date=birth_date, sex=sex, region_code=number[:6])


def _mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end :]


def mask_id_number(number: str) -> str:
    """身份证号码脱敏: first 4 and last 4 kept, ``6402**********1234``; short input is masked entirely."""
    return _mask_middle(normalise_id_number(number), 4, 4)


def mask_name(name: str) -> str:
    """姓名脱敏: the first character kept, ``张*``, ``欧***``; a one-character name becomes ``*``."""
    name = name.strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """手机号脱敏: first 3 and last 4 kept, ``138****1234``; fewer than 8 characters are masked entirely."""
    phone = "".join(phone.split())
    if len(phone) < 8:
        return "*" * len(phone)
    return _mask_middle(phone, 3, 4)


# -- free text a clerk types: names, phones, purposes -------------------------------------------------------

_INVISIBLE: Final = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})  # control, format, surrogate, private, unassigned
_PHONE: Final = re.compile(r"\+?[0-9][0-9-]{6,18}")  # ASCII digits only (``\d`` would take any script's)
MAX_NAME: Final = 64
PURPOSE_MIN, PURPOSE_MAX = 4, 256


def readable_text(text: str) -> str:
    """The text without control or invisible characters, its runs of spaces collapsed to one."""
    spaced = "".join(" " if char.isspace() else char for char in text)  # tabs and newlines are Cc too
    return " ".join("".join(char for char in spaced if unicodedata.category(char) not in _INVISIBLE).split())


def person_name(text: str, who: str = "申请人") -> str:
    """姓名 as on the ID card (``买买提·艾力`` included): 1–64 readable characters, nothing invisible."""
    name = readable_text(text)
    if not 1 <= len(name) <= MAX_NAME or name != " ".join(text.split()):
        raise ValidationFailed(f"请填写{who}姓名（与身份证一致，最多 {MAX_NAME} 个字，不含控制字符）", rule="name")
    return name


def phone_number(text: str | None) -> str | None:
    """联系电话: a mobile or landline number of ASCII digits (a leading + and hyphens allowed), or none."""
    phone = "".join((text or "").split())
    if not phone:
        return None
    if not _PHONE.fullmatch(phone):
        raise ValidationFailed("联系电话格式不正确：请填写手机号或固定电话（只含数字和连字符）", rule="phone")
    return phone


def reveal_purpose(text: str) -> str:
    """查看用途: what the audit log records as the reason for unmasking a person; readable words, 4–256."""
    purpose = readable_text(text)
    if not PURPOSE_MIN <= len(purpose) <= PURPOSE_MAX:
        raise ValidationFailed(
            f"请填写查看用途（{PURPOSE_MIN} 到 {PURPOSE_MAX} 个字），用途将记入审计日志", rule="purpose"
        )
    return purpose
