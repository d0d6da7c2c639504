"""Case verbs: create (收件), move along the transition table (受理、审批、出件…), and read.

Every transition is authorised four ways (DESIGN §6.2): the acting unit is the case's front
desk or its deciding unit; the unit holds an effective grant for the right the step needs; one
of the person's roles permits it; and, for items with 受审分离, the acceptor does not decide.
Each step writes its trace event and audit record in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.integrations.models import HrssRecord
from fuquan.integrations.partners.uscc import InvalidCreditCode, normalise_credit_code
from fuquan.integrations.repositories import HrssRecordRepository
from fuquan.integrations.shared_data import NotConfiguredProvider, SharedDataAnswer, SharedDataProvider
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases import shared
from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseMaterial
from fuquan.platform.cases.receipts import new_query_code, receipt_no
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.schemas import (
    CaseCreate,
    MaterialRequest,
)
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
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from fuquan.platform.core.personal import PersonalDataCipher, mask_name, mask_phone, parse_resident_id
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.tenants.repositories import UnitRepository

log = structlog.get_logger()

RIGHT_NAMES = {"accept": "受理", "decide": "审批"}
ASKING_AGAIN = frozenset({Action.SUBMIT, Action.RESUBMIT})  # steps that first re-ask partners for missing materials


@dataclass(frozen=True, slots=True)
class CaseContext:
    """What every case verb needs, assembled once per request."""

    session: AsyncSession
    actor: Actor
    catalog: Catalog
    registry: AuthorityRegistry
    cipher: PersonalDataCipher
    request_id: str | None
    shared_data: SharedDataProvider = field(default_factory=NotConfiguredProvider)
    session_maker: async_sessionmaker[AsyncSession] | None = None  # for work that must not wait for the request
    lookup_budget_seconds: float = 3.0
    lookup_concurrency: int = 4

    @property
    def tenant_id(self) -> int:
        return self.actor.tenant_id

    def today(self, now: datetime) -> date:
        return local_date(now, self.actor.scope.timezone)


def _digest(request: CaseCreate) -> str:
    body = json.dumps(msgspec.to_builtins(request), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


async def _require_rights(ctx: CaseContext, unit: str, item: CatalogItem, right: str, now: datetime) -> None:
    """组织权限 then 岗位权限, each refused with the rule it broke."""
    if not await authority.unit_may(ctx.session, ctx.registry, ctx.tenant_id, unit, item.code, right, now):
        raise PermissionDenied(
            f"{unit} 目前没有“{item.name}”的{RIGHT_NAMES[right]}权限（未获赋权或赋权已失效）", rule="unit_authority"
        )
    if not await authority.roles_permit(
        ctx.session, ctx.registry, ctx.tenant_id, unit, item.code, right, ctx.actor.roles, now
    ):
        raise PermissionDenied(f"您的岗位不能{RIGHT_NAMES[right]}“{item.name}”", rule="role_permission")


async def _person(ctx: CaseContext, number: str, name: str, phone: str | None, now: datetime) -> Applicant:
    """The applicant (or related person) row for a checked ID number: found by its blind index, else added."""
    tenant = ctx.actor.scope.tenant_code
    index = ctx.cipher.blind_index(number, tenant=tenant)
    repository = ApplicantRepository(ctx.session)
    found = await repository.by_index(ctx.tenant_id, index)
    if found is not None:
        return found
    context = f"{tenant}:applicant".encode()
    return await repository.add(
        Applicant(
            tenant_id=ctx.tenant_id,
            id_index=index,
            id_cipher=ctx.cipher.encrypt(number, context=context),
            id_masked=number[:4] + "*" * 10 + number[-4:],
            name_cipher=ctx.cipher.encrypt(name, context=context),
            name_masked=mask_name(name),
            phone_cipher=None if not phone else ctx.cipher.encrypt(phone, context=context),
            phone_masked=None if not phone else mask_phone(phone),
            created_at=now,
        )
    )


def _subjects(ctx: CaseContext, request: CaseCreate, now: datetime) -> shared.Subjects:
    """Checks every identifier on the request before anything is asked or written."""
    resident = parse_resident_id(request.applicant.id_number, today=ctx.today(now))
    related = request.related_person
    related_number = None
    if related is not None:
        try:
            related_number = parse_resident_id(related.id_number, today=ctx.today(now)).number
        except ValidationFailed as error:
            raise ValidationFailed(f"关系人{error.detail}", rule=error.rule) from error
        if related_number == resident.number:
            raise ValidationFailed("关系人不能是申请人本人", rule="related_person_is_applicant")
    credit_code = None
    if request.enterprise_credit_code is not None and request.enterprise_credit_code.strip():
        try:
            credit_code = normalise_credit_code(request.enterprise_credit_code)
        except InvalidCreditCode as error:
            raise ValidationFailed(str(error), rule="credit_code") from error
    return shared.Subjects(
        id_number=resident.number,
        name=request.applicant.name.strip(),
        person_index=ctx.cipher.blind_index(resident.number, tenant=ctx.actor.scope.tenant_code),
        related_id_number=related_number,
        related_name=None if related is None else related.name.strip(),
        credit_code=credit_code,
    )


def _materials(item: CatalogItem, now: datetime) -> list[CaseMaterial]:
    """Every material of the item's catalogue edition, missing until something satisfies it."""
    rows = []
    for index, material in enumerate(item.materials, start=1):
        spec = material.get("shared") or {}
        rows.append(
            CaseMaterial(
                index=index,
                name=material["name"],
                required=bool(material["required"]),
                state="missing",
                source=spec.get("source"),
                note=None,
                evidence={},
                updated_at=now,
            )
        )
    return rows


