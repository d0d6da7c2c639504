"""收件: open a case for a resident, its materials answered first from partners' shared data."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import msgspec
import structlog

from fuquan.integrations.partners.uscc import InvalidCreditCode, normalise_credit_code
from fuquan.platform.cases.models import Applicant, Case, CaseFile, CaseMaterial, applicant_context
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.schemas import CaseCreate
from fuquan.platform.cases.services import forms, partners
from fuquan.platform.cases.services.context import CaseContext, record_step, require_rights, tally
from fuquan.platform.cases.services.receipts import new_query_code, receipt_no
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.core.errors import PermissionDenied, ValidationFailed
from fuquan.platform.core.personal import mask_name, mask_phone, parse_resident_id, person_name, phone_number
from fuquan.platform.core.timeutil import utcnow

log = structlog.get_logger()


def _digest(request: CaseCreate) -> str:
    body = json.dumps(msgspec.to_builtins(request), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


async def _person(ctx: CaseContext, number: str, name: str, phone: str | None, now: datetime) -> Applicant:
    """The applicant (or related person) row for a checked ID number: found by its blind index, else added."""
    index = ctx.cipher.blind_index(number)
    context = applicant_context(ctx.actor.scope.tenant_code)
    # inserted unless the blind index is taken, then read: one round trip for a first-time applicant
    return await ApplicantRepository(ctx.session).add(
        ctx.actor.scope,
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
        ),
    )


async def _people(
    ctx: CaseContext, subjects: partners.Subjects, phone: str | None, now: datetime
) -> tuple[Applicant, Applicant | None]:
    """The applicant and the related person, added in ID-number order: two requests naming the same two
    new people then wait for each other in one order only, never in a cycle (a deadlock on PostgreSQL)."""
    wanted = {subjects.id_number: (subjects.name, phone)}
    if subjects.related_id_number is not None:
        wanted[subjects.related_id_number] = (subjects.related_name or "", None)
    found = {number: await _person(ctx, number, name, tel, now) for number, (name, tel) in sorted(wanted.items())}
    related = None if subjects.related_id_number is None else found[subjects.related_id_number]
    return found[subjects.id_number], related


def _replayed(existing: CaseFile, digest: str) -> CaseFile:
    """The case an earlier request with the same Idempotency-Key created, if this request is that one again."""
    if existing.case.request_digest != digest:
        raise ValidationFailed("同一个 Idempotency-Key 已用于内容不同的申请", rule="idempotency_key_reused")
    return existing


def _subjects(ctx: CaseContext, request: CaseCreate, now: datetime) -> partners.Subjects:
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
    return partners.Subjects(
        id_number=resident.number,
        name=person_name(request.applicant.name),
        person_index=ctx.cipher.blind_index(resident.number),
        related_id_number=related_number,
        related_name=None if related is None else person_name(related.name, "关系人"),
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


async def create_case(ctx: CaseContext, request: CaseCreate, idempotency_key: str | None) -> tuple[CaseFile, bool]:
    """收件: open a case for a resident at the actor's own unit. Returns (case, created)."""
    ctx.actor.require("cases.create")
    cases = CaseRepository(ctx.session)
    digest = _digest(request)
    if idempotency_key:
        async with ctx.reading_first() as session:
            existing = await CaseRepository(session).by_idempotency_key(
                ctx.actor.scope, ctx.actor.staff_id, idempotency_key
            )
        if existing is not None:
            return _replayed(await cases.load(ctx.actor.scope, existing.id), digest), False
    now = utcnow()
    unit = await ctx.registry.units.get(ctx.actor.scope, request.unit, ctx.session)
    if unit.code != ctx.actor.unit_code:
        raise PermissionDenied("只能在本人所在的服务点收件", rule="own_unit_only")
    item = ctx.catalog.get(request.item)
    await require_rights(ctx, unit.code, item, "accept", now)
    subjects = _subjects(ctx, request, now)
    phone = phone_number(request.applicant.phone)
    form = forms.check_form(item, request.form)  # before anything is asked or written
    day = ctx.today(now)
    gateways = await partners.provider(ctx)
    sequence = await partners.reserve_sequence(ctx, unit.code, day, before_calls=partners.calls_out(gateways))
    number = receipt_no(unit.code, day, sequence)
    # partners first, outside any lock; the case's own writes follow
    indexes = range(1, len(item.materials) + 1)
    answers = await partners.ask_partners(ctx, gateways, item, indexes, number, subjects, day)
    applicant, related = await _people(ctx, subjects, phone, now)
    materials = _materials(item, now)
    file, created = await cases.add(
        ctx.actor.scope,
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
            form=form.plain,
            form_cipher=forms.seal(ctx.cipher, ctx.actor.scope.tenant_code, number, form.personal),
            form_masked=forms.masked(item, form.personal),
            created_by=ctx.actor.staff_id,
            created_at=now,
            promised_days=item.promised_days,
            idempotency_key=idempotency_key,
            request_digest=digest,
        ),
        applicant,
        materials,
        related,
    )
    if not created:  # the same key, sent again to another replica, created its case while we asked the partners
        log.info("case_creation_replayed", case_id=file.case.id)
        return _replayed(file, digest), False
    evidence = partners.apply_answers(ctx, file.case, materials, answers, item, now)  # before the materials' INSERT
    await record_step(ctx, file.case, "create", None, Status.DRAFT, None, now, {"item": item.code, **tally(answers)},
                      evidence)  # fmt: skip
    log.info("case_created", case_id=file.case.id, item=item.code, unit=unit.code)
    return file, True
