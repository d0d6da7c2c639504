"""The transition table in motion (受理、审批、出件…): authorised four ways, effects, routing, outcomes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import structlog

from fuquan.authority import services as authority
from fuquan.integrations.models import HrssRecord
from fuquan.integrations.repositories import HrssRecordRepository
from fuquan.integrations.shared_data import SharedDataAnswer
from fuquan.platform.cases.models import Case, CaseFile, applicant_context
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.schemas import RevocationRequest
from fuquan.platform.cases.services import partners
from fuquan.platform.cases.services.alarms import (
    BARRED_AFTER_ACCEPTANCE_PERIOD,
    DEEMED_ACCEPTED,
    acceptance_last_day,
    acceptance_period_passed,
    clock_alarms,
    days_taken,
    special_procedure_limit,
)
from fuquan.platform.cases.services.certificates import issue_certificate, revoke_certificate
from fuquan.platform.cases.services.context import (
    CaseContext,
    missing_reason,
    missing_required,
    record_step,
    require_rights,
    require_version,
    tally,
)
from fuquan.platform.cases.services.notices import resident_sms
from fuquan.platform.cases.state_machine import (
    ACTION_NAMES,
    CLOCK_STOPPED,
    Action,
    Status,
    Transition,
    target_of,
    transition_for,
)
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.core.errors import Conflict, PermissionDenied, RuleViolation, ValidationFailed
from fuquan.platform.core.timeutil import utcnow

log = structlog.get_logger()


ASKING_AGAIN = frozenset({Action.SUBMIT, Action.RESUBMIT})  # steps that first re-ask partners for missing materials
HEAD_STEPS = {Action.REVOKE: "cases.revoke"}  # the deciding unit's head's own steps, and the permission each needs


def _subjects_of(ctx: CaseContext, file: CaseFile) -> partners.Subjects:
    """The identifiers of an existing case, decrypted for the partner questions only."""
    context = applicant_context(ctx.actor.scope.tenant_code)
    applicant, related = file.applicant, file.related
    return partners.Subjects(
        id_number=ctx.cipher.decrypt(applicant.id_cipher, context=context),
        name=ctx.cipher.decrypt(applicant.name_cipher, context=context),
        person_index=applicant.id_index,
        related_id_number=None if related is None else ctx.cipher.decrypt(related.id_cipher, context=context),
        related_name=None if related is None else ctx.cipher.decrypt(related.name_cipher, context=context),
        credit_code=file.case.enterprise_credit_code,
    )


async def _ask_again(
    ctx: CaseContext, case_id: int
) -> tuple[list[tuple[int, SharedDataAnswer]], datetime, CaseFile | None]:
    """At submission: ask again for materials still missing that a partner could supply (say it was
    down at creation). Runs before the case is locked, so the lock is never held during a call. Also returns
    the file it read when it read it in the request's own session (PostgreSQL) and asked nobody: the step may
    then lock the row and keep that file if nothing changed meanwhile. With no partner configured at all
    nothing could be asked, and nothing is read: the step reads the case once, locked."""
    now = utcnow()
    gateways = await partners.provider(ctx)
    if not partners.calls_out(gateways):
        return [], now, None
    async with ctx.reading_first() as session:
        file = await CaseRepository(session).load(ctx.actor.scope, case_id)
    reusable = file if session is ctx.session else None
    if file.case.status not in (Status.DRAFT, Status.AWAITING_SUPPLEMENT):
        return [], now, reusable
    item = await ctx.item_of(file.case)
    indexes = [m.index for m in file.materials if m.state == "missing" and partners.worth_asking_again(item, m)]
    if not indexes:
        return [], now, reusable
    subjects = _subjects_of(ctx, file)
    answers = await partners.ask_partners(ctx, gateways, item, indexes, file.case.receipt_no, subjects, ctx.today(now))
    return answers, now, None


def _desk(case: Case, transition: Transition) -> str:
    """Front-desk steps happen where the case was accepted; back-office steps where it is routed."""
    if transition.side == "front":
        return case.accepting_unit
    if case.routed_to is None:
        raise RuleViolation("办件尚未确定审批单位", rule="not_routed")
    return case.routed_to


async def _route(ctx: CaseContext, case: Case, item: CatalogItem, now: datetime) -> str:
    target = await authority.nearest_holder(ctx.session, ctx.registry, ctx.actor.scope, case.accepting_unit,
                                            item.code, "decide", now)  # fmt: skip
    if target is None:
        raise RuleViolation(f"本级及上级单位目前均无“{item.name}”的审批权限，暂不能受理", rule="no_deciding_unit")
    return target


async def transition(ctx: CaseContext, case_id: int, action: Action, reason: str | None, version: int) -> CaseFile:
    """Move a case one step along the table, if every rule allows it."""
    ctx.actor.require(HEAD_STEPS.get(action, "cases.handle"))
    answers, asked_at, read = await _ask_again(ctx, case_id) if action in ASKING_AGAIN else ([], utcnow(), None)
    cases = CaseRepository(ctx.session)
    if read is not None and await cases.still_current(read):
        file = read
    else:
        file = await cases.load(ctx.actor.scope, case_id, for_update=True)
    case = file.case
    require_version(case, version)  # before the table: a stale request is stale, whatever state it finds
    step = transition_for(Status(case.status), action)
    reason = (reason or "").strip() or None
    if step.needs_reason and reason is None:
        raise ValidationFailed(f"{ACTION_NAMES[action]}需要填写理由", rule="reason_required")
    desk = _desk(case, step)
    if ctx.actor.unit_code != desk:
        raise PermissionDenied(f"该步骤须由 {desk} 办理", rule="wrong_desk")
    item = await ctx.item_of(case)
    now = utcnow()
    await require_rights(ctx, desk, item, step.right, now, post=action not in HEAD_STEPS)
    if item.separation and step.right == "decide" and case.acceptor_id == ctx.actor.staff_id:
        raise PermissionDenied("该事项实行受审分离：受理人不能审批自己受理的办件", rule="separation_of_duties")

    source = Status(case.status)
    if action in BARRED_AFTER_ACCEPTANCE_PERIOD and acceptance_period_passed(case, ctx.today(now)):
        raise Conflict(DEEMED_ACCEPTED, rule="acceptance_period_passed")
    evidence = partners.apply_answers(ctx, case, file.materials, answers, item, asked_at)
    detail = await _effects(ctx, file, item, action, now, reason)
    if answers:
        detail = {**detail, **tally(answers)}
    target = target_of(step, Status(case.suspended_from) if case.suspended_from else None)
    if action == Action.RESUME:
        case.suspended_from = None
    case.status = target
    evidence = [*evidence, *resident_sms(ctx, file, item, action, now)]
    await record_step(ctx, case, action.value, source.value, target.value, reason, now, detail, evidence)
    await ctx.session.flush()  # the version check happens here: a concurrent step raises StaleDataError
    log.info("case_transitioned", case_id=case.id, action=action.value, to=target.value)
    return file


async def revoke_decision(ctx: CaseContext, case_id: int, request: RevocationRequest) -> CaseFile:
    """撤销准予决定: the deciding unit's head revokes an approval; its certificate is revoked in the same step."""
    return await transition(ctx, case_id, Action.REVOKE, request.reason, request.version)


