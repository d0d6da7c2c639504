"""What each reader sees of an escalation: the desk and handlers (masked resident, the steps they may take), and the
resident on the progress page (registration number and query code; no staff names)."""

from __future__ import annotations

import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.escalations.repositories import EscalationRepository
from fuquan.platform.escalations.schemas import EscalationPage, EscalationRead, EventRead, PublicEscalation
from fuquan.platform.escalations.state_machine import (
    ACTION_NAMES,
    STATUS_NAMES,
    STEPS,
    TIER_NAMES,
    EscalationAction,
    EscalationStatus,
    next_tier,
)
from fuquan.tenants.repositories import TenantRepository


def allowed(escalation: Escalation) -> list[str]:
    """The steps its state and mode allow (who may take each is checked when it is taken)."""
    return [
        action.value for action, step in STEPS.items()
        if escalation.status in step.sources and (step.modes is None or escalation.mode in step.modes)
        and not (action == EscalationAction.ESCALATE and next_tier(escalation.tier) is None)
    ]  # fmt: skip


async def _names(session: AsyncSession, escalations: list[Escalation]) -> dict[int, str]:
    """The owners' and responsible staff's names of ``escalations``, in one query."""
    ids = {i for e in escalations for i in (e.owner_id, e.responsible_staff_id) if i is not None}
    return await EscalationRepository(session).staff_names(sorted(ids))


async def read(session: AsyncSession, escalation: Escalation, *, with_code: bool = False) -> EscalationRead:
    return _read(escalation, await _names(session, [escalation]), with_code=with_code)


def _read(escalation: Escalation, names: dict[int, str], *, with_code: bool = False) -> EscalationRead:
    return EscalationRead(
        id=escalation.id, reg_no=escalation.reg_no, query_code=escalation.query_code if with_code else None,
        unit=escalation.unit_code, channel=escalation.channel, recording_ref=escalation.recording_ref,
        case_id=escalation.case_id, resident_name=escalation.name_masked, resident_phone=escalation.phone_masked,
        summary=escalation.summary, mode=escalation.mode, tier=escalation.tier, tier_due=escalation.tier_due,
        status=escalation.status, status_name=STATUS_NAMES[EscalationStatus(escalation.status)],
        owner=names.get(escalation.owner_id, ""), responsible_unit=escalation.responsible_unit,
        responsible_staff=names.get(escalation.responsible_staff_id) if escalation.responsible_staff_id else None,
        outcome=escalation.outcome, confirmation=escalation.confirmation, created_at=escalation.created_at,
        resolved_at=escalation.resolved_at, closed_at=escalation.closed_at, version=escalation.version,
        allowed_actions=allowed(escalation),
    )  # fmt: skip


async def one(session: AsyncSession, actor: Actor, escalation_id: int) -> EscalationRead:
    actor.require("escalations.read")
    return await read(session, await EscalationRepository(session).get(actor.scope, actor.staff_id, escalation_id))


async def page(session: AsyncSession, actor: Actor, status: str | None, limit: int, offset: int) -> EscalationPage:
    actor.require("escalations.read")
    total, rows = await EscalationRepository(session).page(actor.scope, actor.staff_id, status, limit, offset)
    names = await _names(session, rows)
    return EscalationPage(total=total, items=[_read(row, names) for row in rows])


async def trace(session: AsyncSession, actor: Actor, escalation_id: int) -> list[EventRead]:
    actor.require("escalations.read")
    repository = EscalationRepository(session)
    escalation = await repository.get(actor.scope, actor.staff_id, escalation_id)
    return [
        EventRead(
            seq=e.seq,
            at=e.at,
            actor=e.actor_name,
            action=e.action,
            action_name=ACTION_NAMES.get(EscalationAction(e.action), e.action),
            from_status=e.from_status,
            to_status=e.to_status,
            tier=e.tier,
            note=e.note,
        )
        for e in await repository.trace(escalation.id)
    ]


async def public(session: AsyncSession, reg_no: str, code: str) -> PublicEscalation:
    """The resident's view: a wrong number and a wrong code read alike (no existence oracle)."""
    repository = EscalationRepository(session)
    escalation = await repository.find_by_reg_no(reg_no)
    if escalation is None or not secrets.compare_digest(escalation.query_code, code.strip().upper()):
        raise NotFound("登记号或查询码不正确")
    tenant = await TenantRepository(session).by_id(escalation.tenant_id)
    tz = tenant.timezone if tenant else "Asia/Shanghai"
    steps = [
        (e.at, ACTION_NAMES.get(EscalationAction(e.action), e.action)) for e in await repository.trace(escalation.id)
    ]
    return PublicEscalation(
        reg_no=escalation.reg_no, status_name=STATUS_NAMES[EscalationStatus(escalation.status)],
        tier_name=TIER_NAMES[escalation.tier], registered_on=local_date(escalation.created_at, tz), steps=steps,
        outcome=escalation.outcome if escalation.status in ("resolved", "closed") else None,
    )  # fmt: skip
