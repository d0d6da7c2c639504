"""What the public pages and their API answer (msgspec Structs); personal data never appears here."""

from __future__ import annotations

from datetime import date

import msgspec

from fuquan.platform.catalog.schemas import Fee


class PointRead(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    kind_name: str
    agent: bool  # a bank or post outlet acting in the unit's name (代办点)
    address: str
    hours: str
    phone: str | None
    latitude: float | None
    longitude: float | None


class PlaceRead(msgspec.Struct, frozen=True, kw_only=True):
    """A unit that can accept the item today for the resident's village, nearest first, with its service points."""

    unit_code: str
    unit_name: str
    organ_name: str
    relation: str  # 本村（社区）, 所属乡镇（街道）, 县（区）…
    on_behalf: bool  # a committee or grid: it receives for an organ (代收代办), never decides in its own name
    points: list[PointRead]


class PlaceMatch(msgspec.Struct, frozen=True, kw_only=True):
    """A village or community the typed place may mean (with its township and county, to tell namesakes apart)."""

    code: str
    name: str
    path: str


class MaterialGuide(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    required: bool
    shared: bool  # 无需提交：由共享数据核验
    note: str
    pledge: bool
    deferrable: bool


class GuideRead(msgspec.Struct, frozen=True, kw_only=True):
    """办事指南 of one item, as the edition in force states it, and where to go for a place."""

    tenant: str
    code: str
    name: str
    item_type: str
    handling: str
    statutory_days: int
    promised_days: int
    subject_nature: str
    power_source: str
    legal_basis: str
    conditions: list[str]
    materials: list[MaterialGuide]
    fees: list[Fee]
    flow: list[str]
    result_name: str
    id_only: bool
    edition: int
    place: PlaceMatch | None = None
    places: list[PlaceRead] = msgspec.field(default_factory=list)
    candidates: list[PlaceMatch] = msgspec.field(default_factory=list)


class DutyRead(msgspec.Struct, frozen=True):
    """责任清单 line: a step of the procedure and what the unit answers for in it."""

    step: str
    duty: str


class PowerRead(msgspec.Struct, frozen=True, kw_only=True):
    """权力清单 line: an item the unit holds a right on, by what basis and instrument, since when; its duties and
    the situations in which its staff are held accountable (追责情形)."""

    item_code: str
    item_name: str
    item_type: str
    right: str  # 受理 / 审批
    basis: str  # 法定、下放、授权、委托
    instrument: str
    since: date | None
    grantor: str
    duties: list[DutyRead]
    accountability: list[str]


class GrantEventRead(msgspec.Struct, frozen=True, kw_only=True):
    day: date
    item_name: str
    right: str
    unit_name: str
    change: str  # 赋予 / 撤销
    basis: str
    instrument: str


class LinkedUnit(msgspec.Struct, frozen=True):
    code: str
    name: str


class PowerListRead(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    unit_code: str
    unit_name: str
    organ_name: str
    administrative: bool
    as_of: date
    edition: int
    powers: list[PowerRead]
    history: list[GrantEventRead]
    parent: LinkedUnit | None = None
    children: list[LinkedUnit] = msgspec.field(default_factory=list)


class LinkedItem(msgspec.Struct, frozen=True):
    code: str
    name: str


class LinkedGrant(msgspec.Struct, frozen=True, kw_only=True):
    unit_code: str
    unit_name: str
    item_name: str
    right: str
    since: date
    revoked: bool


class PolicyRead(msgspec.Struct, frozen=True, kw_only=True):
    """政策法规库 entry: a law, regulation or instrument, and the items and grants it governs."""

    title: str
    kind: str  # 法律法规 / 赋权文件
    items: list[LinkedItem]
    grants: list[LinkedGrant]
