"""What the intake pages (收件) show: the items this unit may accept and why, my tasks, a case's
materials as the grid worker needs to see them, and the receipt with its QR code.

Business rules stay in the domain: rights come from ``fuquan.authority``, every case verb from
``fuquan.platform.cases.services``; this module only gathers and labels what the pages display.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import segno
from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.models import Grant
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.services.reads import grants_by_ids
from fuquan.integrations.shared_data import SOURCE_LABELS
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.cases.models import Case, CaseMaterial
from fuquan.platform.cases.schemas import ApplicantWrite, CaseCreate, CaseRead, PersonWrite
from fuquan.platform.cases.services import CaseContext, forms, reads
from fuquan.platform.cases.services.documents import AVAILABLE, material_label, material_tone
from fuquan.platform.cases.state_machine import STATUS_NAMES, Action, Status
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.schemas import FormField
from fuquan.platform.catalog.services import Catalog, item_spec, needs_only_id_card
from fuquan.platform.core.errors import NotFound, ValidationFailed
from fuquan.platform.core.personal import parse_resident_id, person_name, phone_number
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.web.intake.schemas import NewCaseForm
from fuquan.tenants.services import unit_names

RIGHT = "accept"  # 收件 is the front desk's right
SCOPE_LABELS = {"unit": "仅本单位", "subtree": "本单位及所有下级"}
BASIS_LABELS = {"statutory": "法定本级行使", "devolved": "上级下放", "authorised": "上级授权", "entrusted": "上级委托"}
OPEN_FOR_MATERIALS = frozenset({Status.DRAFT, Status.SUBMITTED, Status.AWAITING_SUPPLEMENT})
SUBMITTING = {Status.DRAFT: Action.SUBMIT, Status.AWAITING_SUPPLEMENT: Action.RESUBMIT}
TASK_STATUSES = [Status.DRAFT.value, Status.AWAITING_SUPPLEMENT.value]
RECENT = 10


# ---- what I may accept here, and why ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrantLink:
    """One grant of the chain that gives this unit the right (赋权链上的一环)."""

    id: int
    unit_code: str
    unit_name: str
    scope: str
    basis: str
    instrument: str
    valid_from: date
    valid_until: date | None
    granted_by: str
    grantor_name: str


@dataclass(frozen=True, slots=True)
class AcceptableItem:
    code: str
    name: str
    id_card_only: bool
    promised_days: int
    reason: str  # the authority engine's own sentence
    carrier: GrantLink | None  # the grant that covers this unit (None: the tenant root's statutory right)
    chain: list[GrantLink]  # from the province down to the carrier


def _local(instant: datetime | None, tz: str) -> date | None:
    return None if instant is None else local_date(_aware(instant), tz)


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def _link(grant: Grant, names: dict[str, str], tz: str) -> GrantLink:
    return GrantLink(
        id=grant.id, unit_code=grant.unit_code, unit_name=names.get(grant.unit_code, grant.unit_code),
        scope=SCOPE_LABELS.get(grant.scope, grant.scope), basis=BASIS_LABELS.get(grant.basis, grant.basis),
        instrument=grant.instrument, valid_from=local_date(_aware(grant.valid_from), tz),
        valid_until=_local(grant.valid_until, tz), granted_by=grant.granted_by_name,
        grantor_name=names.get(grant.grantor_unit_code, grant.grantor_unit_code),
    )  # fmt: skip


async def may_accept(
    session: AsyncSession, registry: AuthorityRegistry, actor: Actor, item: CatalogItem, now: datetime
) -> bool:
    """组织权限 and 岗位权限 together, as when a case is opened."""
    unit = actor.unit_code
    return await authority.unit_may(
        session, registry, actor.scope, unit, item.code, RIGHT, now
    ) and await authority.roles_permit(session, registry, actor.scope, unit, item.code, RIGHT, actor.roles, now)


async def acceptable(
    session: AsyncSession, registry: AuthorityRegistry, actor: Actor, catalog: Catalog
) -> list[AcceptableItem]:
    """The items this person may accept at their unit now, each with the grant chain behind it."""
    now = utcnow()
    tz = actor.scope.timezone
    found: list[tuple[CatalogItem, authority.Decision]] = []
    for code in sorted(catalog.items):
        item = catalog.items[code]
        if not await may_accept(session, registry, actor, item, now):
            continue
        decision = await authority.check(
            session, actor.scope, catalog, registry, unit=actor.unit_code, item=code, action=RIGHT, at=now
        )
        found.append((item, decision))
    grants = await grants_by_ids(session, actor.scope, {i for _, d in found for i in d.chain})
    codes = {g.unit_code for g in grants.values()} | {g.grantor_unit_code for g in grants.values()}
    names = await unit_names(session, actor.scope, sorted(codes))
    result = []
    for item, decision in found:
        chain = [_link(grants[i], names, tz) for i in decision.chain if i in grants]
        result.append(
            AcceptableItem(
                code=item.code, name=item.name, id_card_only=needs_only_id_card(item_spec(item)),
                promised_days=item.promised_days, reason=decision.reason, carrier=chain[-1] if chain else None,
                chain=chain,
            )
        )  # fmt: skip
    return result


async def refusal_reason(
    session: AsyncSession, registry: AuthorityRegistry, actor: Actor, catalog: Catalog, item: CatalogItem
) -> str | None:
    """Why this person may not accept ``item`` here now (None: they may)."""
    now = utcnow()
    if await may_accept(session, registry, actor, item, now):
        return None
    decision = await authority.check(
        session, actor.scope, catalog, registry, unit=actor.unit_code, item=item.code, action=RIGHT, at=now
    )
    if not decision.allowed:
        return f"本单位不能受理“{item.name}”：{decision.reason}。如需办理，请联系上级单位管理员赋权。"
    return f"本单位已获“{item.name}”的受理赋权，但您的岗位不能受理该事项。"


# ---- my tasks --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: int
    receipt_no: str
    item_name: str
    applicant: str
    status: str
    status_name: str
    created_on: date
    missing: int  # required materials still missing


@dataclass(frozen=True, slots=True)
class Tasks:
    drafts: list[CaseRow]
    supplements: list[CaseRow]
    recent: list[CaseRow]


async def _rows(session: AsyncSession, actor: Actor, catalog: Catalog, cases: list[Case]) -> list[CaseRow]:
    applicants = await reads.applicants_by_id(session, [case.applicant_id for case in cases])
    materials = await reads.materials_of_cases(session, [case.id for case in cases])
    rows = []
    for case in cases:
        item = catalog.items.get(case.item_code)
        missing = sum(1 for m in materials[case.id] if m.required and m.state == "missing")
        rows.append(
            CaseRow(
                id=case.id, receipt_no=case.receipt_no, item_name=item.name if item else case.item_code,
                applicant=applicants[case.applicant_id].name_masked, status=case.status,
                status_name=STATUS_NAMES[Status(case.status)],
                created_on=local_date(_aware(case.created_at), actor.scope.timezone), missing=missing,
            )
        )  # fmt: skip
    return rows


async def tasks(session: AsyncSession, actor: Actor, catalog: Catalog) -> Tasks:
    """我的待办: drafts to finish and cases sent back for supplement at my desk, then recent submissions."""
    unit = actor.unit_code
    waiting, _ = await reads.case_queue(
        session, actor.scope, statuses=TASK_STATUSES, unit=unit, item=None, limit=100, offset=0
    )
    waiting = [case for case in waiting if case.accepting_unit == unit]
    later = [s.value for s in Status if s.value not in TASK_STATUSES]
    recent, _ = await reads.case_queue(
        session, actor.scope, statuses=later, unit=unit, item=None, limit=RECENT, offset=0
    )
    recent = [case for case in recent if case.accepting_unit == unit]
    rows = await _rows(session, actor, catalog, waiting + recent)
    by_id = {row.id: row for row in rows}
    return Tasks(
        drafts=[by_id[c.id] for c in waiting if c.status == Status.DRAFT],
        supplements=[by_id[c.id] for c in waiting if c.status == Status.AWAITING_SUPPLEMENT],
        recent=[by_id[c.id] for c in recent],
    )


# ---- the new-case form -------------------------------------------------------------------------

Need = Literal["required", "optional"] | None


@dataclass(frozen=True, slots=True)
class SubjectFields:
    """Which extra subjects the item's shared materials ask about (关系人, 企业)."""

    related: Need
    enterprise: Need


