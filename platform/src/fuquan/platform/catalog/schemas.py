"""Catalogue shapes: the YAML source file and the API."""

from __future__ import annotations

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


class ItemSpec(msgspec.Struct, frozen=True, kw_only=True):
    """One item as the catalogue file (and an edit) states it."""

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
    edition: int
