"""Login API shapes."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec


class TokenRequest(msgspec.Struct, frozen=True):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TokenRead(msgspec.Struct, frozen=True):
    access_token: str
    expires_in: int
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth token type, not a secret


class MeRead(msgspec.Struct, frozen=True):
    username: str
    display_name: str
    tenant: str
    unit: str
    roles: list[str]
    permissions: list[str]
