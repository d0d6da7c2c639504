"""What the case page (办件详情) shows: the case as the API reads it, turned into what a clerk reads.

Nothing here decides anything: which actions are offered is a courtesy filter (the status's
transitions, at the viewer's own desk, that the viewer's roles permit there); the server's rules
(``cases.services.transition``) still decide when a form is posted, and their message is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.integrations.shared_data import SOURCE_LABELS, describe
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.cases.models import Case, CaseEvent
from fuquan.platform.cases.schemas import CaseRead, DeadlineRead, EvidenceRead
from fuquan.platform.cases.services import CaseContext, forms, reads
from fuquan.platform.cases.services.documents import (
    AVAILABLE,
    MATERIAL_STATE_LABELS,
    material_label,
    material_tone,
)
from fuquan.platform.cases.services.extension import EXTEND, EXTENDABLE
from fuquan.platform.cases.services.workflow import HEAD_STEPS
from fuquan.platform.cases.state_machine import (
    ACTION_NAMES,
    STATUS_NAMES,
    Action,
    Status,
    allowed_actions,
    transition_for,
)
from fuquan.platform.certificates import services as certificates
from fuquan.platform.certificates.schemas import CertificateRead
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.timeutil import local_time, utcnow
from fuquan.platform.documents import DocumentKind
from fuquan.platform.documents.wording import TITLES
from fuquan.platform.web.forms import whole_number
from fuquan.tenants.services import unit_names

EVENT_NAMES = {"create": "收件（新建办件）", "material": "材料更新", **{a.value: n for a, n in ACTION_NAMES.items()}}
EVIDENCE_STATUS = {
    "satisfied": "核验通过",
    "not_satisfied": "核验未通过",
    "not_found": "未查到记录",
    "unavailable": "数据源暂不可用",
    "not_configured": "数据源未配置",
}
SIDE_NAMES = {"front": "前台（受理窗口）", "back": "后台（审批）"}
# the documents a desk prints, in the order a case meets them
DOCUMENT_ORDER: tuple[DocumentKind, ...] = (
    "receipt", "supplement_notice", "refusal_notice", "special_procedure_notice", "extension_notice",
    "result_notice",
)  # fmt: skip
# 特别程序 kinds (DESIGN §2): the reason names which one, so the trace and the notice say it
PROCEDURES = ("专家评审", "现场核查", "听证", "公示", "检验检测", "其他特别程序")
MAX_REASON = 1000  # the trace's reason column, as the API's TransitionRequest
MAX_PROCEDURE_DAYS = 365


def status_name(status: str | None) -> str:
    try:
        return STATUS_NAMES[Status(status or "")]
    except ValueError:
        return status or ""


@dataclass(frozen=True, slots=True)
class SignalView:
    """The deadline bar (办理时限): a colour class, and the same state in words (never colour alone)."""

    css: str
    label: str
    text: str
    used: int
    promised: int
    percent: int


def signal_view(timing: DeadlineRead) -> SignalView:
    promised = timing.promised_days
    if timing.clock == "not_started" or timing.working_days_used is None:
        text = "即办件，受理后当场办结" if promised == 0 else f"受理后开始计时，承诺 {promised} 个工作日内办结"
        return SignalView("signal-none", "未开始计时", text, 0, promised, 0)
    used, left = timing.working_days_used, timing.working_days_left or 0
    css, label = {"normal": ("signal-green", "正常"), "yellow": ("signal-yellow", "预警：即将到期"),
                  "red": ("signal-red", "逾期")}[timing.signal]  # fmt: skip
    if left < 0:
        text = f"已用 {used} 个工作日，超出承诺时限 {-left} 个工作日"
    elif promised == 0:
        text = f"即办件，已用 {used} 个工作日"
    else:
        text = f"已用 {used} 个工作日，剩余 {left} 个工作日"
    if timing.deadline is not None:
        text += f"（承诺 {promised} 个工作日，截止 {timing.deadline.isoformat()}）"
    if timing.clock == "stopped":
        label += " · 暂停计时"
        text += "；特别程序期间暂停计时，不计入办理时限"
    elif timing.clock == "finished":
        label += " · 已办结"
    percent = 100 if promised == 0 else min(100, round(used * 100 / promised))
    return SignalView(css, label, text, used, promised, percent)


@dataclass(frozen=True, slots=True)
class ActionView:
    action: str
    name: str
    side: str
    needs_reason: bool
    note: str | None = None  # e.g. 受审分离: shown beside the form; the server refuses if tried
    blocked: str | None = None  # why the step cannot be taken now (必需材料仍缺): shown instead of the form


@dataclass(frozen=True, slots=True)
class EventView:
    seq: int
    at: str
    actor: str
    role: str
    unit: str
    action: str
    change: str
    reason: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class MaterialView:
    index: int
    name: str
    required: bool
    state: str
    state_label: str
    tone: str  # what the badge is coloured by (``optional`` for a missing optional material)
    source: str
    evidence: str
    note: str


@dataclass(frozen=True, slots=True)
class EvidenceView:
    material: str
    source: str
    asked: str
    status: str
    status_label: str
    reason: str
    asked_at: str
    fetched_at: str
    attempts: int
    elapsed_ms: int
    cached: bool
    response_sm3: str


@dataclass(frozen=True, slots=True)
class Person:
    """Who did a step (受理人, 审批人) as the trace recorded it."""

    name: str
    unit: str
    at: str
    staff_id: int | None


@dataclass(slots=True)
class CasePageView:
    case: CaseRead
    status_name: str
    item_separation: bool
    unit_name: str
    routed_name: str
    signal: SignalView
    materials: list[MaterialView]
    evidence: list[EvidenceView]
    events: list[EventView]
    actions: list[ActionView]
    documents: list[tuple[str, str]]
    acceptor: Person | None
    decider: Person | None
    viewer_is_acceptor: bool
    can_reveal: bool
    can_extend: bool  # the deciding unit's head, on an open case not yet extended (行政许可法 Art. 42)
    can_revoke: bool  # the deciding unit's head, on an approval (撤销准予决定, Art. 69)
    certificates: list[CertificateRead]  # 电子证照 issued with the approval
    created_at: str
    supplement_choices: list[str]
    form: list[tuple[str, str, Any]]  # 申请表 (name, label, value): personal values masked unless revealed
    procedures: tuple[str, ...] = PROCEDURES
    revealed: dict[str, Any] | None = None


async def _offered(
    session: AsyncSession,
    registry: AuthorityRegistry,
    actor: Actor,
    case: Case,
    separation: bool,
    blocked: dict[str, str],
) -> list[ActionView]:
    """The status's actions the viewer could take at their own desk (the server checks again when posted)."""
    now, offered = utcnow(), []
    for action in allowed_actions(Status(case.status)):
        step = transition_for(Status(case.status), action)
        desk = case.accepting_unit if step.side == "front" else case.routed_to
        if desk != actor.unit_code:
            continue
        if action in HEAD_STEPS:  # the head's own step has its own form (撤销准予决定)
            continue
        if "cases.handle" not in actor.permissions or not await authority.roles_permit(
            session, registry, actor.scope, desk, case.item_code, step.right, actor.roles, now
        ):
            continue
        note = None
        if separation and step.right == "decide" and case.acceptor_id == actor.staff_id:
            note = "本事项实行受审分离：您是本件的受理人，不能审批本件（如提交，系统将拒绝）。"
        offered.append(ActionView(action.value, ACTION_NAMES[action], SIDE_NAMES[step.side], step.needs_reason, note,
                                  blocked.get(action.value)))  # fmt: skip
    return offered