async def _effects(
    ctx: CaseContext, file: CaseFile, item: CatalogItem, action: Action, now: datetime, reason: str | None
) -> dict[str, Any]:
    """What a step does besides changing the status; returns what the trace should remember."""
    cases = CaseRepository(ctx.session)
    case = file.case
    today = ctx.today(now)
    detail: dict[str, Any] = {}
    source = Status(case.status)
    if action == Action.ACCEPT:
        missing = missing_required(file.materials)
        if missing:
            raise RuleViolation(missing_reason(missing), rule="materials_missing", missing=missing)
        case.routed_to = await _route(ctx, case, item, now)
        since = await _deemed_since(ctx, case, today)
        case.acceptor_id, case.accepted_at, case.accepted_on = ctx.actor.staff_id, now, since or today
        case.deadline = ctx.calendar.add_working_days(case.accepted_on, item.promised_days)
        detail = {"routed_to": case.routed_to, "deadline": case.deadline.isoformat()}
        if since is not None:  # 视为受理: the clock runs from the submission, as the law says
            detail |= {"deemed_accepted_since": since.isoformat(), "accept_by": str(case.accept_by)}
    elif action == Action.REROUTE:
        previous, case.routed_to = case.routed_to, await _route(ctx, case, item, now)
        case.decider_id = None
        detail = {"from_unit": previous, "to_unit": case.routed_to}
    elif action == Action.ASSIGN:
        case.decider_id = ctx.actor.staff_id
    elif action in (Action.APPROVE, Action.DENY):
        case.decider_id, case.decided_at = ctx.actor.staff_id, now
        if case.accepted_on is not None:
            with ctx.session.no_autoflush:  # the case is flushed once, with its new status (one version step)
                pauses = (await cases.pauses([case.id])).get(case.id, [])
            case.working_days_used = days_taken(ctx.calendar, case.accepted_on, today, pauses)
        if action == Action.APPROVE:
            detail = await issue_certificate(ctx, file, item, now)
    elif action == Action.REVOKE:
        detail = await revoke_certificate(ctx, file, reason or "", today, now)
    elif action == Action.ISSUE:
        case.issued_at = now
        if source == Status.APPROVED and item.produces:
            detail = await _record_outcome(ctx, file, item.produces, today, now)
    elif action == Action.CLOSE:
        case.closed_at = now
    elif action == Action.WITHDRAW:
        case.closed_at = now  # the clock of a withdrawn case stops here
        if source in CLOCK_STOPPED:
            await cases.close_pause(case.id, today)
    else:
        await _pauses(ctx, case, action, today)
    _alarms(ctx, case, action, today)
    return detail