def subject_fields(item: CatalogItem) -> SubjectFields:
    def need(subject: str) -> Need:
        asking = [m for m in item.materials if (m.get("shared") or {}).get("subject") == subject]
        if not asking:
            return None
        return "required" if any(m.get("required") for m in asking) else "optional"

    return SubjectFields(related=need("related_person"), enterprise=need("enterprise"))


def _checked_id(number: str, who: str, today: date) -> str:
    try:
        return parse_resident_id(number, today=today).number
    except ValidationFailed as error:
        raise ValidationFailed(f"{who}{error.detail}", rule=error.rule, field=who) from error


FORM_PREFIX = "form."  # the application form's inputs are named form.<field name>


def form_fields(item: CatalogItem) -> list[FormField]:
    """The item's declared application-form fields, in order (what the page renders instead of free input)."""
    return forms.fields_of(item)


def form_values(posted: Mapping[str, Any]) -> dict[str, str]:
    """The application form's inputs as posted (checked against the item's fields by the case verb)."""
    return {
        key.removeprefix(FORM_PREFIX): value
        for key, value in posted.items()
        if key.startswith(FORM_PREFIX) and isinstance(value, str)
    }


def case_request(
    item: CatalogItem, actor: Actor, form: NewCaseForm, values: Mapping[str, str] | None = None
) -> CaseCreate:
    """The API's CaseCreate from the form, each field checked with a message the clerk can act on."""
    today = local_date(utcnow(), actor.scope.timezone)
    number = _checked_id(form.id_number, "申请人：", today)
    name = person_name(form.name)
    phone = phone_number(form.phone)
    fields = subject_fields(item)
    related = None
    if fields.related and (form.related_id_number.strip() or form.related_name.strip()):
        related_name = person_name(form.related_name, "关系人")
        related = PersonWrite(_checked_id(form.related_id_number, "关系人：", today), related_name)
    elif fields.related == "required":
        raise ValidationFailed(
            "该事项须填写关系人（如逝者）的身份证号码和姓名，用于核验死亡、户籍等信息", rule="related"
        )
    credit_code = form.enterprise_credit_code.strip().upper() or None
    if fields.enterprise is None:
        credit_code = None
    elif fields.enterprise == "required" and credit_code is None:
        raise ValidationFailed("该事项须填写被投诉（被申请）单位的统一社会信用代码", rule="credit_code")
    return CaseCreate(
        item=item.code, unit=actor.unit_code, applicant=ApplicantWrite(number, name, phone),
        related_person=related, enterprise_credit_code=credit_code,
        form={name: value for name, value in (values or {}).items() if value.strip()},
    )  # fmt: skip


