"""Login API shapes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Password = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenRequest(msgspec.Struct, frozen=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Password
    code: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1, max_length=32,
                description="管理员岗位必填：身份验证器 App 上的 6 位动态验证码，或一个未用过的恢复码",
            ),
        ]
        | None
    ) = None  # fmt: skip


class TokenRead(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret
    recovery_codes: (
        Annotated[list[str], msgspec.Meta(description="绑定动态验证码后首次登录时给出的一次性恢复码，只出现这一次")]
        | None
    ) = None


class EnrolmentRequest(msgspec.Struct, frozen=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Password


class EnrolmentRead(msgspec.Struct, frozen=True):
    """A new TOTP secret to add to an authenticator app; enrolment completes with the first code proved."""

    secret: Annotated[str, msgspec.Meta(description="Base32 密钥（可手工输入身份验证器 App）")]
    otpauth_uri: Annotated[str, msgspec.Meta(description="otpauth:// 地址（二维码内容）")]
    qr_svg: Annotated[str, msgspec.Meta(description="二维码（SVG）")]
    digits: int
    period: int
    issuer: str


class PasswordChange(msgspec.Struct, frozen=True):
    current_password: Password
    new_password: Password


class MeRead(msgspec.Struct, frozen=True):
    username: str
    display_name: str
    tenant: str
    unit: str
    roles: list[str]
    permissions: list[str]
