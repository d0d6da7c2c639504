"""差评整改 (national 好差评 practice): every rating of 2 or below, and every complaint (投诉), opens a follow-up for
the unit that handled the case (``cases.services.public``). Its staff call the resident back (回访) within 1 working
day, rectify (整改) within the tenant's working days and reply to the resident; a supervisor over the unit reviews it
(复核): accepted closes it, returned sends it back to rectify. Each step is audited. The rates the dashboard shows:
follow-ups called back in time, and rectified in time (the national target is 100%).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.cases.models import CaseFollowUp
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.supervision.repositories import FollowUpRepository
from fuquan.platform.supervision.schemas import FollowUpRates, FollowUpRead, FollowUpSettings, FollowUpStep
from fuquan.tenants.repositories import TenantRepository, UnitRepository

STEPS: Final = {  # action → (from, to)
    "callback": ("open", "called_back"),
    "rectify": ("called_back", "rectified"),
    "reply": ("rectified", "replied"),
    "review": ("replied", None),  # accepted → closed; returned → called_back (rectify again)
}
NAMES: Final = {"callback": "回访", "rectify": "整改", "reply": "答复申请人", "review": "复核"}
STATUS_NAMES: Final = {"open": "待回访", "called_back": "待整改", "rectified": "待答复", "replied": "待复核",
                       "closed": "已办结"}  # fmt: skip


def read(follow_up: CaseFollowUp, receipt_no: str) -> FollowUpRead:
    return FollowUpRead(
        id=follow_up.id, case_id=follow_up.case_id, receipt_no=receipt_no, unit=follow_up.unit_code,
        source=follow_up.source, rating=follow_up.rating, comment=follow_up.comment, status=follow_up.status,
        status_name=STATUS_NAMES[follow_up.status], callback_due=follow_up.callback_due,
        called_back_at=follow_up.called_back_at, rectify_due=follow_up.rectify_due,
        rectified_at=follow_up.rectified_at, rectification=follow_up.rectification, reply=follow_up.reply,
        review=follow_up.review, version=follow_up.version,
    )  # fmt: skip


async def follow_ups(session: AsyncSession, actor: Actor, status: str | None, limit: int) -> list[FollowUpRead]:
    actor.require("cases.read")
    return [read(f, no) for f, no in await FollowUpRepository(session).page(actor.scope, status, limit)]


async def follow_up(session: AsyncSession, actor: Actor, follow_up_id: int) -> FollowUpRead:
    actor.require("cases.read")
    repository = FollowUpRepository(session)
    found = await repository.get(actor.scope, follow_up_id)
    return read(found, await repository.receipt_no(found.case_id))


def next_action(status: str) -> str | None:
    """The step a follow-up in ``status`` waits for (None once closed)."""
    return next((action for action, (source, _) in STEPS.items() if source == status), None)


async def take_step(session: AsyncSession, actor: Actor, follow_up_id: int, step: FollowUpStep, now: datetime,
                    request_id: str | None) -> FollowUpRead:  # fmt: skip
    actor.require("cases.read")
    repository = FollowUpRepository(session)
    follow_up = await repository.get(actor.scope, follow_up_id, for_update=True)
    if step.version != follow_up.version:
        raise Conflict(f"该整改已被他人更新（当前版本 {follow_up.version}），请刷新后重试", rule="stale_version")
    source, target = STEPS[step.action]
    if follow_up.status != source:
        raise Conflict(f"“{STATUS_NAMES[follow_up.status]}”的整改不能{NAMES[step.action]}", rule="follow_up_state")
    if step.action == "review":
        if "supervision.read" not in actor.permissions or actor.unit_code == follow_up.unit_code:
            raise PermissionDenied("复核由上级电子监察人员进行", rule="follow_up_reviewer")
        if step.outcome is None:
            raise ValidationFailed("复核须选择通过（accepted）或退回重新整改（returned）", rule="review_outcome")
        target = "closed" if step.outcome == "accepted" else "called_back"
        follow_up.review, follow_up.review_note, follow_up.reviewed_at = step.outcome, step.note, now
    else:
        if actor.unit_code != follow_up.unit_code or not ({"cases.handle", "supervision.read"} & actor.permissions):
            raise PermissionDenied("回访、整改和答复由办理该件的单位进行", rule="follow_up_unit")
        if step.note is None:
            raise ValidationFailed(f"{NAMES[step.action]}须写明情况", rule="note_required")
        if step.action == "callback":
            follow_up.called_back_at, follow_up.callback_note = now, step.note
        elif step.action == "rectify":
            follow_up.rectified_at, follow_up.rectification = now, step.note
        else:
            follow_up.replied_at, follow_up.reply = now, step.note
    assert target is not None  # every step but the review names its target; the review chose one above
    follow_up.status = target
    await append(session, actor.audit_entry(
        f"follow_up.{step.action}", resource=f"case:{follow_up.case_id}", request_id=request_id,
        detail={"follow_up": follow_up.id, "to": target, **({"outcome": step.outcome} if step.outcome else {})},
    ))  # fmt: skip
    await session.flush()
    return read(follow_up, await repository.receipt_no(follow_up.case_id))


async def rates(session: AsyncSession, actor: Actor, unit_code: str | None) -> list[FollowUpRates]:
    """Per child unit of ``unit_code`` (default: the actor's): follow-ups, called back in time, rectified in time."""
    actor.require("supervision.read")
    scope, code = actor.scope, unit_code or actor.unit_code
    units = UnitRepository(session)
    await units.get(scope, code)  # NotFound outside the caller's subtree
    children = {child.code: child.name for child in await units.children(scope, code)}
    buckets: defaultdict[str, list[CaseFollowUp]] = defaultdict(list)
    for follow_up in await FollowUpRepository(session).for_rates(scope, code):
        owner = next((c for c in children if follow_up.unit_code.startswith(c)), code)
        buckets[owner].append(follow_up)
    tz = scope.timezone

    def figures(unit: str, name: str, items: list[CaseFollowUp]) -> FollowUpRates:
        called = sum(1 for f in items if f.called_back_at and local_date(f.called_back_at, tz) <= f.callback_due)
        fixed = sum(1 for f in items if f.rectified_at and local_date(f.rectified_at, tz) <= f.rectify_due)
        total = len(items)
        return FollowUpRates(unit=unit, name=name, follow_ups=total, called_back_in_time=called,
                             rectified_in_time=fixed, callback_rate=called / total if total else None,
                             rectification_rate=fixed / total if total else None)  # fmt: skip

    names = {**children, code: (await units.names(scope, [code])).get(code, code)}
    return [figures(unit, names.get(unit, unit), items) for unit, items in sorted(buckets.items())]


async def settings(session: AsyncSession, actor: Actor) -> FollowUpSettings:
    actor.require("supervision.read")
    tenant = await TenantRepository(session).by_id(actor.tenant_id)
    return FollowUpSettings(rectify_working_days=tenant.rectify_working_days if tenant else 5)


async def set_settings(session: AsyncSession, actor: Actor, change: FollowUpSettings,
                       request_id: str | None) -> FollowUpSettings:  # fmt: skip
    """The tenant's working days to rectify after a poor rating (follow-ups opened from now on), audited."""
    actor.require("supervision.manage")
    tenant = await TenantRepository(session).by_id(actor.tenant_id)
    if tenant is None:
        raise ValidationFailed("租户不存在")
    before, tenant.rectify_working_days = tenant.rectify_working_days, change.rectify_working_days
    await append(session, actor.audit_entry(
        "supervision.settings", resource=f"tenant:{tenant.code}", request_id=request_id,
        detail={"rectify_working_days": [before, change.rectify_working_days]},
    ))  # fmt: skip
    return change