def _person(events: list[CaseEvent], actions: set[str], names: dict[str, str], tz: str) -> Person | None:
    found = next((e for e in reversed(events) if e.action in actions), None)
    if found is None:
        return None
    return Person(found.actor_name, names.get(found.unit, found.unit), local_time(found.at, tz), found.actor_id)


def _event(event: CaseEvent, names: dict[str, str], materials: dict[int, str], tz: str) -> EventView:
    change = ""
    if event.from_status != event.to_status:
        change = f"{status_name(event.from_status)} → " if event.from_status else ""
        change += status_name(event.to_status)
    return EventView(
        seq=event.seq, at=local_time(event.at, tz), actor=event.actor_name, role=_roles(event.role),
        unit=names.get(event.unit, event.unit), action=EVENT_NAMES.get(event.action, event.action), change=change,
        reason=event.reason, detail=_detail(event, names, materials),
    )  # fmt: skip


def _roles(label: str) -> str:
    return "、".join(ROLE_NAMES.get(role, role) for role in label.split(",") if role)


def _detail(event: CaseEvent, names: dict[str, str], materials: dict[int, str]) -> str:
    """The few trace details a clerk needs in words (routing, deadline, material, shared data)."""
    detail, parts = event.detail or {}, []
    if "routed_to" in detail:
        parts.append(f"送 {names.get(detail['routed_to'], detail['routed_to'])} 审批")
    if "to_unit" in detail:
        parts.append(f"改派至 {names.get(detail['to_unit'], detail['to_unit'])}")
    if "deadline" in detail:
        parts.append(f"承诺办结日 {detail['deadline']}")
    if "index" in detail:
        state = MATERIAL_STATE_LABELS.get(str(detail.get("state")), str(detail.get("state")))
        parts.append(f"{materials.get(int(detail['index']), '第' + str(detail['index']) + '项材料')}：{state}")
    if "shared_asked" in detail:
        parts.append(f"共享数据核验 {detail['shared_asked']} 项，满足 {detail.get('shared_satisfied', 0)} 项")
    if detail.get("record"):
        parts.append("结果已记入人社业务记录")
    return "；".join(parts)


