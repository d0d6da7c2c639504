"""督办 (supervision orders): a supervisor orders a unit to act on a case or a 办不成事 escalation by a due day;
the unit's head answers in writing; the supervisor accepts the reply (办结) or returns it with a new day. Each step
is in the order's trace and audited, and the people it concerns are told in their inbox. An order still unanswered
after its day goes up to the supervisor's superior — the supervisors of the nearest unit above the issuer's — once
(``OrderJob``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.cases.repositories import CaseRepository, ReceiptCounterRepository
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import Conflict, PermissionDenied, ValidationFailed
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.escalations.repositories import EscalationRepository
from fuquan.platform.notifications.services.outbox import inbox_row
from fuquan.platform.supervision.models import SupervisionOrder
from fuquan.platform.supervision.repositories import OrderRepository, PeopleRepository
from fuquan.platform.supervision.schemas import OrderRead, OrderReply, OrderReview, OrderStep, OrderWrite
from fuquan.tenants.divisions import ancestor_codes, normalise_unit_code
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

STATUS_NAMES: Final = {"issued": "待答复", "replied": "待审核", "closed": "已办结"}
STEP_NAMES: Final = {"issue": "下发督办单", "reply": "书面答复", "accept": "审核通过，办结", "return": "退回重新办理",
                     "overdue": "逾期未答复，报上级"}  # fmt: skip
LONGEST: Final = timedelta(days=366)
BATCH: Final = 500


def _step(actor: str, action: str, note: str | None, now: datetime) -> dict[str, Any]:
    return {"at": now.isoformat(), "actor": actor, "action": action, "note": note}


def _told(order: SupervisionOrder, staff_ids: Sequence[int], title: str, body: str, now: datetime) -> list[NewRow]:
    return [
        inbox_row(order.tenant_id, staff_id, kind="supervision_order", title=title, body=body, now=now,
                  dedupe_key=f"order:{order.id}:{len(order.steps)}:{staff_id}",
                  link=f"/supervision/orders/{order.id}", case_id=order.case_id)
        for staff_id in dict.fromkeys(staff_ids)
    ]  # fmt: skip


async def _reads(session: AsyncSession, scope: TenantScope, found: Sequence[SupervisionOrder]) -> list[OrderRead]:
    """The orders as the API shows them; the people and units they name looked up once for all of them."""
    names = await PeopleRepository(session).names(list({i for o in found for i in (o.issuer_id, o.replied_by) if i}))
    units = await UnitRepository(session).names(scope, list({order.unit_code for order in found}))
    return [_read(order, names, units) for order in found]


async def _read_one(session: AsyncSession, scope: TenantScope, order: SupervisionOrder) -> OrderRead:
    return (await _reads(session, scope, [order]))[0]


def _read(order: SupervisionOrder, names: dict[int, str], units: dict[str, str]) -> OrderRead:
    link = f"/cases/{order.case_id}" if order.case_id else f"/escalations/{order.escalation_id}"
    steps = [
        OrderStep(at=datetime.fromisoformat(step["at"]), actor=step["actor"], action=step["action"],
                  name=STEP_NAMES.get(step["action"], step["action"]), note=step.get("note"))
        for step in order.steps
    ]  # fmt: skip
    return OrderRead(
        id=order.id, order_no=order.order_no, case_id=order.case_id, escalation_id=order.escalation_id,
        subject=order.subject, link=link, unit=order.unit_code, unit_name=units.get(order.unit_code, order.unit_code),
        issuer=names.get(order.issuer_id, ""), issuer_unit=order.issuer_unit, demand=order.demand,
        due_on=order.due_on, status=order.status, status_name=STATUS_NAMES[order.status], overdue=order.overdue,
        reply=order.reply, replied_by=names.get(order.replied_by) if order.replied_by else None,
        replied_at=order.replied_at, review_note=order.review_note, escalated_to=order.escalated_to,
        escalated_at=order.escalated_at, created_at=order.created_at, closed_at=order.closed_at,
        steps=steps, version=order.version,
    )  # fmt: skip


def _check_due(due_on: date, today: date) -> None:
    if due_on < today:
        raise ValidationFailed(f"答复期限 {due_on} 已经过去，请选择今天（{today}）或以后的日期", rule="due_on")
    if due_on > today + LONGEST:
        raise ValidationFailed("答复期限不能超过一年", rule="due_on")


async def issue(session: AsyncSession, actor: Actor, data: OrderWrite, now: datetime,
                request_id: str | None) -> OrderRead:  # fmt: skip
    """A new 督办单; the unit's heads are told. A case or escalation outside the caller's scope reads as absent."""
    actor.require("supervision.act")
    scope = actor.scope
    if (data.case_id is None) == (data.escalation_id is None):
        raise ValidationFailed("督办单须针对一个办件或一件办不成事反映（二者选一）", rule="order_subject")
    if data.case_id is not None:
        case = await CaseRepository(session).get(scope, data.case_id)
        subject, default_unit = case.receipt_no, case.routed_to or case.accepting_unit
    else:
        assert data.escalation_id is not None
        escalation = await EscalationRepository(session).get(scope, actor.staff_id, data.escalation_id)
        subject, default_unit = escalation.reg_no, escalation.responsible_unit or escalation.unit_code
    unit_code = normalise_unit_code(data.unit) if data.unit else default_unit
    await UnitRepository(session).get(scope, unit_code)  # NotFound outside the caller's subtree
    today = local_date(now, scope.timezone)
    _check_due(data.due_on, today)
    heads = await StaffRepository(session).holding(scope, "unit_head", unit_code)
    if not heads:
        raise ValidationFailed(
            f"单位 {unit_code} 没有在岗的单位负责人，督办单无人答复。"
            "请先为该单位设置“单位负责人”岗位，或督办其上级单位",
            rule="no_unit_head",
        )
    sequence = await ReceiptCounterRepository(session).take(scope, f"D{actor.unit_code}", today)
    order = SupervisionOrder(
        tenant_id=scope.tenant_id, order_no=f"DB{actor.unit_code}-{today:%Y%m%d}-{sequence:04d}",
        case_id=data.case_id, escalation_id=data.escalation_id, subject=subject, unit_code=unit_code,
        issuer_id=actor.staff_id, issuer_unit=actor.unit_code, demand=data.demand.strip(), due_on=data.due_on,
        status="issued", overdue=False, created_at=now, steps=[_step(actor.display_name, "issue", None, now)],
    )  # fmt: skip
    repository = OrderRepository(session)
    repository.add(order)
    await session.flush()
    body = f"请于 {order.due_on} 前书面答复：{order.demand}"
    told = _told(order, heads, f"督办单 {order.order_no}：{subject}", body, now)
    await append(session, actor.audit_entry(
        "supervision_order.issue", resource=f"supervision_order:{order.id}", request_id=request_id,
        detail={"order_no": order.order_no, "subject": subject, "unit": unit_code, "due_on": order.due_on.isoformat()},
    ), alongside=told)  # fmt: skip
    return await _read_one(session, scope, order)


async def orders(session: AsyncSession, actor: Actor, status: str | None, case_id: int | None,
                 escalation_id: int | None) -> list[OrderRead]:  # fmt: skip
    actor.require("supervision.read")
    found = await OrderRepository(session).page(actor.scope, status, case_id, escalation_id, 200)
    return await _reads(session, actor.scope, found)


async def order(session: AsyncSession, actor: Actor, order_id: int) -> OrderRead:
    actor.require("supervision.read")
    return await _read_one(session, actor.scope, await OrderRepository(session).get(actor.scope, order_id))


async def _locked(session: AsyncSession, actor: Actor, order_id: int, version: int, status: str) -> SupervisionOrder:
    found = await OrderRepository(session).get(actor.scope, order_id, for_update=True)
    if version != found.version:
        raise Conflict(f"该督办单已被他人更新（当前版本 {found.version}），请刷新后重试", rule="stale_version")
    if found.status != status:
        raise Conflict(f"督办单处于“{STATUS_NAMES[found.status]}”状态，不能进行此操作", rule="order_state")
    return found


async def reply(session: AsyncSession, actor: Actor, order_id: int, data: OrderReply, now: datetime,
                request_id: str | None) -> OrderRead:  # fmt: skip
    """The ordered unit's head answers in writing; the issuer is told. Late replies are marked overdue."""
    actor.require("supervision.reply")
    found = await _locked(session, actor, order_id, data.version, "issued")
    if actor.unit_code != found.unit_code:
        raise PermissionDenied("督办单由被督办单位的负责人答复", rule="order_unit")
    late = local_date(now, actor.scope.timezone) > found.due_on
    found.status, found.reply, found.replied_by, found.replied_at = "replied", data.reply.strip(), actor.staff_id, now
    found.overdue = found.overdue or late
    found.steps = [*found.steps, _step(actor.display_name, "reply", found.reply[:200], now)]
    told = _told(found, [found.issuer_id], f"督办单 {found.order_no} 已答复", found.reply[:200], now)
    await append(session, actor.audit_entry(
        "supervision_order.reply", resource=f"supervision_order:{found.id}", request_id=request_id,
        detail={"order_no": found.order_no, "late": late},
    ), alongside=told)  # fmt: skip
    await session.flush()
    return await _read_one(session, actor.scope, found)


