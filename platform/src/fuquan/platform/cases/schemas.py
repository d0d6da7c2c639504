"""Case API shapes (JSON, snake_case)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from fuquan.platform.cases.state_machine import Action
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

Signal = Literal["normal", "yellow", "red"]
Clock = Literal["not_started", "running", "stopped", "finished"]
MaterialState = Literal["satisfied_by_shared_data", "uploaded", "pledged", "deferred", "missing"]


class ApplicantWrite(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    phone: Annotated[str, msgspec.Meta(max_length=20)] | None = None


class PersonWrite(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """关系人: a person the case is about besides the applicant (e.g. the deceased insured)."""

    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class CaseCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    unit: UnitCode  # the 12-digit statistical form is read as the unit's own code
    applicant: ApplicantWrite
    # 申请表: only the fields the item declares (GET /api/v1/items/{code} → fields), checked against them
    form: Annotated[dict[str, Any], msgspec.Meta(max_length=64)] = msgspec.field(default_factory=dict)
    related_person: PersonWrite | None = None
    enterprise_credit_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None  # 统一社会信用代码

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "unit", normalise_unit_code(self.unit))


class TransitionRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    action: Action
    version: Annotated[int, msgspec.Meta(ge=1)]
    reason: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class MaterialRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A pledge (告知承诺) or a deferral (容缺) in place of the material itself."""

    pledge: bool | None = None
    defer_until: date | None = None


class ExtensionRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """延长办理期限 (行政许可法 Art. 42): the deciding organ's head extends the case's time once, by at most ten
    working days, and the reason is told to the applicant."""

    days: Annotated[int, msgspec.Meta(ge=1, le=10, description="延长的工作日数（1–10）")]
    reason: Annotated[str, msgspec.Meta(min_length=4, max_length=500)]
    version: Annotated[int, msgspec.Meta(ge=1)]


class RevocationRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """撤销准予决定 (行政许可法 Art. 69, or reversed on 行政复议/诉讼): by the deciding organ's head, with the reason
    and its instrument; the e-certificate is revoked with it."""

    reason: Annotated[str, msgspec.Meta(min_length=4, max_length=500)]
    version: Annotated[int, msgspec.Meta(ge=1)]


class MaterialRead(msgspec.Struct, frozen=True, kw_only=True):
    index: int
    name: str
    required: bool
    state: MaterialState
    source: str | None
    pledge_allowed: bool
    deferral_allowed: bool
    note: str | None = None
    defer_until: date | None = None
    file: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None


class ApplicantRead(msgspec.Struct, frozen=True):
    name: str
    id_number: str
    phone: str | None


class DeadlineRead(msgspec.Struct, frozen=True, kw_only=True):
    promised_days: int
    accepted_on: date | None
    deadline: date | None
    working_days_used: int | None
    working_days_left: int | None
    signal: Signal
    clock: Clock


class BlockedAction(msgspec.Struct, frozen=True, kw_only=True):
    """A step the case's status allows but a rule refuses now, with the reason the clerk would be given."""

    action: str
    rule: str
    reason: str


class UnavailableSource(msgspec.Struct, frozen=True, kw_only=True):
    """A partner source that could not answer for this case: which, why, and the materials affected."""

    source: str
    label: str
    reason: str
    failure: str | None
    materials: list[int]


class EvidenceRead(msgspec.Struct, frozen=True, kw_only=True):
    """One partner answer kept for the case (共享数据核验凭证)."""

    material_index: int
    purpose: str
    source: str
    service: str | None
    evidence: str
    subject: str
    status: str
    reason: str
    facts: dict[str, Any]
    asked_at: datetime
    fetched_at: datetime | None
    request_id: str | None
    source_request_id: str | None
    request_sm3: str | None
    response_sm3: str | None
    attempts: int
    elapsed_ms: int
    cached: bool


class CaseRead(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    receipt_no: str
    query_code: str
    item: str
    item_name: str
    catalog_edition: int
    status: str
    version: int
    unit: str
    routed_to: str | None
    applicant: ApplicantRead
    form: dict[str, Any]  # 申请表: personal values (个人信息) masked, like the applicant's
    materials: list[MaterialRead]
    related_person: ApplicantRead | None
    enterprise_credit_code: str | None
    unavailable_sources: list[UnavailableSource]
    deadline: date | None
    # 受理期限 (行政许可法 Art. 32): a submitted case not answered by this day counts as accepted from its submission
    accept_by: date | None
    timing: DeadlineRead
    allowed_actions: list[str]  # what the status allows and no rule on the case itself blocks now
    blocked_actions: list[BlockedAction]  # what the status allows but such a rule refuses, and why
    created_at: datetime
    accepted_at: datetime | None
    decided_at: datetime | None
    issued_at: datetime | None


class EventRead(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    at: datetime
    actor: str
    role: str
    unit: str
    action: str
    from_status: str | None
    to_status: str
    reason: str | None
    detail: dict[str, Any]


class CasePage(msgspec.Struct, frozen=True):
    items: list[CaseRead]
    total: int
    limit: int
    offset: int


class RatingWrite(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    code: Annotated[str, msgspec.Meta(min_length=4, max_length=12)]
    level: Annotated[int, msgspec.Meta(ge=1, le=5)]
    comment: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class ComplaintWrite(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """投诉: what went wrong with the handling of the case, in the resident's words."""

    code: Annotated[str, msgspec.Meta(min_length=4, max_length=12)]
    text: Annotated[str, msgspec.Meta(min_length=5, max_length=500)]


class ComplaintRead(msgspec.Struct, frozen=True, kw_only=True):
    complaint: int  # the complaint's number on the case
    callback_due: date  # the handling unit calls back by then


class PublicProgress(msgspec.Struct, frozen=True, kw_only=True):
    receipt_no: str
    item: str
    status: str
    status_name: str
    unit: str
    deadline: date | None
    applicant: str
    rated: bool