async def create_case(ctx: CaseContext, request: CaseCreate, idempotency_key: str | None) -> tuple[Case, bool]:
    """收件: open a case for a resident at the actor's own unit. Returns (case, created)."""
    ctx.actor.require("cases.create")
    cases = CaseRepository(ctx.session)
    digest = _digest(request)
    if idempotency_key:
        existing = await cases.by_idempotency_key(ctx.tenant_id, ctx.actor.staff_id, idempotency_key)
        if existing is not None:
            if existing.request_digest != digest:
                raise ValidationFailed("同一个 Idempotency-Key 已用于内容不同的申请", rule="idempotency_key_reused")
            return existing, False
    now = utcnow()
    unit = await UnitRepository(ctx.session).get(ctx.actor.scope, request.unit)
    if unit.code != ctx.actor.unit_code:
        raise PermissionDenied("只能在本人所在的服务点收件", rule="own_unit_only")
    item = ctx.catalog.get(request.item)
    await _require_rights(ctx, unit.code, item, "accept", now)
    subjects = _subjects(ctx, request, now)
    day = ctx.today(now)
    number = receipt_no(unit.code, day, await shared.reserve_sequence(ctx, unit.code, day))
    # partners first, outside any lock; the case's own writes follow
    answers = await shared.ask_partners(ctx, item, range(1, len(item.materials) + 1), number, subjects, day)
    applicant = await _person(ctx, subjects.id_number, subjects.name, request.applicant.phone, now)
    related = None
    if subjects.related_id_number is not None:
        related = await _person(ctx, subjects.related_id_number, subjects.related_name or "", None, now)
    case = await cases.add(
        Case(
            tenant_id=ctx.tenant_id,
            receipt_no=number,
            query_code=new_query_code(),
            item_code=item.code,
            catalog_edition=ctx.catalog.edition.number,
            applicant_id=applicant.id,
            related_person_id=None if related is None else related.id,
            enterprise_credit_code=subjects.credit_code,
            accepting_unit=unit.code,
            status=Status.DRAFT,
            form=request.form,
            created_by=ctx.actor.staff_id,
            created_at=now,
            promised_days=item.promised_days,
            idempotency_key=idempotency_key,
            request_digest=digest,
        ),
        _materials(item, now),
    )
    shared.apply_answers(ctx, case, await cases.materials(case.id), answers, item, now)
    await _record(ctx, case, "create", None, Status.DRAFT, None, now, {"item": item.code, **_tally(answers)})
    log.info("case_created", case_id=case.id, item=item.code, unit=unit.code)
    return case, True


def _tally(answers: list[tuple[int, SharedDataAnswer]]) -> dict[str, Any]:
    """What the trace remembers of the partner lookups: how many were satisfied, which sources failed."""
    if not answers:
        return {}
    failed = sorted({answer.source for _index, answer in answers if answer.status == "unavailable"})
    satisfied = sum(1 for _index, answer in answers if answer.satisfied)
    return {"shared_satisfied": satisfied, "shared_asked": len(answers), "sources_unavailable": failed}


async def _subjects_of(ctx: CaseContext, case: Case) -> shared.Subjects:
    """The identifiers of an existing case, decrypted for the partner questions only."""
    repository = ApplicantRepository(ctx.session)
    context = f"{ctx.actor.scope.tenant_code}:applicant".encode()
    applicant = await repository.get(case.applicant_id)
    related = None if case.related_person_id is None else await repository.get(case.related_person_id)
    return shared.Subjects(
        id_number=ctx.cipher.decrypt(applicant.id_cipher, context=context),
        name=ctx.cipher.decrypt(applicant.name_cipher, context=context),
        person_index=applicant.id_index,
        related_id_number=None if related is None else ctx.cipher.decrypt(related.id_cipher, context=context),
        related_name=None if related is None else ctx.cipher.decrypt(related.name_cipher, context=context),
        credit_code=case.enterprise_credit_code,
    )