# ---- one case at my desk -----------------------------------------------------------------------


async def own_case(session: AsyncSession, actor: Actor, case_id: int) -> Case:
    """A case opened at this person's own desk; any other — another unit's, even one below mine, or
    another tenant's — reads as absent (404), like on the API."""
    case = await reads.get_case(session, actor.scope, case_id)
    if case.accepting_unit != actor.unit_code:
        raise NotFound(f"办件 #{case_id} 不存在或不在本服务点")
    return case


@dataclass(frozen=True, slots=True)
class MaterialView:
    index: int
    name: str
    required: bool
    state: str
    state_label: str
    tone: str  # what the state is coloured by (``optional`` for a missing optional material)
    note: str | None
    source: str | None  # e.g. 公安（居民身份信息）: who answered, or who would have
    answered_at: str | None  # when the partner answered (local time)
    unavailable: bool  # the partner did not answer (down, slow, not configured)
    pledge_allowed: bool
    deferral_allowed: bool
    defer_until: date | None
    file: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class CaseView:
    case: CaseRead
    status_name: str
    unit_name: str
    materials: list[MaterialView]
    missing: list[str]  # required materials still missing
    open_for_materials: bool
    submit_action: str | None  # submit / resubmit when this desk may send the case on now
    defer_min: date
    defer_max: date


