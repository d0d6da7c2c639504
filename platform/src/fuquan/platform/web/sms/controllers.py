"""Web pages: 短信通知 — the system administrator's SMS templates (the text of each kind of notice, as approved by
the SMS platform) and the record of what was sent to residents (numbers masked).

Edits go through ``notifications.services.admin`` like the API's (audited in their transaction); a text that
breaks the platforms' rules shows the form again with the reason (422)."""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import FuquanError, ValidationFailed
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_time, utcnow
from fuquan.platform.notifications.schemas import SmsTemplateWrite
from fuquan.platform.notifications.services import admin
from fuquan.platform.web.pages import PageController, page, render

MANAGE: Final = page(admin.PERMISSION)
STATES: Final = {"pending": "待发送", "sent": "已发送", "failed": "发送失败", "skipped": "未发送（模板停用）"}


class TemplateForm(msgspec.Struct, kw_only=True):
    text: str = ""
    vendor_template: str = ""
    sign_name: str = ""
    enabled: str = ""


async def _page(session: AsyncSession, actor: Actor, *, editing: str | None = None, problem: FuquanError | None = None,
                form: TemplateForm | None = None, done: bool = False, status_code: int = 200) -> Template:  # fmt: skip
    templates = await admin.templates(session, actor)
    outbox = await admin.messages(session, actor, None, 50, 0)
    sent = [{"label": m.label, "phone": m.phone, "state": STATES.get(m.state, m.state), "code": m.last_code or "",
             "attempts": m.attempts, "created": local_time(m.created_at, actor.scope.timezone), "text": m.text}
            for m in outbox.items]  # fmt: skip
    counts = {STATES.get(state, state): count for state, count in outbox.counts.items()}
    return render("sms/index.html", actor, status_code=status_code, templates=templates, sent=sent, counts=counts,
                  editing=editing, problem=problem, form=form, done=done)  # fmt: skip


class SmsPagesController(PageController):
    path = "/notifications/sms"

    @get("/", opt=MANAGE)
    async def index(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], done: FromQuery[bool] = False
    ) -> Template:
        return await _page(db_session, actor, done=done)

    @post("/templates/{kind:str}", opt=MANAGE, status_code=303)
    async def edit(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], kind: FromPath[Annotated[str, msgspec.Meta(max_length=32)]],
        data: Annotated[TemplateForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Redirect | Template:  # fmt: skip
        try:
            change = msgspec.convert({"text": data.text, "vendor_template": data.vendor_template.strip(),
                                      "sign_name": data.sign_name.strip(), "enabled": data.enabled == "on"},
                                     SmsTemplateWrite)  # fmt: skip
        except msgspec.ValidationError:
            problem = ValidationFailed(
                "模板编号应为短信平台审核通过的编号（如 SMS_123456），签名为 2–12 个汉字、字母或数字"
            )
            return await _page(db_session, actor, editing=kind, problem=problem, form=data, status_code=422)
        try:
            await admin.edit_template(db_session, actor, kind, change, utcnow(), request_id_of(request))
        except FuquanError as error:
            return await _page(db_session, actor, editing=kind, problem=error, form=data, status_code=error.status)
        return Redirect(f"{self.path}?done=true", status_code=303)
