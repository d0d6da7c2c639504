"""The escalation desk (办不成事反映窗口): registration from four channels, and the duty roster.

A problem is registered at the desk of a county or city unit; that day's duty leader (值班领导) owns it until it
is closed (首问负责). A referral from a case page goes to the desk of the county above the case's accepting unit.
Each gets a registration number and a query code, with which the resident follows it on the progress page.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases.models import applicant_context
from fuquan.platform.cases.repositories import CaseRepository, ReceiptCounterRepository
from fuquan.platform.cases.services.receipts import new_query_code
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.errors import NotFound, RuleViolation, ValidationFailed
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.personal import (
    mask_id_number,
    mask_name,
    mask_phone,
    parse_resident_id,
    person_name,
    phone_number,
)
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.escalations.models import DutyRoster, Escalation, escalation_context
from fuquan.platform.escalations.repositories import EscalationRepository
from fuquan.platform.escalations.schemas import EscalationCreate, Referral, RosterDay, RosterWrite
from fuquan.platform.escalations.services.record import RESIDENT_UPDATES, inbox_rows, record, resident_sms
from fuquan.platform.escalations.state_machine import EscalationStatus
from fuquan.tenants.divisions import level_of
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

DESK_LEVELS = (2, 3)  # a city's or a county's desk (the seed's: 丹东市, its districts)
DUTY_ROLE = "unit_head"  # the duty leaders are the unit's leaders


def _desk_unit(actor: Actor) -> str:
    if level_of(actor.unit_code) not in DESK_LEVELS:
        raise RuleViolation(
            "办不成事反映窗口设在市、县（区）两级：请在所在市、县（区）的反映窗口登记", rule="escalation_desk"
        )
    return actor.unit_code


async def _owner(repository: EscalationRepository, scope: TenantScope, desk: str, today: date) -> int:
    owner = await repository.on_duty(scope, desk, today)
    if owner is None:
        raise RuleViolation(f"{desk} 今日（{today}）未安排值班领导，请先在值班表中安排后再登记", rule="no_duty_leader")
    return owner


async def register(
    session: AsyncSession, actor: Actor, cipher: TenantCipher, calendar: WorkingCalendar, data: EscalationCreate,
    now: datetime, request_id: str | None,
) -> Escalation:  # fmt: skip
    """登记: at the actor's desk, from a visit, a hotline call (with its recording) or a website message."""
    actor.require("escalations.register")
    if data.channel == "hotline" and not data.recording_ref:
        raise ValidationFailed("热线电话反映须填写录音编号", rule="recording_ref")
    return await _open(session, actor, cipher, calendar, _desk_unit(actor), data.channel, data.resident.name,
                       data.resident.phone, data.resident.id_number, data.summary, data.recording_ref, None, now,
                       request_id)  # fmt: skip


async def refer(
    session: AsyncSession, actor: Actor, cipher: TenantCipher, calendar: WorkingCalendar, data: Referral,
    now: datetime, request_id: str | None,
) -> Escalation:  # fmt: skip
    """“这件事办不成”: from a case the actor can see, to the desk of the county above its accepting unit, with the
    applicant as the resident."""
    actor.require("cases.read")
    file = await CaseRepository(session).load(actor.scope, data.case_id)
    case, applicant = file.case, file.applicant
    county = case.accepting_unit[:6]
    context = applicant_context(actor.scope.tenant_code)
    name = cipher.decrypt(applicant.name_cipher, context=context)
    phone = cipher.decrypt(applicant.phone_cipher, context=context) if applicant.phone_cipher else None
    number = cipher.decrypt(applicant.id_cipher, context=context)
    summary = f"办件 {case.receipt_no}：{data.summary}"
    return await _open(session, actor, cipher, calendar, county, "referral", name, phone, number, summary[:1000], None,
                       case.id, now, request_id)  # fmt: skip


