"""《“办不成事”反映窗口受理问题转办单》: what the desk hands the resident at registration, as a PDF — the registration
number and query code, the duty leader who owns it (首问负责) and the day tier 1 ends; the resident masked."""

from __future__ import annotations

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.documents.render import render_pdf
from fuquan.platform.documents.schemas import NoticeData
from fuquan.platform.escalations.repositories import EscalationRepository
from fuquan.platform.escalations.schemas import CHANNEL_NAMES
from fuquan.tenants.repositories import UnitRepository


async def transfer_sheet(
    session: AsyncSession, actor: Actor, calendar: WorkingCalendar, escalation_id: int, base_url: str
) -> tuple[str, bytes]:
    """(file name, PDF) of an escalation the actor can see."""
    actor.require("escalations.read")
    repository = EscalationRepository(session)
    escalation = await repository.get(actor.scope, actor.staff_id, escalation_id)
    units = UnitRepository(session)
    names = await units.names(actor.scope, [escalation.unit_code])
    organ = (await units.organs(actor.scope, [escalation.unit_code]))[escalation.unit_code]
    owner = (await repository.staff_names([escalation.owner_id])).get(escalation.owner_id, "")
    registered = local_date(escalation.created_at, actor.scope.timezone)
    data = NoticeData(
        kind="escalation_transfer", organ_name=organ.name,
        unit_name=names.get(escalation.unit_code, escalation.unit_code),
        handling_note=names.get(escalation.unit_code, escalation.unit_code) + "办不成事反映窗口",
        item_code="", item_name=CHANNEL_NAMES.get(escalation.channel, escalation.channel),
        receipt_no=escalation.reg_no, query_code=escalation.query_code,
        applicant_name_masked=escalation.name_masked, applicant_id_masked=escalation.id_masked or "",
        issued_at=utcnow(), staff_name=owner, accepted_on=registered,
        deadline=calendar.add_working_days(registered, 1), reasons=[escalation.summary],
        progress_url=f"{base_url.rstrip('/')}/progress?receipt={escalation.reg_no}",
    )  # fmt: skip
    pdf = await anyio.to_thread.run_sync(render_pdf, data)
    return f"{escalation.reg_no}-转办单.pdf", pdf