async def _ask_again(ctx: CaseContext, case_id: int) -> tuple[list[tuple[int, SharedDataAnswer]], datetime]:
    """At submission: ask again for materials still missing that a partner could supply (say it was
    down at creation). Runs before the case is locked, so the lock is never held during a call."""
    now = utcnow()
    case = await CaseRepository(ctx.session).get(ctx.actor.scope, case_id)
    if case is None or case.status not in (Status.DRAFT, Status.AWAITING_SUPPLEMENT):
        return [], now
    item = ctx.catalog.get(case.item_code)
    materials = await CaseRepository(ctx.session).materials(case.id)
    indexes = [m.index for m in materials if m.state == "missing" and shared.worth_asking_again(item, m)]
    if not indexes:
        return [], now
    subjects = await _subjects_of(ctx, case)
    return await shared.ask_partners(ctx, item, indexes, case.receipt_no, subjects, ctx.today(now)), now


async def _record(
    ctx: CaseContext,
    case: Case,
    action: str,
    source: str | None,
    target: str,
    reason: str | None,
    now: datetime,
    detail: dict[str, Any],
) -> None:
    """The trace event (全程留痕) and the audit record of one step, in the caller's transaction."""
    cases = CaseRepository(ctx.session)
    cases.add_event(
        CaseEvent(
            case_id=case.id, tenant_id=ctx.tenant_id, seq=await cases.next_event_seq(case.id), at=now,
            actor_id=ctx.actor.staff_id, actor_name=ctx.actor.display_name or ctx.actor.username,
            role=ctx.actor.role_label, unit=ctx.actor.unit_code, action=action, from_status=source,
            to_status=target, reason=reason, detail=detail,
        )
    )  # fmt: skip
    entry = ctx.actor.audit_entry(
        f"case.{action}", resource=f"case:{case.id}", request_id=ctx.request_id,
        detail={"receipt_no": case.receipt_no, "from": source, "to": target, **detail},
    )  # fmt: skip
    await append(ctx.session, entry)


def _desk(case: Case, transition: Transition) -> str:
    """Front-desk steps happen where the case was accepted; back-office steps where it is routed."""
    if transition.side == "front":
        return case.accepting_unit
    if case.routed_to is None:
        raise RuleViolation("办件尚未确定审批单位", rule="not_routed")
    return case.routed_to


async def _route(ctx: CaseContext, case: Case, item: CatalogItem, now: datetime) -> str:
    target = await authority.nearest_holder(ctx.session, ctx.registry, ctx.tenant_id, case.accepting_unit,
                                            item.code, "decide", now)  # fmt: skip
    if target is None:
        raise RuleViolation(f"本级及上级单位目前均无“{item.name}”的审批权限，暂不能受理", rule="no_deciding_unit")
    return target


def _missing_required(materials: list[CaseMaterial]) -> list[str]:
    return [m.name for m in materials if m.required and m.state == "missing"]


async def transition(
    ctx: CaseContext, case_id: int, action: Action, reason: str | None, version: int, calendar: WorkingCalendar
) -> Case:
    """Move a case one step along the table, if every rule allows it."""
    ctx.actor.require("cases.handle")
    answers, asked_at = await _ask_again(ctx, case_id) if action in ASKING_AGAIN else ([], utcnow())
    cases = CaseRepository(ctx.session)
    case = await cases.get(ctx.actor.scope, case_id, for_update=True)
    if case is None:
        raise NotFound(f"办件 #{case_id} 不存在或不在您的管辖范围内")
    if version != case.version:  # before the table: a stale request is stale, whatever state it finds
        raise Conflict(
            f"办件已被他人更新（当前版本 {case.version}，您提交的是 {version}），请刷新后重试",
            rule="stale_version", current_version=case.version,
        )  # fmt: skip
    step = transition_for(Status(case.status), action)
    reason = (reason or "").strip() or None
    if step.needs_reason and reason is None:
        raise ValidationFailed(f"{ACTION_NAMES[action]}需要填写理由", rule="reason_required")
    desk = _desk(case, step)
    if ctx.actor.unit_code != desk:
        raise PermissionDenied(f"该步骤须由 {desk} 办理", rule="wrong_desk")
    item = ctx.catalog.get(case.item_code)
    now = utcnow()
    await _require_rights(ctx, desk, item, step.right, now)
    if item.separation and step.right == "decide" and case.acceptor_id == ctx.actor.staff_id:
        raise PermissionDenied("该事项实行受审分离：受理人不能审批自己受理的办件", rule="separation_of_duties")

    source = Status(case.status)
    if answers:
        shared.apply_answers(ctx, case, await cases.materials(case.id), answers, item, asked_at)
    detail = await _effects(ctx, case, item, action, calendar, now)
    if answers:
        detail = {**detail, **_tally(answers)}
    target = target_of(step, Status(case.suspended_from) if case.suspended_from else None)
    if action == Action.RESUME:
        case.suspended_from = None
    case.status = target
    await ctx.session.flush()  # the version check happens here: a concurrent step raises StaleDataError
    await _record(ctx, case, action.value, source.value, target.value, reason, now, detail)
    log.info("case_transitioned", case_id=case.id, action=action.value, to=target.value)
    return case


