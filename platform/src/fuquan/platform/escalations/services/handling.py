"""The steps of an escalation (``state_machine``), each checked for who may take it:

- the owner (the duty leader who took it, 首问负责) classifies it, hands it off, escalates, reopens and closes it;
- a 窗口失职 problem is answered on the spot by a head of the window's unit (单位负责人), which is counted against
  that unit and, when named, the staff member (倒逼);
- a decision is the owner's in tier 1, the desk unit's leadership's in tier 3, and in tier 5 the leadership
  meeting's, recorded with its minutes' reference (会议纪要);
- 销号 needs the outcome and the resident's confirmation, or the documented reason why there is none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.escalations.repositories import EscalationRepository
from fuquan.platform.escalations.schemas import StepRequest
from fuquan.platform.escalations.services.record import RESIDENT_UPDATES, inbox_rows, record, resident_sms
from fuquan.platform.escalations.state_machine import (
    ACTION_NAMES,
    TIER_NAMES,
    EscalationAction,
    EscalationStatus,
    Mode,
    next_tier,
    step_for,
)
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import scope_for

A = EscalationAction
OWNER_ONLY = frozenset({A.CLASSIFY, A.HAND_OFF, A.ESCALATE, A.REOPEN, A.CLOSE})
NEEDS_NOTE = {A.HAND_OFF: "一次性告知的内容", A.ANSWER: "当场答复的内容", A.DECIDE: "书面处理决定",
              A.REOPEN: "重新办理的原因"}  # fmt: skip


async def take_step(
    session: AsyncSession, actor: Actor, cipher: TenantCipher, calendar: WorkingCalendar, escalation_id: int,
    request: StepRequest, now: datetime, request_id: str | None,
) -> Escalation:  # fmt: skip
    actor.require("escalations.handle")
    repository = EscalationRepository(session)
    escalation = await repository.get(actor.scope, actor.staff_id, escalation_id, for_update=True)
    if request.version != escalation.version:
        raise Conflict(f"该问题已被他人更新（当前版本 {escalation.version}），请刷新后重试", rule="stale_version",
                       current_version=escalation.version)  # fmt: skip
    action = request.action
    if action == A.REGISTER:
        raise ValidationFailed("登记请使用登记接口", rule="escalation_action")
    step = step_for(escalation.status, action, escalation.mode)
    await _may(repository, actor, escalation, action, request)
    note = (request.note or "").strip() or None
    if action in NEEDS_NOTE and note is None:
        raise ValidationFailed(f"{ACTION_NAMES[action]}须填写{NEEDS_NOTE[action]}", rule="note_required")
    source, today = escalation.status, local_date(now, actor.scope.timezone)
    detail, update, told = await _effects(session, actor, calendar, escalation, request, note, today)
    if step.target is not None:
        escalation.status = step.target.value
    if escalation.status == EscalationStatus.RESOLVED and source != EscalationStatus.RESOLVED:
        escalation.resolved_at, escalation.tier_due, update = now, None, RESIDENT_UPDATES["resolve"]
    if escalation.status == EscalationStatus.CLOSED:
        escalation.closed_at = now
    escalation.trace_length += 1
    rows = [*resident_sms(cipher, actor.scope, escalation, update, now)] if update else []
    if told:
        rows += inbox_rows(escalation, told, f"办不成事反映 {escalation.reg_no}：{ACTION_NAMES[action]}",
                           note or escalation.summary[:200], now)  # fmt: skip
    await record(actor, session, escalation, action.value, source, escalation.status, note, detail, now, request_id,
                 rows)  # fmt: skip
    await session.flush()  # the version check: a concurrent step raises StaleDataError (409)
    return escalation


async def _may(repository: EscalationRepository, actor: Actor, escalation: Escalation, action: EscalationAction,
               request: StepRequest) -> None:  # fmt: skip
    scope, staff = actor.scope, StaffRepository(repository.session)
    if action in OWNER_ONLY and actor.staff_id != escalation.owner_id:
        raise PermissionDenied("首问负责：只有负责该问题的值班领导可以办理这一步", rule="escalation_owner")
    if action == A.ANSWER and not (
        escalation.responsible_unit
        and actor.staff_id in await staff.holding(scope, "unit_head", escalation.responsible_unit)
    ):
        raise PermissionDenied("窗口失职类问题须由责任单位负责人当场答复", rule="escalation_responsible")
    if action == A.DECIDE:
        if escalation.tier == 1 and actor.staff_id != escalation.owner_id:
            raise PermissionDenied("一级（1个工作日）由负责的值班领导作出处理决定", rule="escalation_owner")
        if escalation.tier > 1 and actor.staff_id not in await staff.holding(scope, "unit_head", escalation.unit_code):
            raise PermissionDenied(f"{TIER_NAMES[escalation.tier]}的处理决定由 {escalation.unit_code} 的领导作出",
                                   rule="escalation_leadership")  # fmt: skip
        if escalation.tier == 5 and not request.meeting_ref:
            raise ValidationFailed("局领导班子会议的决定须填写会议纪要编号", rule="meeting_ref")


async def _effects(
    session: AsyncSession, actor: Actor, calendar: WorkingCalendar, escalation: Escalation, request: StepRequest,
    note: str | None, today: Any,
) -> tuple[dict[str, Any], str | None, list[int]]:  # fmt: skip
    """What the step changes besides the status: (trace detail, the resident's SMS update or None, who to tell)."""
    action, staff = request.action, StaffRepository(session)
    if action == A.CLASSIFY:
        detail = await _classify(session, actor, escalation, request)
        heads = await staff.holding(actor.scope, "unit_head", escalation.responsible_unit or "")
        return detail, None, heads  # a window that failed: its heads answer on the spot
    if action == A.HAND_OFF:
        if request.window_unit is None and not request.deferral_approved:
            raise ValidationFailed("一次性告知后须指明去哪个窗口办理，或经值班领导批准容缺受理", rule="window_unit")
        escalation.outcome = note
        return {"window_unit": request.window_unit, "deferral_approved": request.deferral_approved}, None, []
    if action in (A.ANSWER, A.DECIDE):
        escalation.outcome = note
        detail = {"meeting_ref": request.meeting_ref} if request.meeting_ref else {}
        return detail, None, [escalation.owner_id] if actor.staff_id != escalation.owner_id else []
    if action == A.ESCALATE:
        tier = next_tier(escalation.tier)
        if tier is None:
            raise Conflict("已在最高一级（局领导班子会议），不能再升级", rule="escalation_top_tier")
        escalation.tier, escalation.tier_due = tier, calendar.add_working_days(today, tier)
        leaders = await staff.holding(actor.scope, "unit_head", escalation.unit_code)
        return {"tier": tier}, RESIDENT_UPDATES["escalate"].format(tier=TIER_NAMES[tier][:4]), leaders
    if action == A.REOPEN:
        escalation.outcome, escalation.resolved_at = None, None
        escalation.tier_due = calendar.add_working_days(today, escalation.tier)
        return {}, RESIDENT_UPDATES["reopen"], []
    # A.CLOSE: 销号
    if request.confirmation is None:
        raise ValidationFailed("销号须记录申请人是否确认（confirmed / unreachable / declined）", rule="confirmation")
    if request.confirmation != "confirmed" and note is None:
        raise ValidationFailed("申请人未确认的，销号须写明原因", rule="close_reason")
    escalation.confirmation, escalation.close_note = request.confirmation, note
    return {"confirmation": request.confirmation}, RESIDENT_UPDATES["close"], []


async def _classify(
    session: AsyncSession, actor: Actor, escalation: Escalation, request: StepRequest
) -> dict[str, Any]:
    if request.mode is None:
        raise ValidationFailed("请选择问题类别：咨询引导类、窗口失职类或历史遗留或政策瓶颈类", rule="mode")
    escalation.mode = request.mode
    if request.mode != Mode.WINDOW_FAILURE:
        return {"mode": request.mode}
    if request.responsible_unit is None:
        raise ValidationFailed("窗口失职类问题须指明责任窗口所在单位", rule="responsible_unit")
    desk = scope_for(actor.tenant_id, actor.scope.tenant_code, escalation.unit_code, actor.scope.timezone)
    unit = await UnitRepository(session).get(desk, request.responsible_unit)  # inside the desk's own area, or 404
    escalation.responsible_unit = unit.code
    if request.responsible_staff:
        staff = await StaffRepository(session).by_username(request.responsible_staff)
        if staff is None or staff.tenant_id != actor.tenant_id or not staff.unit_code.startswith(unit.code):
            raise NotFound(f"{unit.code} 没有名为 {request.responsible_staff} 的工作人员")
        escalation.responsible_staff_id = staff.id
    return {"mode": request.mode, "responsible_unit": unit.code, "responsible_staff": request.responsible_staff}