async def review(session: AsyncSession, actor: Actor, order_id: int, data: OrderReview, now: datetime,
                 request_id: str | None) -> OrderRead:  # fmt: skip
    """The issuer (or a supervisor above the issuer) accepts the reply — the order closes — or returns it with a
    new day; the unit's heads are told either way."""
    actor.require("supervision.act")
    found = await _locked(session, actor, order_id, data.version, "replied")
    if not actor.scope.covers(found.issuer_unit) or actor.unit_code == found.unit_code:
        raise PermissionDenied("督办单的答复由下发督办单的监察人员或其上级审核", rule="order_reviewer")
    if data.outcome == "returned":
        if data.due_on is None or not data.note:
            raise ValidationFailed("退回须写明理由并给出新的答复期限", rule="return_reason")
        _check_due(data.due_on, local_date(now, actor.scope.timezone))
        found.status, found.due_on, found.escalated_at = "issued", data.due_on, None  # late again: goes up again
    else:
        found.status, found.closed_at = "closed", now
    found.review_note = data.note
    action = "accept" if data.outcome == "accepted" else "return"
    found.steps = [*found.steps, _step(actor.display_name, action, data.note, now)]
    heads = await StaffRepository(session).holding(actor.scope, "unit_head", found.unit_code)
    title = f"督办单 {found.order_no} {STEP_NAMES[action]}"
    body = data.note or title if action == "accept" else f"请于 {found.due_on} 前重新答复：{data.note}"
    await append(session, actor.audit_entry(
        f"supervision_order.{action}", resource=f"supervision_order:{found.id}", request_id=request_id,
        detail={"order_no": found.order_no, "due_on": found.due_on.isoformat()},
    ), alongside=_told(found, heads, title, body, now))  # fmt: skip
    await session.flush()
    return await _read_one(session, actor.scope, found)