async def _effects(
    ctx: CaseContext, case: Case, item: CatalogItem, action: Action, calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """What a step does besides changing the status; returns what the trace should remember."""
    cases = CaseRepository(ctx.session)
    today = ctx.today(now)
    detail: dict[str, Any] = {}
    source = Status(case.status)
    if action == Action.ACCEPT:
        missing = _missing_required(await cases.materials(case.id))
        if missing:
            raise RuleViolation(f"以下必需材料仍缺：{'、'.join(missing)}", rule="materials_missing", missing=missing)
        case.routed_to = await _route(ctx, case, item, now)
        case.acceptor_id, case.accepted_at, case.accepted_on = ctx.actor.staff_id, now, today
        case.deadline = calendar.add_working_days(today, item.promised_days)
        detail = {"routed_to": case.routed_to, "deadline": case.deadline.isoformat()}
    elif action == Action.REROUTE:
        previous, case.routed_to = case.routed_to, await _route(ctx, case, item, now)
        case.decider_id = None
        detail = {"from_unit": previous, "to_unit": case.routed_to}
    elif action in (Action.REQUEST_SUPPLEMENT, Action.SUSPEND):
        cases.open_pause(case.id, "supplement" if action == Action.REQUEST_SUPPLEMENT else "special", today)
        if action == Action.SUSPEND:
            case.suspended_from = case.status
    elif action in (Action.RESUBMIT, Action.RESUME):
        await cases.close_pause(case.id, today)
    elif action == Action.ASSIGN:
        case.decider_id = ctx.actor.staff_id
    elif action in (Action.APPROVE, Action.DENY):
        case.decider_id, case.decided_at = ctx.actor.staff_id, now
    elif action == Action.ISSUE:
        case.issued_at = now
        if source == Status.APPROVED and item.produces:
            detail = await _record_outcome(ctx, case, item.produces, today, now)
    elif action == Action.CLOSE:
        case.closed_at = now
    elif action == Action.WITHDRAW:
        case.closed_at = now  # the clock of a withdrawn case stops here
        if source in CLOCK_STOPPED:
            await cases.close_pause(case.id, today)
    return detail


async def _record_outcome(ctx: CaseContext, case: Case, kind: str, today: date, now: datetime) -> dict[str, Any]:
    """An approved registration or recognition, once issued, joins Fuquan's own records (人社自有数据),
    so a later case's material is satisfied from it. 就业登记 ends an open 失业登记 and vice versa."""
    repository = HrssRecordRepository(ctx.session)
    ends = {"employment_registration": "unemployment_registration",
            "unemployment_registration": "employment_registration"}.get(kind)  # fmt: skip
    with ctx.session.no_autoflush:  # the case is flushed once, with its new status (one version step)
        applicant = await ApplicantRepository(ctx.session).get(case.applicant_id)
        records = await repository.for_person(ctx.tenant_id, applicant.id_index)
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


async def set_material(
    ctx: CaseContext, case_id: int, index: int, request: MaterialRequest, calendar: WorkingCalendar
) -> Case:
    """告知承诺 or 容缺 for one material, where the catalogue allows it."""
    ctx.actor.require("cases.handle")
    case, material = await _material(ctx, case_id, index)
    item_material = _catalog_material(ctx, case, index)
    now = utcnow()
    if request.pledge and request.defer_until is None:
        if not item_material.get("pledge"):
            raise RuleViolation(f"“{material.name}”不适用告知承诺", rule="pledge_not_allowed")
        material.state, material.note, material.defer_until = "pledged", "申请人已签署告知承诺书", None
    elif request.defer_until is not None and not request.pledge:
        if not item_material.get("deferrable"):
            raise RuleViolation(f"“{material.name}”不适用容缺受理", rule="deferral_not_allowed")
        today = ctx.today(now)
        latest = case.deadline or calendar.add_working_days(today, max(case.promised_days, 1))
        if not today < request.defer_until <= latest:
            raise RuleViolation(f"容缺补交日期须在今天之后、且不晚于 {latest.isoformat()}", rule="deferral_date")
        material.state, material.defer_until = "deferred", request.defer_until
        material.note = f"容缺受理，承诺于 {request.defer_until.isoformat()} 前补交"
    else:
        raise ValidationFailed("请只选择一种：告知承诺（pledge: true）或容缺（defer_until）", rule="material_choice")
    material.updated_at = now
    await _record(ctx, case, "material", case.status, case.status, None, now,
                  {"index": index, "state": material.state})  # fmt: skip
    return case


async def attach_upload(ctx: CaseContext, case_id: int, index: int, stored: dict[str, Any]) -> Case:
    """The applicant's photo or PDF of one material, already checked and stored."""
    ctx.actor.require("cases.handle")
    case, material = await _material(ctx, case_id, index)
    now = utcnow()
    material.state, material.defer_until, material.note = "uploaded", None, "已上传"
    material.file_key, material.sha256 = stored["key"], stored["sha256"]
    material.size, material.content_type = stored["size"], stored["content_type"]
    material.updated_at = now
    await _record(ctx, case, "material", case.status, case.status, None, now,
                  {"index": index, "state": "uploaded", "sha256": stored["sha256"]})  # fmt: skip
    return case


async def _material(ctx: CaseContext, case_id: int, index: int) -> tuple[Case, CaseMaterial]:
    """The case (locked, and its version bumped, so a material change and a step on the same case cannot
    interleave) and one of its materials, if the actor's front desk may take materials for it now."""
    case = await CaseRepository(ctx.session).get(ctx.actor.scope, case_id, for_update=True)
    if case is None:
        raise NotFound(f"办件 #{case_id} 不存在或不在您的管辖范围内")
    flag_modified(case, "status")  # an UPDATE … WHERE version = …: a concurrent step makes one of us fail
    if case.status not in (Status.DRAFT, Status.SUBMITTED, Status.AWAITING_SUPPLEMENT):
        raise Conflict("办件已受理或已结束，不能再更改材料", rule="materials_locked")
    if ctx.actor.unit_code != case.accepting_unit:
        raise PermissionDenied(f"材料须由受理单位 {case.accepting_unit} 收取", rule="wrong_desk")
    await _require_rights(ctx, case.accepting_unit, ctx.catalog.get(case.item_code), "accept", utcnow())
    materials = {m.index: m for m in await CaseRepository(ctx.session).materials(case.id)}
    if index not in materials:
        raise NotFound(f"该事项没有第 {index} 项材料")
    return case, materials[index]


def _catalog_material(ctx: CaseContext, case: Case, index: int) -> dict[str, Any]:
    item = ctx.catalog.get(case.item_code)
    return dict(item.materials[index - 1])


async def context_calendar(session: AsyncSession, tenant_id: int) -> WorkingCalendar:
    return await calendar_for(session, tenant_id)


async def reveal_applicant(ctx: CaseContext, case_id: int, purpose: str) -> dict[str, str | None]:
    """查看完整身份信息: the applicant's full ID number, name and phone, for a stated purpose (audited)."""
    ctx.actor.require("applicants.reveal")
    case = await CaseRepository(ctx.session).get(ctx.actor.scope, case_id)
    if case is None:
        raise NotFound(f"办件 #{case_id} 不存在或不在您的管辖范围内")
    applicant = await ApplicantRepository(ctx.session).get(case.applicant_id)
    context = f"{ctx.actor.scope.tenant_code}:applicant".encode()
    revealed = {
        "id_number": ctx.cipher.decrypt(applicant.id_cipher, context=context),
        "name": ctx.cipher.decrypt(applicant.name_cipher, context=context),
        "phone": None
        if applicant.phone_cipher is None
        else ctx.cipher.decrypt(applicant.phone_cipher, context=context),
    }
    entry = ctx.actor.audit_entry("applicant.reveal", resource=f"case:{case.id}", request_id=ctx.request_id)
    await append(ctx.session, _with_purpose(entry, purpose))
    log.info("applicant_revealed", case_id=case.id)
    return revealed


def _with_purpose(entry: AuditEntry, purpose: str) -> AuditEntry:
    return AuditEntry(**{**{name: getattr(entry, name) for name in AuditEntry.__slots__}, "purpose": purpose})
