"""Statistical division codes (统计用区划代码, 2022 edition) and deterministic grids (网格).

Codes are prefix-hierarchical: 2 digits province, 4 city, 6 county, 9 township/street,
12 village/community; grids extend their village/community code with 3 digits (15).
Other systems send every code padded to 12 digits (640202000000 for 640202): ``normalise_unit_code``
reads a code as it arrives and is the only way one enters Fuquan.
The CSVs ship inside the package so a clone needs nothing else.
"""

from __future__ import annotations

import csv
import hashlib
import io
import lzma
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Final

from fuquan.platform.core.errors import BadRequest

CODE_LENGTH_BY_LEVEL = {1: 2, 2: 4, 3: 6, 4: 9, 5: 12, 6: 15}
LEVEL_BY_CODE_LENGTH = {length: level for level, length in CODE_LENGTH_BY_LEVEL.items()}
GRID_LEVEL = 6
VILLAGE_LEVEL = 5
LEVEL_NAMES = {1: "省", 2: "市", 3: "县", 4: "乡镇/街道", 5: "村/社区", 6: "网格"}

NINGXIA = "64"
_NINGXIA_FILE = "divisions_ningxia_2022.csv"
_NATIONAL_FILE = "divisions_cn_2022.csv.xz"


@dataclass(frozen=True, slots=True)
class Division:
    """One unit of the hierarchy as the statistics bureau (or the grid generator) names it."""

    code: str
    name: str
    level: int

    @property
    def parent_code(self) -> str | None:
        return parent_code_of(self.code)


def level_of(code: str) -> int:
    """Level of a division code, or ValueError when the code has no valid shape."""
    level = LEVEL_BY_CODE_LENGTH.get(len(code))
    if level is None or not code.isdigit():
        raise ValueError(f"区划代码 {code!r} 格式不正确：应为 2、4、6、9、12 或 15 位数字")
    return level


_UNIT_CODE: Final = re.compile(r"[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15}")  # ASCII digits only
UNIT_CODE_PATTERN: Final = f"^(?:{_UNIT_CODE.pattern})$"  # the same, as the OpenAPI document states it
_PADDED_LENGTHS: Final = (2, 4, 6, 9)  # the levels a 12-digit statistical code may be padded from, highest first


class InvalidUnitCode(BadRequest, ValueError):
    """Not a division code. A 400 wherever it reaches the API or a page; to msgspec (raised in a Struct's
    ``__post_init__``) and to a command it is the ValueError of a bad value."""


def normalise_unit_code(raw: str) -> str:
    """The unit code as Fuquan keeps it, from a code as other systems send it (统计用区划代码).

    2, 4, 6, 9 and 15 digits are kept. 12 digits are the statistical form, padded with zeros below the
    unit's own level: 640000000000 is 64, 640200000000 is 6402, 640202000000 is 640202 and
    640202001000 is 640202001. Each segment of a real code is non-zero (a village's last three digits
    are 001–999), so only whole zero segments at the end are padding: 640202001001 stays a village.
    A 15-digit grid code is never shortened. Anything else raises ``InvalidUnitCode``.
    """
    if not _UNIT_CODE.fullmatch(raw):
        raise InvalidUnitCode(
            "区划代码格式不正确：应为 2、4、6、9、12 或 15 位数字（12 位统计用代码也可，如 640202000000 即 640202）",
            rule="unit_code",
        )
    if len(raw) == CODE_LENGTH_BY_LEVEL[VILLAGE_LEVEL]:
        for length in _PADDED_LENGTHS:
            if not raw[length:].strip("0"):
                return raw[:length]
    return raw


def parent_code_of(code: str) -> str | None:
    level = level_of(code)
    return None if level == 1 else code[: CODE_LENGTH_BY_LEVEL[level - 1]]


def ancestor_codes(code: str) -> list[str]:
    """The codes above ``code``, root first (not including ``code`` itself)."""
    level = level_of(code)
    return [code[: CODE_LENGTH_BY_LEVEL[lvl]] for lvl in range(1, level)]


def _data_text(name: str) -> io.TextIOBase:
    resource = resources.files("fuquan.tenants") / "data" / name
    if name.endswith(".xz"):
        return io.TextIOWrapper(lzma.open(io.BytesIO(resource.read_bytes())), encoding="utf-8")
    return io.StringIO(resource.read_text(encoding="utf-8"))


def _read(name: str, province_code: str) -> Iterator[Division]:
    with _data_text(name) as text:
        for row in csv.DictReader(text):
            if row["code"].startswith(province_code):
                yield Division(row["code"], row["name"], int(row["level"]))


def province_names() -> dict[str, str]:
    """Province codes and names in the national file."""
    with _data_text(_NATIONAL_FILE) as text:
        return {row["code"]: row["name"] for row in csv.DictReader(text) if row["level"] == "1"}


def load_province(province_code: str) -> list[Division]:
    """Every real unit of one province, parents before children.

    Ningxia reads its own small file; other provinces come from the national file.
    """
    if len(province_code) != 2 or not province_code.isdigit():
        raise ValueError(f"省级区划代码 {province_code!r} 应为 2 位数字")
    source = _NINGXIA_FILE if province_code == NINGXIA else _NATIONAL_FILE
    divisions = sorted(_read(source, province_code), key=lambda d: (d.level, d.code))
    if not divisions or divisions[0].code != province_code:
        raise ValueError(f"全国区划数据中没有省级代码 {province_code}")
    return divisions


def grid_count(village_code: str) -> int:
    """3 to 8 grids per village/community, the same every time for the same code."""
    digest = hashlib.sha256(village_code.encode()).digest()
    return 3 + digest[0] % 6


def grids_of(village: Division) -> list[Division]:
    """Generated grids of a village/community: numbered 001…, 15-digit codes."""
    return [
        Division(f"{village.code}{n:03d}", f"{village.name}第{n}网格", GRID_LEVEL)
        for n in range(1, grid_count(village.code) + 1)
    ]


def with_grids(divisions: list[Division]) -> list[Division]:
    """The real units plus the generated grids of every village/community, parents first."""
    grids = [grid for d in divisions if d.level == VILLAGE_LEVEL for grid in grids_of(d)]
    return divisions + grids