class OrderJob:
    """The ``supervision_orders`` job (one replica per slot): orders unanswered past their day go up."""

    def __init__(self, session_maker: async_sessionmaker[AsyncSession]) -> None:
        self.session_maker = session_maker

    async def run(self) -> dict[str, Any]:
        sent_up = 0
        async with own_session(self.session_maker, writes=True) as session, session.begin():
            now = utcnow()
            for tenant in await TenantRepository(session).all():
                scope = whole_tenant(tenant)
                repository = OrderRepository(session)
                for found in await repository.take_overdue(tenant.id, local_date(now, tenant.timezone), now, BATCH):
                    await self._send_up(session, scope, repository, found, now)
                    sent_up += 1
        return {"sent_up": sent_up} if sent_up else {}

    async def _send_up(self, session: AsyncSession, scope: TenantScope, repository: OrderRepository,
                       found: SupervisionOrder, now: datetime) -> None:  # fmt: skip
        staff = StaffRepository(session)
        superior, superiors = found.issuer_unit, []
        for code in reversed(ancestor_codes(found.issuer_unit)):  # nearest first
            superiors = await staff.holding(scope, "supervisor", code)
            if superiors:
                superior = code
                break
        else:  # no supervisor above: the issuing unit's own heads answer for it
            superiors = await staff.holding(scope, "unit_head", found.issuer_unit)
        heads = await staff.holding(scope, "unit_head", found.unit_code)
        note = f"答复期限 {found.due_on} 已过，未收到书面答复，已报上级（{superior}）"
        session.expunge(found)  # the trace below describes the step; the row is updated in SQL
        steps = [*found.steps, _step("系统（督办逾期）", "overdue", note, now)]
        found.steps = steps
        rows = _told(found, [*superiors, found.issuer_id, *heads], f"督办单 {found.order_no} 逾期未答复", note, now)
        await repository.record_sent_up(found.id, superior, steps)
        await append(session, AuditEntry(
            action="supervision_order.overdue", tenant_id=found.tenant_id, actor="system", unit=found.unit_code,
            resource=f"supervision_order:{found.id}", detail={"order_no": found.order_no, "sent_up_to": superior},
        ), alongside=rows)  # fmt: skip
