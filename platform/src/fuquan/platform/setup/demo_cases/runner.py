"""Running the plans through the real case services, then moving each case's timeline into the past (see
the package's docstring)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases import services
from fuquan.platform.cases.models import Case, CaseEvent, CaseMaterial, CasePause
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository, ReceiptCounterRepository
from fuquan.platform.cases.schemas import ApplicantWrite, CaseCreate, MaterialRequest
from fuquan.platform.cases.services import reads
from fuquan.platform.cases.services.alarms import alarms_of, special_procedure_limit
from fuquan.platform.cases.services.receipts import receipt_no
from fuquan.platform.cases.state_machine import Action, Status
from fuquan.platform.catalog import services as catalog_services
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import session_scope
from fuquan.platform.core.files import LocalFileStore, sniff_upload
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.keys.master import MasterKeys
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.setup.demo import DEMO_PASSWORD, DEMO_STAFF, PILOT_START, DemoStaff
from fuquan.platform.setup.demo_cases import certificates
from fuquan.platform.setup.demo_cases.people import (
    BATCH,
    CLOCKED,
    DEFERRED_NOTE,
    DESKS,
    EXTRA_STAFF,
    MATERIAL_STEPS,
    PAUSE_CLOSE,
    PAUSE_OPEN,
    REQUEST_ID,
    TENANT,
    WINDOW_DAYS,
    example_form,
    scan_png,
)
from fuquan.platform.setup.demo_cases.plans import CasePlan, Days, Step, plan_cases, schedule
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import TenantScope, scope_for, whole_tenant

log = structlog.get_logger()


# -- running the plans through the services ---------------------------------------------------------------


@dataclass(slots=True)
class _Run:
    """What every batch needs: who is who, the calendar, the stored photos."""

    scope: TenantScope  # the whole tenant
    catalog: Catalog
    registry: AuthorityRegistry
    cipher: TenantCipher
    masters: MasterKeys
    calendar: WorkingCalendar
    actors: dict[str, Actor]
    approvers: dict[str, list[str]]
    heads: dict[str, str]  # unit → its head's username
    photos: dict[str, dict[str, Any]]
    store: LocalFileStore
    today: date
    seen_applicants: set[int] = field(default_factory=set)
    signals: Counter[str] = field(default_factory=Counter)

    async def photo(self, name: str) -> dict[str, Any]:
        if name not in self.photos:
            data = scan_png(name)
            content_type = sniff_upload(data, "image/png", f"{name}.png")  # the same check as an upload
            self.photos[name] = msgspec.to_builtins(await self.store.put(data, content_type=content_type))
        return self.photos[name]


async def _ensure_staff(session: AsyncSession) -> list[DemoStaff]:
    added = []
    repository = StaffRepository(session)
    for member in EXTRA_STAFF:
        if await repository.by_username(member.username) is None:
            await add_staff(
                session, username=member.username, tenant_code=member.tenant, unit_code=member.unit,
                roles=[member.role], password=DEMO_PASSWORD, display_name=member.display_name, added_by="demo",
            )  # fmt: skip
            added.append(member)
    return added


async def _actors(session: AsyncSession, tenant_code: str) -> dict[str, Actor]:
    tenant = await TenantRepository(session).by_code(tenant_code)
    assert tenant is not None
    actors = {}
    for member in (*DEMO_STAFF, *EXTRA_STAFF):
        if member.tenant != tenant_code:
            continue
        staff = await StaffRepository(session).by_username(member.username)
        assert staff is not None, "demo staff are added before demo cases"
        roles = frozenset(role.role for role in staff.roles) or frozenset({member.role})
        scope = scope_for(tenant.id, tenant.code, staff.unit_code, tenant.timezone)
        actors[member.username] = Actor(staff.id, staff.username, staff.display_name, staff.unit_code, roles, scope)
    return actors


async def _desk_items(
    session: AsyncSession, run: _Run, registry: AuthorityRegistry, now: datetime
) -> dict[str, list[CatalogItem]]:
    """The items each desk may accept today, by the grants actually in force."""
    found: dict[str, list[CatalogItem]] = {}
    for desk in DESKS:
        found[desk.username] = [
            item
            for item in run.catalog.items.values()
            if await authority.unit_may(session, registry, run.scope, desk.unit, item.code, "accept", now)
        ]
    return found


async def _head_items(
    session: AsyncSession, run: _Run, registry: AuthorityRegistry, desk_items: dict[str, list[CatalogItem]],
    now: datetime,
) -> dict[str, list[CatalogItem]]:  # fmt: skip
    """What each desk accepts that a unit with a demo head (who alone may revoke) decides."""
    found: dict[str, list[CatalogItem]] = {}
    for desk in DESKS:
        found[desk.username] = [
            item for item in desk_items[desk.username]
            if await authority.nearest_holder(session, registry, run.scope, desk.unit, item.code, "decide", now)
            in run.heads
        ]  # fmt: skip
    return found


async def _execute(session: AsyncSession, run: _Run, plan: CasePlan) -> Case:
    """Drive one plan through the case services, step by step, as the staff who would do each step."""

    def context(username: str) -> services.CaseContext:
        return services.CaseContext(
            session,
            run.actors[username],
            run.catalog,
            run.registry,
            run.cipher,
            REQUEST_ID,
            run.calendar,
            run.masters,
        )

    front = context(plan.desk.username)
    applicant = ApplicantWrite(id_number=plan.resident.id_number, name=plan.resident.name, phone=plan.resident.phone)
    rng = random.Random(plan.resident.id_number)  # noqa: S311 - reproducible demo data, not a secret
    form = example_form(plan.item.fields, plan.resident.id_number, rng, run.today)
    file, _created = await services.create_case(
        front, CaseCreate(item=plan.item.code, unit=plan.desk.unit, applicant=applicant, form=form), None
    )
    case = file.case
    for step in plan.steps[1:]:
        if step.kind == "upload":
            assert step.index is not None
            name = plan.item.materials[step.index - 1]["name"]
            await services.attach_upload(front, case.id, step.index, await run.photo(name))
        elif step.kind == "pledge":
            assert step.index is not None
            await services.set_material(front, case.id, step.index, MaterialRequest(pledge=True))
        elif step.kind == "defer":
            assert step.index is not None
            until = run.calendar.add_working_days(run.today, 1)  # re-dated by _backdate
            await services.set_material(front, case.id, step.index, MaterialRequest(defer_until=until))
        else:
            if step.side == "front":
                ctx = front
            elif step.side == "head":
                assert case.routed_to is not None
                ctx = context(run.heads[case.routed_to])
            else:
                assert case.routed_to is not None
                staff = run.approvers[case.routed_to]
                ctx = context(staff[plan.approver_pick % len(staff)])
            case = (await services.transition(ctx, case.id, Action(step.kind), step.reason, case.version)).case
    return case


def _stamp(step: Step) -> datetime:
    assert step.at is not None
    return step.at


async def _backdate(session: AsyncSession, run: _Run, batch: list[tuple[CasePlan, Case]]) -> None:
    """Move each case's timeline into the past, consistently, in one place (see the module docstring)."""
    repository = CaseRepository(session)
    # receipt numbers first, from the per-unit, per-day counter, in the order the cases entered
    numbers = []
    for plan, case in batch:
        entered = local_date(plan.created_at, run.scope.timezone)
        sequence = await ReceiptCounterRepository(session).take(run.scope, case.accepting_unit, entered)
        numbers.append(receipt_no(case.accepting_unit, entered, sequence))
    ids = [case.id for _plan, case in batch]
    events_of: dict[int, list[CaseEvent]] = {case_id: [] for case_id in ids}
    for event in await session.scalars(
        select(CaseEvent).where(CaseEvent.case_id.in_(ids)).order_by(CaseEvent.case_id, CaseEvent.seq)
    ):
        events_of[event.case_id].append(event)
    pauses_of = await repository.pauses(ids)
    materials_of = await repository.materials_of(ids)
    applicants = await ApplicantRepository(session).many([case.applicant_id for _plan, case in batch])
    today = local_date(utcnow(), run.scope.timezone)
    for (plan, case), number in zip(batch, numbers, strict=True):
        case.receipt_no = number
        _backdate_case(run, plan, case, events_of[case.id], pauses_of[case.id], materials_of[case.id])
        await certificates.redate(session, run.scope, run.cipher, run.masters, case, events_of[case.id])
        if case.applicant_id not in run.seen_applicants:  # first seen with its earliest case
            run.seen_applicants.add(case.applicant_id)
            applicants[case.applicant_id].created_at = case.created_at
        if case.status in CLOCKED:
            run.signals[reads.timing(case, pauses_of[case.id], run.calendar, today, run.scope.timezone).signal] += 1


