"""责任追究 (accountability): a supervisor opens a record against one staff member of the subtree, citing the cases,
督办单 and escalations that justify it. The person concerned is told and may state their case (陈述申辩); a supervisor
over the opening unit then decides the measure (处理结果), and the person is told. Each step is audited. Supervisors
see the records of their subtree; a staff member sees the records about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.cases.repositories import ReceiptCounterRepository
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.notifications.services.outbox import inbox_row
from fuquan.platform.supervision.models import MEASURES, Accountability
from fuquan.platform.supervision.repositories import AccountabilityRepository, PeopleRepository
from fuquan.platform.supervision.schemas import (
    AccountabilityDecision,
    AccountabilityRead,
    AccountabilityStatement,
    AccountabilityWrite,
    Cited,
)

STATUS_NAMES: Final = {"open": "待处理", "decided": "已处理"}
KIND_NAMES: Final = {"case": "办件", "order": "督办单", "escalation": "办不成事反映"}


async def _reads(session: AsyncSession, found: Sequence[Accountability]) -> list[AccountabilityRead]:
    """The records as the API shows them; the people they name looked up once for all of them."""
    people = {i for r in found for i in (r.staff_id, r.opened_by, r.decided_by) if i}
    names = await PeopleRepository(session).names(list(people))
    usernames = await PeopleRepository(session).usernames(list({record.staff_id for record in found}))
    return [_read(record, names, usernames) for record in found]


def _read(record: Accountability, names: dict[int, str], usernames: dict[int, str]) -> AccountabilityRead:
    cited = [
        *(Cited(kind="case", id=i, link=f"/cases/{i}") for i in record.case_ids),
        *(Cited(kind="order", id=i, link=f"/supervision/orders/{i}") for i in record.order_ids),
        *(Cited(kind="escalation", id=i, link=f"/escalations/{i}") for i in record.escalation_ids),
    ]
    return AccountabilityRead(
        id=record.id, record_no=record.record_no, staff=names.get(record.staff_id, ""),
        staff_username=usernames.get(record.staff_id, ""), unit=record.unit_code,
        opened_by=names.get(record.opened_by, ""), reason=record.reason, cited=cited, status=record.status,
        status_name=STATUS_NAMES[record.status], statement=record.statement, stated_at=record.stated_at,
        measure=record.measure, measure_name=MEASURES.get(record.measure) if record.measure else None,
        decision=record.decision, decided_by=names.get(record.decided_by) if record.decided_by else None,
        decided_at=record.decided_at, created_at=record.created_at, version=record.version,
    )  # fmt: skip


async def open_record(session: AsyncSession, actor: Actor, data: AccountabilityWrite, now: datetime,
                      request_id: str | None) -> AccountabilityRead:  # fmt: skip
    actor.require("supervision.act")
    scope = actor.scope
    people = PeopleRepository(session)
    staff = await StaffRepository(session).by_username(data.staff.strip())
    units = await people.units_of(scope, staff.id) if staff and staff.tenant_id == scope.tenant_id else []
    if staff is None or not units:
        raise NotFound(f"人员 {data.staff} 不存在或不在您的管辖范围内")
    if staff.id == actor.staff_id:
        raise ValidationFailed("不能对本人发起责任追究", rule="self_accountability")
    case_ids, order_ids, escalation_ids = (sorted(set(ids)) for ids in (data.case_ids, data.order_ids,
                                                                         data.escalation_ids))  # fmt: skip
    if not (case_ids or order_ids or escalation_ids):
        raise ValidationFailed("责任追究须引用至少一个办件、督办单或办不成事反映作为依据", rule="cited_required")
    found = await people.cited_in_scope(scope, case_ids, order_ids, escalation_ids)
    missing = [
        f"{KIND_NAMES[kind]} {i}"
        for kind, ids, seen in zip(("case", "order", "escalation"), (case_ids, order_ids, escalation_ids), found,
                                   strict=True)
        for i in ids if i not in seen
    ]  # fmt: skip
    if missing:
        raise ValidationFailed(f"引用的{'、'.join(missing)}不存在或不在您的管辖范围内", rule="cited_unknown")
    today = local_date(now, scope.timezone)
    sequence = await ReceiptCounterRepository(session).take(scope, f"Z{actor.unit_code}", today)
    record = Accountability(
        tenant_id=scope.tenant_id, record_no=f"ZZ{actor.unit_code}-{today:%Y%m%d}-{sequence:04d}",
        staff_id=staff.id, unit_code=units[-1], opened_by=actor.staff_id, opener_unit=actor.unit_code,
        reason=data.reason.strip(), case_ids=case_ids, order_ids=order_ids, escalation_ids=escalation_ids,
        status="open", created_at=now,
    )  # fmt: skip
    AccountabilityRepository(session).add(record)
    await session.flush()
    told = inbox_row(
        scope.tenant_id, staff.id, kind="accountability", dedupe_key=f"accountability:{record.id}:open",
        title=f"责任追究 {record.record_no}", body=f"监察人员对您发起了责任追究，您可以陈述申辩：{record.reason[:150]}",
        link=f"/supervision/accountability/{record.id}", case_id=None, now=now,
    )  # fmt: skip
    await append(session, actor.audit_entry(
        "accountability.open", resource=f"accountability:{record.id}", request_id=request_id,
        detail={"record_no": record.record_no, "staff": staff.username, "cases": case_ids, "orders": order_ids,
                "escalations": escalation_ids},
    ), alongside=[told])  # fmt: skip
    return (await _reads(session, [record]))[0]


async def records(session: AsyncSession, actor: Actor, status: str | None) -> list[AccountabilityRead]:
    repository = AccountabilityRepository(session)
    found = await repository.page(actor.scope, actor.staff_id, status, 200,
                                  own_only="supervision.read" not in actor.permissions)  # fmt: skip
    return await _reads(session, found)


async def record(session: AsyncSession, actor: Actor, record_id: int) -> AccountabilityRead:
    return (await _reads(session, [await _visible(session, actor, record_id)]))[0]


async def _visible(session: AsyncSession, actor: Actor, record_id: int, *, for_update: bool = False) -> Accountability:
    found = await AccountabilityRepository(session).get(actor.scope, actor.staff_id, record_id, for_update=for_update)
    if found.staff_id != actor.staff_id and "supervision.read" not in actor.permissions:
        raise NotFound(f"责任追究记录 {record_id} 不存在")
    return found


def _open(found: Accountability, version: int) -> None:
    if version != found.version:
        raise Conflict(f"该记录已被他人更新（当前版本 {found.version}），请刷新后重试", rule="stale_version")
    if found.status != "open":
        raise Conflict("该责任追究已处理完毕", rule="accountability_decided")


async def state(session: AsyncSession, actor: Actor, record_id: int, data: AccountabilityStatement, now: datetime,
                request_id: str | None) -> AccountabilityRead:  # fmt: skip
    """陈述申辩: the person concerned, while the record is open (a later statement replaces the earlier one)."""
    found = await _visible(session, actor, record_id, for_update=True)
    if found.staff_id != actor.staff_id:
        raise PermissionDenied("陈述申辩由被追究人员本人提出", rule="statement_self")
    _open(found, data.version)
    found.statement, found.stated_at = data.statement.strip(), now
    told = inbox_row(
        found.tenant_id, found.opened_by, kind="accountability", title=f"责任追究 {found.record_no} 收到陈述申辩",
        body=found.statement[:200], dedupe_key=f"accountability:{found.id}:statement:{found.version}",
        link=f"/supervision/accountability/{found.id}", case_id=None, now=now,
    )  # fmt: skip
    await append(session, actor.audit_entry(
        "accountability.statement", resource=f"accountability:{found.id}", request_id=request_id,
        detail={"record_no": found.record_no},
    ), alongside=[told])  # fmt: skip
    await session.flush()
    return (await _reads(session, [found]))[0]


async def decide(session: AsyncSession, actor: Actor, record_id: int, data: AccountabilityDecision, now: datetime,
                 request_id: str | None) -> AccountabilityRead:  # fmt: skip
    """处理结果, by a supervisor of the opening unit or above it; the person is told."""
    actor.require("supervision.act")
    found = await _visible(session, actor, record_id, for_update=True)
    if not actor.scope.covers(found.opener_unit) or found.staff_id == actor.staff_id:
        raise PermissionDenied("处理结果由发起责任追究的单位或其上级的监察人员作出", rule="accountability_decider")
    _open(found, data.version)
    found.status, found.measure, found.decision = "decided", data.measure, data.decision.strip()
    found.decided_by, found.decided_at = actor.staff_id, now
    told = inbox_row(
        found.tenant_id, found.staff_id, kind="accountability", title=f"责任追究 {found.record_no} 处理结果",
        body=f"{MEASURES[data.measure]}：{found.decision[:180]}", dedupe_key=f"accountability:{found.id}:decided",
        link=f"/supervision/accountability/{found.id}", case_id=None, now=now,
    )  # fmt: skip
    await append(session, actor.audit_entry(
        "accountability.decide", resource=f"accountability:{found.id}", request_id=request_id,
        detail={"record_no": found.record_no, "measure": data.measure},
    ), alongside=[told])  # fmt: skip
    await session.flush()
    return (await _reads(session, [found]))[0]
