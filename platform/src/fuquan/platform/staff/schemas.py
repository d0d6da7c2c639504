"""API shapes of 人员管理: staff accounts as a security or unit administrator sees and changes them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode

Role = Literal[
    "grid_specialist", "village_agent", "window_clerk", "approver", "supervisor",
    "unit_admin", "tenant_admin", "security_admin", "auditor",
]  # fmt: skip
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,63}$"
Username = Annotated[
    str, msgspec.Meta(pattern=USERNAME_PATTERN, description="用户名：2–64 位字母、数字或 _ . @ -，以字母或数字开头")
]
DisplayName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="姓名（显示名）")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256, description="密码：至少 10 位且不易猜到")]


class CoSigner(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """双人复核: another security administrator of the tenant, present, confirms with their current code."""

    username: Username
    code: Annotated[str, msgspec.Meta(min_length=6, max_length=32, description="复核人的动态验证码（或一个恢复码）")]


CO_SIGNER_DOC = "复核人：涉及管理员岗位（系统、安全、审计）的账号时必填，须为本租户另一位安全保密管理员"


class StaffRead(msgspec.Struct, frozen=True):
    id: int
    username: str
    display_name: str
    unit: str
    unit_name: str
    roles: list[str]
    active: bool
    created_at: datetime
    second_factor: bool  # 已绑定动态验证码


class StaffCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """新增人员: enrolled at ``unit`` (in the caller's subtree) with ``roles`` held there."""

    username: Username
    display_name: DisplayName
    unit: UnitCode
    roles: Annotated[list[Role], msgspec.Meta(min_length=1, max_length=9)]
    password: Password
    co_signer: Annotated[CoSigner | None, msgspec.Meta(description=CO_SIGNER_DOC)] = None

    def __post_init__(self) -> None:
        msgspec.structs.force_setattr(self, "unit", normalise_unit_code(self.unit))  # not a code: 400
        msgspec.structs.force_setattr(self, "display_name", self.display_name.strip() or self.username)


class RoleChange(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """授予或收回一个岗位 (held at the person's own unit)."""

    role: Role
    co_signer: Annotated[CoSigner | None, msgspec.Meta(description=CO_SIGNER_DOC)] = None


class PasswordReset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """重置密码: the new password, told to the person out of band; their logins end."""

    password: Password
    co_signer: Annotated[CoSigner | None, msgspec.Meta(description=CO_SIGNER_DOC)] = None


class FactorReset(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """重置动态验证码: the person enrols again at their next login."""

    co_signer: Annotated[CoSigner | None, msgspec.Meta(description=CO_SIGNER_DOC)] = None