def _time_text(value: Any, tz: str) -> str | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return _aware(value).astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def _material_view(row: CaseMaterial, spec: dict[str, Any], tz: str) -> MaterialView:
    evidence = row.evidence or {}
    shared = spec.get("shared") or {}
    source = evidence.get("label") or (SOURCE_LABELS.get(shared["source"], shared["source"]) if shared else None)
    answered = None
    if row.state == "satisfied_by_shared_data":
        answered = _time_text(evidence.get("fetched_at"), tz) or _time_text(row.updated_at, tz)
    return MaterialView(
        index=row.index, name=row.name, required=row.required, state=row.state,
        state_label=material_label(row.state, row.required), tone=material_tone(row.state, row.required),
        note=row.note, source=source,
        answered_at=answered,
        unavailable=row.state == "missing" and evidence.get("status") in ("unavailable", "not_configured"),
        pledge_allowed=bool(spec.get("pledge")), deferral_allowed=bool(spec.get("deferrable")),
        defer_until=row.defer_until,
        file=None if not row.file_key else {"size": row.size, "content_type": row.content_type},
    )  # fmt: skip


async def case_view(ctx: CaseContext, case: Case) -> CaseView:
    session, actor, catalog = ctx.session, ctx.actor, ctx.catalog
    applicants = await reads.applicants_by_id(
        session, [case.applicant_id] + ([case.related_person_id] if case.related_person_id else [])
    )
    rows = await reads.case_materials(session, case.id)
    pauses = (await reads.case_pauses(session, [case.id]))[case.id]
    calendar = ctx.calendar
    tz = actor.scope.timezone
    today = local_date(utcnow(), tz)
    read = reads.case_read(
        case, applicants[case.applicant_id], rows, pauses, catalog, calendar, today, tz,
        applicants.get(case.related_person_id or 0),
    )  # fmt: skip
    item = catalog.items.get(case.item_code)
    specs = list(item.materials) if item else []
    views = [_material_view(row, dict(specs[row.index - 1]) if row.index <= len(specs) else {}, tz) for row in rows]
    missing = [m.name for m in views if m.required and m.state == "missing"]
    status = Status(case.status)
    action = SUBMITTING.get(status)
    names = await unit_names(session, actor.scope, [case.accepting_unit])
    return CaseView(
        case=read, status_name=STATUS_NAMES[status], unit_name=names.get(case.accepting_unit, case.accepting_unit),
        materials=views, missing=missing, open_for_materials=status in OPEN_FOR_MATERIALS,
        submit_action=None if action is None else action.value, defer_min=today + timedelta(days=1),
        defer_max=case.deadline or calendar.add_working_days(today, max(case.promised_days, 1)),
    )  # fmt: skip


# ---- the receipt -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Receipt:
    view: CaseView
    progress_url: str
    qr_svg: str
    receipt_pdf: str | None  # the printable acceptance receipt, once the case is accepted


def progress_url(request: Request[Any, Any, Any], receipt_no: str) -> str:
    """The public progress page for this receipt, as an absolute address (what the QR code holds)."""
    return f"{str(request.base_url).rstrip('/')}/progress?receipt={receipt_no}"


def qr_svg(url: str) -> str:
    """The QR code as inline SVG (segno): sharp at any size, printable, no image file to serve."""
    return str(segno.make(url, error="m").svg_inline(scale=4, border=2, omitsize=True, svgclass="qr"))


def receipt(request: Request[Any, Any, Any], view: CaseView, case: Case) -> Receipt:
    url = progress_url(request, case.receipt_no)
    printable = Status(case.status) in AVAILABLE["receipt"]
    return Receipt(
        view=view, progress_url=url, qr_svg=qr_svg(url),
        receipt_pdf=f"/cases/{case.id}/documents/receipt.pdf" if printable else None,
    )  # fmt: skip
