"""机关 (organs): which body a unit is, in law, and the name it acts under.

A statistical division is not an organ. The HRSS department of a province, city or county is an administrative
organ (行政机关) and so are a 乡镇人民政府 and a 街道办事处; a 村民委员会 or 居民委员会 is a mass organisation of
self-government, and a grid (网格) is no body at all. Only an organ may decide, or issue a decision, in its own name
(行政许可法 Art. 22–24): the others accept and hand over on an organ's behalf (代收、代办).

Each unit's organ is derived from its level and its name unless the tenant has set one (``unit.organ_name``,
``unit.organ_kind``), for the places where the default is wrong (a 农场 or 开发区 among the townships).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

OrganKind = Literal[
    "hrss_department",  # 人力资源和社会保障厅/局
    "township_government",  # 乡（镇）人民政府
    "subdistrict_office",  # 街道办事处
    "management_committee",  # 管理委员会 (a development zone's, where law lets it act in its own name)
    "villagers_committee",  # 村民委员会
    "residents_committee",  # 居民委员会
    "grid",  # 网格
    "other",  # 农场、林场、园区… : not an organ unless the tenant says which it is
]

ORGAN_KIND_NAMES: Final[dict[str, str]] = {
    "hrss_department": "人力资源和社会保障部门",
    "township_government": "乡（镇）人民政府",
    "subdistrict_office": "街道办事处",
    "management_committee": "管理委员会",
    "villagers_committee": "村民委员会",
    "residents_committee": "居民委员会",
    "grid": "网格",
    "other": "其他（非行政机关）",
}
KINDS_BY_LEVEL: Final[dict[int, tuple[str, ...]]] = {  # what a unit of each level can be
    1: ("hrss_department",), 2: ("hrss_department",), 3: ("hrss_department",),
    4: ("township_government", "subdistrict_office", "management_committee", "other"),
    5: ("villagers_committee", "residents_committee", "other"),
    6: ("grid",),
}  # fmt: skip
ADMINISTRATIVE: Final = frozenset({"hrss_department", "township_government", "subdistrict_office",
                                   "management_committee"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Organ:
    """The body a unit is: its name as it signs, its kind, and whether it is an administrative organ."""

    unit_code: str
    name: str
    kind: str

    @property
    def administrative(self) -> bool:
        """行政机关: may decide and issue decisions in its own name."""
        return self.kind in ADMINISTRATIVE


def default_kind(level: int, name: str) -> str:
    """The kind a unit's level and name suggest."""
    if level <= 3:
        return "hrss_department"
    if level == 4:
        if name.endswith(("镇", "乡", "苏木")):
            return "township_government"
        if name.endswith(("街道", "街道办事处", "办事处")):
            return "subdistrict_office"
        return "management_committee" if name.endswith(("管委会", "管理委员会")) else "other"
    if level == 5:
        if name.endswith(("居委会", "居民委员会", "社区")):
            return "residents_committee"
        return "villagers_committee" if name.endswith(("村委会", "村民委员会", "村")) else "other"
    return "grid"


def default_name(level: int, name: str, kind: str) -> str:
    """The name a unit of this kind signs with: 大武口区人力资源和社会保障局, 长胜街道办事处, 星海镇人民政府,
    朝阳社区居民委员会…"""
    if kind == "hrss_department":
        return f"{name}人力资源和社会保障{'厅' if level == 1 else '局'}"
    if kind == "township_government":
        return f"{name}人民政府"
    if kind == "subdistrict_office":
        return name if name.endswith("办事处") else f"{name}办事处"
    if kind in ("residents_committee", "villagers_committee"):
        full = "居民委员会" if kind == "residents_committee" else "村民委员会"
        for short in ("居委会", "村委会", "居民委员会", "村民委员会"):
            if name.endswith(short):
                return name[: -len(short)] + full
        return name + ("居民委员会" if name.endswith("社区") else "民委员会" if name.endswith("村") else full)
    return name


def organ_of(code: str, level: int, name: str, organ_name: str | None, organ_kind: str | None) -> Organ:
    """A unit's organ: what the tenant set, else the defaults of its level and name."""
    kind = organ_kind or default_kind(level, name)
    return Organ(code, organ_name or default_name(level, name, kind), kind)
