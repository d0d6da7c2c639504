"""Notification endpoints: every staff member's inbox (/api/v1/inbox) and the admin's SMS templates and outbox
(/api/v1/notifications/sms…)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.notifications.schemas import (
    InboxPage,
    ReadCount,
    SmsMessagePage,
    SmsTemplateRead,
    SmsTemplateWrite,
    UnreadRead,
)
from fuquan.platform.notifications.services import admin, inbox

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]
ItemId = Annotated[int, QueryParameter(ge=1, le=2**62)]
SmsState = Literal["pending", "sent", "failed", "skipped"]


class InboxController(Controller):
    path = "/api/v1/inbox"
    tags = ["notifications 通知"]

    @get("/", summary="我的站内消息（最新在前）", opt={"permission": "self"})
    async def list_items(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        unread_only: FromQuery[bool] = False, limit: FromQuery[Limit] = 50, offset: FromQuery[Offset] = 0,
    ) -> InboxPage:  # fmt: skip
        return await inbox.inbox(db_session, actor, unread_only=unread_only, limit=limit, offset=offset)

    @get("/unread", summary="未读消息数（页面顶栏）", opt={"permission": "self"})
    async def unread(self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]) -> UnreadRead:
        return UnreadRead(unread=await inbox.unread(db_session, actor))

    @post("/read", summary="全部标为已读", status_code=200, opt={"permission": "self"})
    async def read_all(self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]) -> ReadCount:
        return ReadCount(marked=await inbox.mark_read(db_session, actor, None, utcnow()))

    @post("/{item_id:int}/read", summary="标为已读", status_code=200, opt={"permission": "self"})
    async def read_one(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], item_id: FromPath[ItemId]
    ) -> ReadCount:
        return ReadCount(marked=await inbox.mark_read(db_session, actor, item_id, utcnow()))


class SmsAdminController(Controller):
    path = "/api/v1/notifications/sms"
    tags = ["notifications 通知"]

    @get("/templates", summary="短信模板（各类通知的文字与平台模板编号）", opt={"permission": admin.PERMISSION})
    async def templates(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[SmsTemplateRead]:
        return await admin.templates(db_session, actor)

    @put("/templates/{kind:str}", summary="修改短信模板（新版本，留痕）", opt={"permission": admin.PERMISSION})
    async def edit_template(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], kind: FromPath[str], data: JSONBody[SmsTemplateWrite],
    ) -> SmsTemplateRead:  # fmt: skip
        return await admin.edit_template(db_session, actor, kind, data, utcnow(), request_id_of(request))

    @get("/messages", summary="短信发送记录（号码脱敏）", opt={"permission": admin.PERMISSION})
    async def messages(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[SmsState | None] = None, limit: FromQuery[Limit] = 50, offset: FromQuery[Offset] = 0,
    ) -> SmsMessagePage:  # fmt: skip
        return await admin.messages(db_session, actor, status, limit, offset)