async def _open(
    session: AsyncSession, actor: Actor, cipher: TenantCipher, calendar: WorkingCalendar, desk: str, channel: str,
    name: str, phone: str | None, id_number: str | None, summary: str, recording_ref: str | None,
    case_id: int | None, now: datetime, request_id: str | None,
) -> Escalation:  # fmt: skip
    scope = actor.scope
    name, phone = person_name(name, "反映人"), phone_number(phone)
    number = parse_resident_id(id_number).number if id_number else None
    summary = summary.strip()
    if not summary:
        raise ValidationFailed("请填写反映的问题", rule="summary")
    repository = EscalationRepository(session)
    today = local_date(now, scope.timezone)
    owner = await _owner(repository, scope, desk, today)
    sequence = await ReceiptCounterRepository(session).take(scope, f"E{desk}", today)
    reg_no = f"BBC{desk}-{today:%Y%m%d}-{sequence:04d}"
    context = escalation_context(scope.tenant_code, reg_no)
    escalation = Escalation(
        tenant_id=scope.tenant_id, reg_no=reg_no, query_code=new_query_code(), unit_code=desk, channel=channel,
        recording_ref=recording_ref, case_id=case_id, name_cipher=cipher.encrypt(name, context=context),
        name_masked=mask_name(name), phone_cipher=cipher.encrypt(phone, context=context) if phone else None,
        phone_masked=mask_phone(phone) if phone else None,
        id_cipher=cipher.encrypt(number, context=context) if number else None,
        id_masked=mask_id_number(number) if number else None, summary=summary, mode=None, tier=1,
        tier_due=calendar.add_working_days(today, 1), status=EscalationStatus.REGISTERED.value, owner_id=owner,
        registered_by=actor.staff_id, created_at=now, trace_length=1,
    )  # fmt: skip
    repository.add(escalation)
    await session.flush()
    told = inbox_rows(
        escalation, [owner], f"新的办不成事反映 {reg_no}", f"您是今日值班领导，首问负责：{summary[:200]}", now
    )
    sms = resident_sms(cipher, scope, escalation, RESIDENT_UPDATES["register"], now)
    await record(actor, session, escalation, "register", None, escalation.status, None,
                 {"channel": channel, "desk": desk, "owner_id": owner, "case_id": case_id}, now, request_id,
                 [*told, *sms])  # fmt: skip
    return escalation


# -- the duty roster --


async def roster(session: AsyncSession, actor: Actor, unit_code: str, first: date, last: date) -> list[RosterDay]:
    """Who is on duty, day by day: for the desk and handlers, and for the admin who keeps it."""
    if "escalations.roster" not in actor.permissions:
        actor.require("escalations.read")
    await UnitRepository(session).get(actor.scope, unit_code)  # NotFound outside the caller's scope
    rows = await EscalationRepository(session).roster(actor.scope, unit_code, first, last)
    usernames = await EscalationRepository(session).usernames([staff_id for _day, staff_id, _name in rows])
    return [RosterDay(day=day, staff=usernames.get(staff_id, ""), name=name) for day, staff_id, name in rows]


async def set_duty(session: AsyncSession, actor: Actor, unit_code: str, day: date, data: RosterWrite, now: datetime,
                   request_id: str | None) -> RosterDay:  # fmt: skip
    """排班: a leader of the desk's unit on duty that day (audited)."""
    actor.require("escalations.roster")
    await UnitRepository(session).get(actor.scope, unit_code)
    if level_of(unit_code) not in DESK_LEVELS:
        raise RuleViolation("值班表只在市、县（区）两级的反映窗口安排", rule="escalation_desk")
    staff = await StaffRepository(session).by_username(data.staff)
    repository = EscalationRepository(session)
    if (
        staff is None
        or staff.tenant_id != actor.tenant_id
        or staff.id not in await StaffRepository(session).holding(actor.scope, DUTY_ROLE, unit_code)
    ):
        raise NotFound(f"{unit_code} 没有名为 {data.staff} 的单位负责人：值班领导须是本单位的单位负责人")
    entry = await repository.roster_entry(actor.scope, unit_code, day)
    if entry is None:
        entry = DutyRoster(tenant_id=actor.tenant_id, unit_code=unit_code, day=day, staff_id=staff.id,
                           set_by=actor.username, set_at=now)  # fmt: skip
        session.add(entry)
    else:
        entry.staff_id, entry.set_by, entry.set_at = staff.id, actor.username, now
    await append(session, actor.audit_entry("escalation.roster", resource=f"unit:{unit_code}", request_id=request_id,
                                            detail={"day": day.isoformat(), "staff": data.staff}))  # fmt: skip
    await session.flush()
    return RosterDay(day=day, staff=data.staff, name=staff.display_name or staff.username)
