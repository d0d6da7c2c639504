"""Grant and authority API shapes (JSON, snake_case)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

Action = Literal["accept", "decide"]
Scope = Literal["unit", "subtree"]
Basis = Literal["statutory", "devolved", "authorised", "entrusted"]
GrantStatus = Literal["active", "scheduled", "expired", "revoked"]


class GrantCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    item: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    action: Action
    unit: UnitCode  # the 12-digit statistical form is read as the unit's own code
    scope: Scope
    valid_from: date
    instrument: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    basis: Basis = "devolved"
    valid_until: date | None = None
    redelegable: bool = False

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "unit", normalise_unit_code(self.unit))


class GrantBatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Several grants by the caller's unit, written all together or not at all."""

    grants: Annotated[list[GrantCreate], msgspec.Meta(min_length=1, max_length=20_000)]


class GrantRevoke(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=2, max_length=512)]


class GrantRead(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    parent_id: int | None
    item: str
    action: str
    unit: str
    scope: str
    valid_from: date
    valid_until: date | None
    basis: str
    instrument: str
    redelegable: bool
    grantor_unit: str
    granted_by: str
    catalog_edition: int
    created_at: datetime
    status: GrantStatus
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    revoked_via: int | None = None


class RevocationRead(msgspec.Struct, frozen=True):
    revoked: list[int]
    revoked_at: datetime


class CheckRead(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    unit: str
    item: str
    action: str
    at: datetime
    chain: list[int]
    reason: str
    rule: str | None = None


class MatrixUnit(msgspec.Struct, frozen=True):
    code: str
    name: str
    level: int
    parent_code: str | None
    allowed: dict[str, list[str]]  # item code -> actions


class MatrixRead(msgspec.Struct, frozen=True):
    unit: str
    depth: int
    at: datetime
    items: list[str]
    units: list[MatrixUnit]