def _evidence(row: EvidenceRead, materials: dict[int, str], tz: str) -> EvidenceView:
    return EvidenceView(
        material=materials.get(row.material_index, f"第 {row.material_index} 项材料"),
        source=SOURCE_LABELS.get(row.source, row.source), asked=describe(row.source, row.evidence),
        status=row.status, status_label=EVIDENCE_STATUS.get(row.status, row.status), reason=row.reason,
        asked_at=local_time(row.asked_at, tz), fetched_at=local_time(row.fetched_at, tz), attempts=row.attempts,
        elapsed_ms=row.elapsed_ms, cached=row.cached, response_sm3=(row.response_sm3 or "")[:16],
    )  # fmt: skip


async def case_page(ctx: CaseContext, case_id: int, revealed: dict[str, Any] | None = None) -> CasePageView:
    """Everything the case page shows, for a case in the viewer's scope (else NotFound: the 404 page)."""
    session, registry, actor, catalog = ctx.session, ctx.registry, ctx.actor, ctx.catalog
    case = await reads.get_case(session, actor.scope, case_id)
    read = (await reads.case_reads(session, actor, catalog, ctx.calendar, [case]))[0]
    events = await reads.case_events(session, case.id)
    extended = any(event.action == EXTEND for event in events)  # 延长办理期限: once, and then its notice prints
    tz = actor.scope.timezone
    codes = {case.accepting_unit, *(e.unit for e in events)} | ({case.routed_to} if case.routed_to else set())
    codes |= {str(e.detail[k]) for e in events for k in ("routed_to", "to_unit") if (e.detail or {}).get(k)}
    names = await unit_names(session, actor.scope, sorted(codes))
    item = catalog.items.get(case.item_code)
    separation = bool(item and item.separation)
    material_names = {m.index: m.name for m in read.materials}
    materials = [
        MaterialView(
            index=m.index, name=m.name, required=m.required, state=m.state,
            state_label=material_label(m.state, m.required), tone=material_tone(m.state, m.required),
            source=SOURCE_LABELS.get(m.source, m.source) if m.source else "申请人提供",
            evidence=_material_evidence(m.evidence, tz), note=m.note or "",
        )
        for m in read.materials
    ]  # fmt: skip
    acceptor = _person(events, {"accept"}, names, tz)
    blocked = {b.action: b.reason for b in read.blocked_actions}
    return CasePageView(
        case=read,
        status_name=status_name(case.status),
        item_separation=separation,
        unit_name=names.get(case.accepting_unit, case.accepting_unit),
        routed_name=names.get(case.routed_to, case.routed_to) if case.routed_to else "",
        signal=signal_view(read.timing),
        materials=materials,
        evidence=[
            _evidence(reads.evidence_read(row), material_names, tz)
            for row in await reads.case_evidence(session, case.id)
        ],
        events=[_event(e, names, material_names, tz) for e in events],
        actions=await _offered(session, registry, actor, case, separation, blocked),
        documents=[
            (f"{kind}.pdf", TITLES[kind])
            for kind in DOCUMENT_ORDER
            if Status(case.status) in AVAILABLE[kind] and (kind != "extension_notice" or extended)
        ],
        acceptor=acceptor,
        decider=_person(events, {"approve", "deny"}, names, tz) or _person(events, {"assign"}, names, tz),
        viewer_is_acceptor=case.acceptor_id is not None and case.acceptor_id == actor.staff_id,
        can_reveal="applicants.reveal" in actor.permissions,
        can_extend="cases.extend" in actor.permissions
        and actor.unit_code == case.routed_to
        and case.status in EXTENDABLE
        and not extended,
        can_revoke="cases.revoke" in actor.permissions
        and actor.unit_code == case.routed_to
        and Action.REVOKE in allowed_actions(Status(case.status)),
        certificates=await certificates.of_case(session, actor.scope, case.id),
        created_at=local_time(case.created_at, tz),
        supplement_choices=[m.name for m in read.materials if m.state != "satisfied_by_shared_data"],
        form=forms.form_labels(item, revealed["form"] if revealed else read.form),
        revealed=revealed,
    )


