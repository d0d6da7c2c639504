"""What a tenant's admin does with notifications: the SMS templates (edited, audited) and the outbox's record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import NotFound
from fuquan.platform.notifications.models import SmsTemplate
from fuquan.platform.notifications.repositories import NotificationRepository
from fuquan.platform.notifications.schemas import SmsMessagePage, SmsMessageRead, SmsTemplateRead, SmsTemplateWrite
from fuquan.platform.notifications.services.templates import KINDS, SmsKind, check_text, default_sign_name, render
from fuquan.tenants.repositories import TenantRepository

PERMISSION = "notifications.manage"
_SAMPLES = {
    "item": "就业困难人员认定", "no": "640202001-20261207-0001", "code": "K7QF2M9X", "deadline": "2026年12月14日",
    "result": "准予", "place": "原受理窗口", "status": "已由值班领导受理",
}  # fmt: skip


async def _sign_name(session: AsyncSession, actor: Actor) -> str:
    tenant = await TenantRepository(session).by_id(actor.tenant_id)
    return default_sign_name(tenant.name if tenant else "")


def _read(kind: SmsKind, template: SmsTemplate | None, sign_name: str) -> SmsTemplateRead:
    text = template.text if template else kind.text
    sign = template.sign_name if template else sign_name
    return SmsTemplateRead(
        kind=kind.kind, label=kind.label, params=list(kind.params),
        vendor_template=template.vendor_template if template else kind.vendor_template, sign_name=sign, text=text,
        enabled=template.enabled if template else True, version=template.version if template else 0,
        customised=template is not None, example=render(sign, text, _SAMPLES),
    )  # fmt: skip


async def templates(session: AsyncSession, actor: Actor) -> list[SmsTemplateRead]:
    actor.require(PERMISSION)
    stored = await NotificationRepository(session).templates([actor.tenant_id])
    sign_name = await _sign_name(session, actor)
    return [_read(kind, stored.get((actor.tenant_id, kind.kind)), sign_name) for kind in KINDS.values()]


async def edit_template(
    session: AsyncSession, actor: Actor, kind_name: str, change: SmsTemplateWrite, now: datetime, request_id: str | None
) -> SmsTemplateRead:
    """A tenant's own text for one kind (a new version): only the kind's variables, the platforms' rules kept.
    The text must match what the SMS platform approved under ``vendor_template`` — editing the text here does not
    approve it there."""
    actor.require(PERMISSION)
    kind = KINDS.get(kind_name)
    if kind is None:
        raise NotFound(f"短信模板 {kind_name} 不存在")
    text = change.text.strip()
    check_text(kind, text)
    repository = NotificationRepository(session)
    template = await repository.template(actor.scope, kind.kind)
    if template is None:
        template = SmsTemplate(tenant_id=actor.tenant_id, kind=kind.kind, version=0)
        repository.add_template(template)
    template.text, template.vendor_template, template.sign_name = text, change.vendor_template, change.sign_name
    template.enabled, template.version = change.enabled, template.version + 1
    template.updated_at, template.updated_by = now, actor.username
    await append(session, actor.audit_entry(
        "sms_template.update", resource=f"sms_template:{kind.kind}", request_id=request_id,
        detail={"version": template.version, "vendor_template": change.vendor_template, "enabled": change.enabled},
    ))  # fmt: skip
    await session.flush()
    return _read(kind, template, template.sign_name)


async def messages(session: AsyncSession, actor: Actor, state: str | None, limit: int, offset: int) -> SmsMessagePage:
    """The outbox as the admin sees it: masked numbers, states, the platform's last answer, the text."""
    actor.require(PERMISSION)
    repository = NotificationRepository(session)
    total, rows = await repository.sms_page(actor.scope, state, limit, offset)
    stored = await repository.templates([actor.tenant_id])
    sign_name = await _sign_name(session, actor)
    items = []
    for row in rows:
        kind = KINDS[row.kind]
        template = stored.get((actor.tenant_id, row.kind))
        items.append(SmsMessageRead(
            id=row.id, kind=row.kind, label=kind.label, case_id=row.case_id, phone=row.phone_masked, state=row.state,
            attempts=row.attempts, last_code=row.last_code, created_at=row.created_at, settled_at=row.settled_at,
            text=render(template.sign_name if template else sign_name, template.text if template else kind.text,
                        dict(row.params)),
        ))  # fmt: skip
    return SmsMessagePage(total=total, counts=await repository.sms_counts(actor.scope), items=items)