def _backdate_case(
    run: _Run, plan: CasePlan, case: Case, events: list[CaseEvent], pauses: list[CasePause],
    materials: list[CaseMaterial],
) -> None:  # fmt: skip
    calendar, tz = run.calendar, run.scope.timezone
    assert len(events) == len(plan.steps), "one trace event per step"
    for event, step in zip(events, plan.steps, strict=True):
        assert event.action == ("material" if step.kind in MATERIAL_STEPS else step.kind)
        event.at = _stamp(step)
    last = {step.kind: _stamp(step) for step in plan.steps}
    case.created_at = plan.created_at
    if Action.ACCEPT.value in last:
        case.accepted_at = last[Action.ACCEPT.value]
        case.accepted_on = local_date(case.accepted_at, tz)
        case.deadline = calendar.add_working_days(case.accepted_on, case.promised_days)
        for event in events:
            if event.action == Action.ACCEPT.value:
                event.detail = {**event.detail, "deadline": case.deadline.isoformat()}
    case.decided_at = last.get(Action.APPROVE.value) or last.get(Action.DENY.value)
    case.issued_at = last.get(Action.ISSUE.value)
    case.closed_at = last.get(Action.CLOSE.value)

    # pauses (补正, 特别程序), in the order the steps opened them; a withdrawal ends an open one
    spans: list[tuple[date, date | None]] = []
    for step in plan.steps:
        day = local_date(_stamp(step), tz)
        if step.kind in PAUSE_OPEN:
            spans.append((day, None))
        elif (step.kind in PAUSE_CLOSE or step.kind == Action.WITHDRAW.value) and spans and spans[-1][1] is None:
            spans[-1] = (spans[-1][0], day)
    assert len(pauses) == len(spans), "one pause per supplement or special procedure"
    for pause, (started, ended) in zip(pauses, spans, strict=True):
        pause.started_on, pause.ended_on = started, ended
        pause.limit_on = special_procedure_limit(calendar, started) if pause.kind == "special" else None

    # the warning dates, as the steps would have set them on those days
    submitted = [_stamp(step) for step in plan.steps if step.kind in (Action.SUBMIT.value, Action.RESUBMIT.value)]
    decided_on = local_date(case.decided_at, tz) if case.decided_at else None
    alarms = alarms_of(case, pauses, calendar, local_date(submitted[-1], tz) if submitted else None, decided_on)
    case.yellow_on, case.red_on, case.accept_by = alarms["yellow_on"], alarms["red_on"], alarms["accept_by"]
    case.working_days_used = alarms.get("working_days_used")

    # materials: when each was last touched; a deferral's due date counted from the back-dated day
    touched = {step.index: step for step in plan.steps if step.kind in MATERIAL_STEPS}
    for material in materials:
        last_touch = touched.get(material.index)
        material.updated_at = _stamp(last_touch) if last_touch else case.created_at
        if material.state == "deferred" and last_touch is not None:
            deferred_on = local_date(_stamp(last_touch), tz)
            material.defer_until = calendar.add_working_days(deferred_on, max(1, case.promised_days // 2))
            material.note = DEFERRED_NOTE.format(day=material.defer_until.isoformat())


async def add_demo_cases(
    session_maker: async_sessionmaker[AsyncSession],
    registry: AuthorityRegistry,
    keys: KeyRing,
    data_dir: Path,
    progress: Callable[[str], None],
    *,
    count: int = 300,
    seed: int = 2026,
) -> dict[str, int]:
    """Create ``count`` demo cases in tenant 64 (after ``add_demo_grants``); return how many per status.

    Deterministic for a given ``seed`` and day: the plan depends only on the seed, the working-day
    calendar and whether it is past noon today (the query codes are random, as for live cases).
    Cases are created in the order they entered, so ids and receipt numbers follow time. Extra demo
    staff (``EXTRA_STAFF``) are enrolled if missing. If the tenant already has cases, nothing is
    added and ``{}`` is returned.
    """
    now = utcnow()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    store = LocalFileStore(data_dir / "files")
    async with session_scope(session_maker) as session:
        tenant = await TenantRepository(session).by_code(TENANT)
        assert tenant is not None, "the tenant is seeded before demo cases"
        existing = await session.scalar(select(func.count()).select_from(Case).where(Case.tenant_id == tenant.id))
        if existing:
            progress(f"已有 {existing} 件办件，不再生成演示办件")
            return {}
        added = await _ensure_staff(session)
        if added:
            progress(f"增设演示审批人员等 {len(added)} 人：{'、'.join(m.username for m in added)}")
        actors = await _actors(session, TENANT)
        approvers: dict[str, list[str]] = {}
        heads: dict[str, str] = {}
        for member in (*DEMO_STAFF, *EXTRA_STAFF):
            if member.tenant == TENANT and member.role == "approver":
                approvers.setdefault(member.unit, []).append(member.username)
            elif member.tenant == TENANT and member.role == "unit_head":
                heads[member.unit] = member.username
        scope = whole_tenant(tenant)
        run = _Run(
            scope=scope, catalog=await catalog_services.current(session, scope), registry=registry,
            cipher=await keys.cipher(scope, session), masters=keys.masters,
            calendar=await calendar_for(session, scope), actors=actors,
            approvers=approvers, heads=heads, photos={}, store=store, today=local_date(now, tenant.timezone),
        )  # fmt: skip
        desk_items = await _desk_items(session, run, registry, now)
        head_items = await _head_items(session, run, registry, desk_items, now)
        if not all(desk_items.values()):
            idle = [desk.username for desk in DESKS if not desk_items[desk.username]]
            raise RuntimeError(f"demo desks {', '.join(idle)} hold no acceptance grant: run add_demo_grants first")

    earliest = max(run.today - timedelta(days=WINDOW_DAYS), PILOT_START)
    days = Days(run.calendar, run.today, earliest, now.astimezone(ZoneInfo(run.scope.timezone)))
    plans = plan_cases(rng, count, desk_items, days, head_items)
    for plan in plans:
        schedule(plan, days, rng, run.scope.timezone, now)
    plans.sort(key=lambda p: p.created_at)
    progress(f"生成演示办件 {len(plans)} 件（{days.day(days.n_max).isoformat()} 起，时间线已前移，见审计记录）")

    counts: Counter[str] = Counter()
    for start in range(0, len(plans), BATCH):
        async with session_scope(session_maker) as session:
            batch = []
            for plan in plans[start : start + BATCH]:
                case = await _execute(session, run, plan)
                assert case.status == plan.target, f"planned {plan.target}, got {case.status}"
                batch.append((plan, case))
                counts[str(case.status)] += 1
            await _backdate(session, run, batch)
            if start + BATCH >= len(plans):
                await append(session, AuditEntry(
                    action="demo.cases_backdated", tenant_id=run.scope.tenant_id, actor="demo", request_id=REQUEST_ID,
                    detail={"cases": len(plans), "seed": seed, "from": plans[0].created_at.isoformat(),
                            "to": plans[-1].created_at.isoformat(),
                            "note": "演示数据：办件时间线已整体前移（审计记录时间为实际生成时间）"},
                ))  # fmt: skip
        progress(f"已生成 {min(start + BATCH, len(plans))}/{len(plans)} 件")
    signals = run.signals
    progress(f"在办件期限预警：正常 {signals['normal']}，黄灯 {signals['yellow']}，红灯 {signals['red']}")
    log.info("demo_cases_created", cases=len(plans), **{str(k): v for k, v in counts.items()})
    return {status.value: counts[status.value] for status in Status}


__all__ = ["DESKS", "EXTRA_STAFF", "add_demo_cases", "scan_png"]