def _material_evidence(evidence: dict[str, Any] | None, tz: str) -> str:
    """A material's latest shared-data answer in one line: source, outcome, time."""
    if not evidence:
        return ""
    label = str(evidence.get("label") or describe(str(evidence.get("source")), str(evidence.get("evidence"))))
    outcome = EVIDENCE_STATUS.get(str(evidence.get("status")), str(evidence.get("status")))
    fetched = evidence.get("fetched_at")
    when = ""
    if isinstance(fetched, str) and fetched:
        try:
            when = "，" + local_time(datetime.fromisoformat(fetched), tz)
        except ValueError:
            when = ""
    return f"{label}：{outcome}{when}"


def compose_reason(action: Action, reason: str, materials: list[str], procedure: str, days: str) -> str | None:
    """The reason the trace and the notice carry: the clerk's words plus what the form picked.

    补正 lists the materials to supplement (一次性告知); 特别程序 names the procedure and the expected
    working days. An empty result stays empty, so the server's "reason required" rule speaks."""
    reason = reason.strip()
    if days.strip() and not 1 <= (whole_number(days) or 0) <= MAX_PROCEDURE_DAYS:
        raise ValidationFailed(f"预计所需工作日应为 1 到 {MAX_PROCEDURE_DAYS} 之间的整数", rule="expected_days")
    if action in (Action.REQUEST_SUPPLEMENT, Action.REQUEST_CORRECTION) and materials:
        listed = "请补正：" + "、".join(m.strip() for m in materials if m.strip())
        reason = f"{reason}；{listed}" if reason else listed
    if action == Action.SUSPEND and reason:
        if procedure.strip():
            reason = f"{procedure.strip()}：{reason}"
        if days.strip():
            reason += f"（预计 {days.strip()} 个工作日）"
    if len(reason) > MAX_REASON:
        raise ValidationFailed(f"理由不能超过 {MAX_REASON} 个字（现为 {len(reason)} 个字）", rule="reason_too_long")
    return reason or None
