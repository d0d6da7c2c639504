"""Catalogue shapes: the YAML source file and the API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

Category = Literal["employment", "social_insurance", "labor_relations", "social_security_card"]
Source = Literal["public_security", "civil_affairs", "market_regulation", "disabled_persons", "veterans", "hrss"]
Level = msgspec.Meta(ge=1, le=6)


Subject = Literal["applicant", "related_person", "enterprise"]
Produces = Literal["employment_registration", "unemployment_registration", "employment_difficulty"]


class SharedSource(msgspec.Struct, frozen=True, omit_defaults=True):
    """The partner source that can supply a material, and whose facts it is about: the applicant,
    the related person (关系人, e.g. the deceased insured) or the enterprise named on the case."""

    source: Source
    evidence: str
    subject: Subject = "applicant"


class Material(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    required: bool
    shared: SharedSource | None = None
    pledge: bool = False
    deferrable: bool = False


FieldType = Literal["text", "long_text", "date", "number", "money", "choice", "phone", "id_number", "bank_account"]
PERSONAL_TYPES = frozenset({"phone", "id_number", "bank_account"})  # always 个人信息, whatever the declaration says
FieldName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]


class FormField(msgspec.Struct, frozen=True, omit_defaults=True, forbid_unknown_fields=True):
    """One field of the item's application form (申请表): what ``form`` may hold, and how it is kept.

    ``personal`` (个人信息) values are stored encrypted like the applicant's and shown masked; the others are
    stored as they are, so that statistics and the desk can read them without revealing anyone."""

    name: FieldName
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    type: FieldType
    required: bool = False
    max_length: Annotated[int, msgspec.Meta(ge=1, le=2000)] | None = None  # text and long_text
    options: list[Annotated[str, msgspec.Meta(min_length=1, max_length=32)]] = msgspec.field(default_factory=list)
    personal: bool = False


SubjectNature = Literal["statutory_organ", "authorised_organisation", "entrusted_organisation"]
"""实施主体性质 (GB/T 39554): 法定机关, 法律法规授权的组织, 受委托组织."""
PowerSource = Literal["own", "devolved", "authorised", "entrusted"]
"""权力来源 (GB/T 39554): 法定本级行使, 上级下放, 上级授权, 同级或上级委托."""
SUBJECT_NATURE_NAMES: dict[str, str] = {
    "statutory_organ": "法定机关",
    "authorised_organisation": "法律法规授权的组织",
    "entrusted_organisation": "受委托组织",
}
POWER_SOURCE_NAMES: dict[str, str] = {"own": "法定本级行使", "devolved": "上级下放", "authorised": "上级授权",
                                      "entrusted": "委托"}  # fmt: skip
STANDARD_FLOW = ("申请", "受理", "审查", "决定", "送达")


class Fee(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """收费项目: name, the amount as charged (e.g. "20元/本") and the instrument that sets it."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    amount: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    basis: Annotated[str, msgspec.Meta(max_length=256)] = ""


class ItemSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One item as the catalogue file (and an edit) states it — the elements of GB/T 39554 that a service point
    and the public need: 事项类型, 办件类型, 法定/承诺时限, 实施主体性质, 权力来源, 设定依据, 受理条件, 材料,
    收费, 流程."""

    code: str
    name: str
    name_en: str = ""
    category: Category
    item_type: Literal["05", "07", "10", "20"]
    handling: Literal["immediate", "promised"]
    statutory_days: int = msgspec.field(default=0)
    promised_days: int = msgspec.field(default=0)
    accept_floor: int
    decide_floor: int
    separation: bool
    legal_basis: str = ""
    id_only: bool = False
    materials: list[Material] = msgspec.field(default_factory=list)
    produces: Produces | None = None  # the 人社 record an approved, issued case creates
    fields: list[FormField] = msgspec.field(default_factory=list)  # the application form's declared fields
    subject_nature: SubjectNature = "statutory_organ"
    power_source: PowerSource = "own"
    conditions: list[Annotated[str, msgspec.Meta(min_length=1, max_length=500)]] = msgspec.field(default_factory=list)
    fees: list[Fee] = msgspec.field(default_factory=list)  # none: 不收费
    flow: list[Annotated[str, msgspec.Meta(min_length=1, max_length=64)]] = msgspec.field(
        default_factory=lambda: list(STANDARD_FLOW)
    )
    result_name: Annotated[str, msgspec.Meta(max_length=64)] = ""  # 办理结果名称, e.g. 《就业创业证》


class CatalogFile(msgspec.Struct, frozen=True):
    items: list[ItemSpec]


class ItemRead(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    name_en: str
    category: str
    item_type: str
    handling: str
    statutory_days: int
    promised_days: int
    accept_floor: int
    decide_floor: int
    separation: bool
    legal_basis: str
    id_only: bool
    materials: list[Material]
    produces: str | None
    fields: list[FormField]
    subject_nature: str
    power_source: str
    conditions: list[str]
    fees: list[Fee]
    flow: list[str]
    result_name: str
    edition: int


class ItemRevision(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An edit of one item (or a new one): a new edition holding every item, in force from ``effective_from``.
    ``base_edition`` is the newest edition the editor saw: if another has been published since, 409."""

    item: ItemSpec
    effective_from: date
    base_edition: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    note: Annotated[str, msgspec.Meta(min_length=2, max_length=500)]


class EditionRead(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    effective_from: date
    state: Literal["in_force", "scheduled", "superseded"]
    created_at: datetime
    created_by: str | None
    note: str
    items: int


class FieldChange(msgspec.Struct, frozen=True):
    """One element of an item that differs: its Chinese name, and the value before and after, in words."""

    element: str
    before: str
    after: str


class ItemChange(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    change: Literal["added", "removed", "changed"]
    fields: list[FieldChange] = msgspec.field(default_factory=list)


class EditionDiff(msgspec.Struct, frozen=True, kw_only=True):
    """What changed from edition ``before`` to edition ``after``."""

    before: int
    after: int
    items: list[ItemChange]
