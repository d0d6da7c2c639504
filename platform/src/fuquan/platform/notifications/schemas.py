"""What the notification endpoints answer and take."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import Meta


class InboxItemRead(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    title: str
    body: str
    link: str | None
    case_id: int | None
    created_at: datetime
    read_at: datetime | None


class InboxPage(msgspec.Struct, kw_only=True):
    total: int
    unread: int
    items: list[InboxItemRead]


class UnreadRead(msgspec.Struct, kw_only=True):
    unread: int


class ReadCount(msgspec.Struct, kw_only=True):
    marked: int


class SmsTemplateRead(msgspec.Struct, kw_only=True):
    kind: str
    label: str
    params: list[str]
    vendor_template: str
    sign_name: str
    text: str
    enabled: bool
    version: int
    customised: bool  # False: the shipped text, never edited by this tenant
    example: str  # the text as a resident would read it, with sample values


class SmsTemplateWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    text: Annotated[str, Meta(min_length=1, max_length=500)]
    vendor_template: Annotated[str, Meta(pattern=r"^SMS_\d{6,12}$", description="短信平台审核通过的模板编号")]
    sign_name: Annotated[str, Meta(pattern=r"^[\u4e00-\u9fffA-Za-z0-9]{2,12}$", description="短信签名，2–12 个字")]
    enabled: bool = True


class SmsMessageRead(msgspec.Struct, kw_only=True):
    id: int
    kind: str
    label: str
    case_id: int | None
    phone: str  # masked
    state: str
    attempts: int
    last_code: str | None
    created_at: datetime
    settled_at: datetime | None
    text: str  # as sent (or to be sent) with the tenant's template of today


class SmsMessagePage(msgspec.Struct, kw_only=True):
    total: int
    counts: dict[str, int]
    items: list[SmsMessageRead]
