"""API shapes of organs and service points (机关与服务点)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from fuquan.platform.core.errors import ValidationFailed
from fuquan.tenants.organs import OrganKind

ServicePointKind = Literal["center", "station", "bank", "post", "other"]
Text = Annotated[str, msgspec.Meta(min_length=2, max_length=128)]
PHONE_PATTERN = r"^[0-9][0-9\- ]{4,30}$"


class OrganRead(msgspec.Struct, frozen=True, kw_only=True):
    """A unit as the body it is in law: the name it signs notices with, its kind, whether it is an administrative
    organ (行政机关: may decide in its own name), and whether the name is the default or set by the tenant."""

    unit_code: str
    unit_name: str
    level: int
    organ_name: str
    organ_kind: OrganKind
    kind_name: str
    administrative: bool
    default_name: str
    default_kind: OrganKind
    customised: bool


class OrganWrite(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Set the organ's name and kind; ``null`` for either goes back to the default of the unit's level and name."""

    organ_name: Text | None = None
    organ_kind: OrganKind | None = None


class ServicePointWrite(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A 便民服务中心/站, or an agent outlet (银行、邮政网点) that serves in the unit's name."""

    kind: ServicePointKind
    name: Text
    address: Annotated[str, msgspec.Meta(min_length=4, max_length=256)]
    hours: Annotated[str, msgspec.Meta(min_length=2, max_length=128, examples=["周一至周五 9:00-12:00 14:00-17:30"])]
    phone: Annotated[str, msgspec.Meta(pattern=PHONE_PATTERN, examples=["0952-2011234"])] | None = None
    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None

    def __post_init__(self) -> None:
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationFailed("地图坐标须同时填写纬度和经度，或都不填", rule="coordinates")
        for name in ("name", "address", "hours"):
            if not getattr(self, name).strip():
                raise ValidationFailed("名称、地址和办公时间不能只有空格", rule="blank")


class ServicePointRead(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    unit_code: str
    unit_name: str
    kind: ServicePointKind
    kind_name: str
    agent: bool  # not the unit's own premises: an outlet acting in its name (代办点)
    name: str
    address: str
    hours: str
    phone: str | None
    latitude: float | None
    longitude: float | None
    opened_at: datetime
    closed_at: datetime | None