async def _deemed_since(ctx: CaseContext, case: Case, today: date) -> date | None:
    """The day a case whose acceptance period passed unanswered counts as accepted (Art. 32: the day its complete
    materials were received — its last submission); None for a case accepted in time."""
    if not acceptance_period_passed(case, today):
        return None
    with ctx.session.no_autoflush:  # the case is flushed once, with its new status (one version step)
        events = await CaseRepository(ctx.session).events(case.id)
    submitted = [e.at for e in events if e.action in (Action.SUBMIT.value, Action.RESUBMIT.value)]
    return ctx.today(submitted[-1]) if submitted else today


async def _pauses(ctx: CaseContext, case: Case, action: Action, today: date) -> None:
    """The clock stops (补正 before acceptance or during review, 特别程序 after acceptance) and starts again."""
    cases = CaseRepository(ctx.session)
    if action == Action.REQUEST_SUPPLEMENT:
        cases.open_pause(case.id, "supplement", today)
    elif action == Action.SUSPEND:
        cases.open_pause(case.id, "special", today, special_procedure_limit(ctx.calendar, today))
        case.suspended_from = case.status
    elif action == Action.REQUEST_CORRECTION:  # 审查中补正: back to review when the corrected materials are in
        cases.open_pause(case.id, "correction", today)
        case.suspended_from = case.status
    elif action in (Action.RESUBMIT, Action.RESUME):
        await cases.close_pause(case.id, today)
        if action == Action.RESUME and case.accepted_on is not None:  # the pause pushed the yellow and red days
            pauses = (await cases.pauses([case.id])).get(case.id, [])
            ranges = [(pause.started_on, pause.ended_on) for pause in pauses]
            case.yellow_on, case.red_on = clock_alarms(ctx.calendar, case.accepted_on, case.promised_days, ranges)


def _alarms(ctx: CaseContext, case: Case, action: Action, today: date) -> None:
    """The days the warning job acts on (``alarms``): the acceptance period runs from each complete submission
    (Art. 32), the yellow and red days from acceptance; a decision or a withdrawal ends both."""
    if action in (Action.SUBMIT, Action.RESUBMIT):
        case.accept_by = acceptance_last_day(ctx.calendar, today, case.promised_days)
    elif action in (Action.ACCEPT, Action.REFUSE, Action.REQUEST_SUPPLEMENT):
        case.accept_by = None
    if action == Action.ACCEPT and case.accepted_on is not None:  # from the submission, when deemed accepted
        case.yellow_on, case.red_on = clock_alarms(ctx.calendar, case.accepted_on, case.promised_days)
    elif action in (Action.APPROVE, Action.DENY, Action.WITHDRAW):
        case.yellow_on = case.red_on = case.accept_by = None


async def _record_outcome(ctx: CaseContext, file: CaseFile, kind: str, today: date, now: datetime) -> dict[str, Any]:
    """An approved registration or recognition, once issued, joins Fuquan's own records (人社自有数据),
    so a later case's material is satisfied from it. 就业登记 ends an open 失业登记 and vice versa."""
    repository = HrssRecordRepository(ctx.session)
    ends = {"employment_registration": "unemployment_registration",
            "unemployment_registration": "employment_registration"}.get(kind)  # fmt: skip
    case, applicant = file.case, file.applicant
    with ctx.session.no_autoflush:  # the case is flushed once, with its new status (one version step)
        records = await repository.for_person(ctx.actor.scope, applicant.id_index)
    for record in records:
        if record.kind in (kind, ends) and record.until is None:
            record.until = today
    repository.add(
        HrssRecord(
            tenant_id=ctx.tenant_id, person_index=applicant.id_index, kind=kind, since=today, until=None,
            item_code=case.item_code, receipt_no=case.receipt_no, unit_code=case.accepting_unit, created_at=now,
        )
    )  # fmt: skip
    return {"record": kind}
