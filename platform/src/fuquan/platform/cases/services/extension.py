"""延长办理期限 (行政许可法 Art. 42): where a decision cannot be made in time, the head of the deciding organ may
extend the case's time once, by up to ten working days, and the applicant is told why in writing (延长办理期限
告知书). The extension is the head's own step on the case, in its trace and audit log."""

from __future__ import annotations

import structlog

from fuquan.authority import services as authority
from fuquan.platform.cases.models import CaseFile
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.schemas import ExtensionRequest
from fuquan.platform.cases.services.alarms import clock_alarms
from fuquan.platform.cases.services.context import CaseContext, record_step, require_version
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.core.errors import Conflict, PermissionDenied
from fuquan.platform.core.timeutil import utcnow

log = structlog.get_logger()

EXTENDABLE = frozenset({Status.ACCEPTED, Status.IN_REVIEW, Status.SUSPENDED, Status.CORRECTING})
EXTEND = "extend"


async def extend(ctx: CaseContext, case_id: int, request: ExtensionRequest) -> CaseFile:
    """Add ``request.days`` working days to the case's time, by the head of the unit that decides it."""
    ctx.actor.require("cases.extend")
    cases = CaseRepository(ctx.session)
    file = await cases.load(ctx.actor.scope, case_id, for_update=True)
    case = file.case
    require_version(case, request.version)
    if case.status not in EXTENDABLE or case.accepted_on is None:
        raise Conflict("只有已受理、尚未作出决定的办件可以延长办理期限", rule="not_extendable")
    if ctx.actor.unit_code != case.routed_to:
        raise PermissionDenied(f"延长办理期限须经审批单位 {case.routed_to} 负责人批准", rule="wrong_desk")
    now = utcnow()
    item = await ctx.item_of(case)
    # the unit must still hold the right to decide; the head's post authority is ``cases.extend`` itself
    if not await authority.unit_may(ctx.session, ctx.registry, ctx.actor.scope, case.routed_to, item.code, "decide",
                                    now):  # fmt: skip
        raise PermissionDenied(f"{case.routed_to} 目前没有“{item.name}”的审批权限", rule="unit_authority")
    with ctx.session.no_autoflush:  # the case is flushed once, with its new time (one version step)
        if any(event.action == EXTEND for event in await cases.events(case.id)):
            raise Conflict("该办件已延长过办理期限：依照行政许可法第四十二条，只能延长一次", rule="already_extended")
        pauses = (await cases.pauses([case.id])).get(case.id, [])
    before = case.promised_days
    case.promised_days += request.days
    case.deadline = ctx.calendar.add_working_days(case.accepted_on, case.promised_days)
    ranges = [(pause.started_on, pause.ended_on) for pause in pauses]
    if case.status in (Status.ACCEPTED, Status.IN_REVIEW):  # a stopped clock gets its days when it resumes
        case.yellow_on, case.red_on = clock_alarms(ctx.calendar, case.accepted_on, case.promised_days, ranges)
    detail = {"days": request.days, "promised_before": before, "promised_days": case.promised_days}
    await record_step(ctx, case, EXTEND, case.status, case.status, request.reason.strip(), now, detail)
    await ctx.session.flush()  # the version check happens here: a concurrent step raises StaleDataError
    log.info("case_extended", case_id=case.id, days=request.days)
    return file
