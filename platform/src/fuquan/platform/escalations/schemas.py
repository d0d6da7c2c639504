"""What the escalation endpoints take and answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from fuquan.platform.escalations.state_machine import EscalationAction

Text = Annotated[str, Meta(min_length=1, max_length=1000)]
Note = Annotated[str, Meta(min_length=1, max_length=500)]
Channel = Literal["in_person", "hotline", "website"]
CHANNEL_NAMES = {"in_person": "现场反映", "hotline": "热线电话", "website": "网站留言", "referral": "办件转来"}


class Resident(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=32)]
    phone: Annotated[str, Meta(max_length=20)] | None = None
    id_number: Annotated[str, Meta(max_length=18)] | None = None


class EscalationCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    channel: Channel
    resident: Resident
    summary: Text
    recording_ref: Annotated[str, Meta(min_length=1, max_length=64)] | None = None  # required for the hotline


class Referral(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """“这件事办不成”: a case carried to the escalation desk of its county."""

    case_id: Annotated[int, Meta(ge=1, le=2**62)]
    summary: Text


class StepRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: EscalationAction
    version: Annotated[int, Meta(ge=1)]
    mode: Literal["guidance", "window_failure", "bottleneck"] | None = None  # classify
    responsible_unit: Annotated[str, Meta(pattern=r"^\d{2,15}$")] | None = None  # classify, window_failure
    responsible_staff: Annotated[str, Meta(min_length=1, max_length=64)] | None = None  # a username
    note: Text | None = None  # the notice, answer, decision or reason
    window_unit: Annotated[str, Meta(pattern=r"^\d{2,15}$")] | None = None  # hand_off: the window to go to
    deferral_approved: bool = False  # hand_off: 容缺 by the duty leader's approval
    meeting_ref: Annotated[str, Meta(min_length=1, max_length=64)] | None = None  # decide at tier 5
    confirmation: Literal["confirmed", "unreachable", "declined"] | None = None  # close


class EventRead(msgspec.Struct, kw_only=True):
    seq: int
    at: datetime
    actor: str
    action: str
    action_name: str
    from_status: str | None
    to_status: str
    tier: int
    note: str | None


class EscalationRead(msgspec.Struct, kw_only=True):
    id: int
    reg_no: str
    query_code: str | None  # only to the desk that registered it, at registration
    unit: str
    channel: str
    recording_ref: str | None
    case_id: int | None
    resident_name: str  # masked
    resident_phone: str | None  # masked
    summary: str
    mode: str | None
    tier: int
    tier_due: date | None
    status: str
    status_name: str
    owner: str
    responsible_unit: str | None
    responsible_staff: str | None
    outcome: str | None
    confirmation: str | None
    created_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    allowed_actions: list[str]


class EscalationPage(msgspec.Struct, kw_only=True):
    total: int
    items: list[EscalationRead]


class RosterDay(msgspec.Struct, kw_only=True):
    day: date
    staff: str  # username
    name: str


class RosterWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    staff: Annotated[str, Meta(min_length=1, max_length=64)]  # the duty leader's username


class PublicEscalation(msgspec.Struct, kw_only=True):
    """What the resident sees with the registration number and query code."""

    reg_no: str
    status_name: str
    tier_name: str
    registered_on: date
    steps: list[tuple[datetime, str]]  # when, what (no staff names)
    outcome: str | None
