"""A case's e-certificate (电子证照): issued with the approval, in the name of the organ the grants designate;
revoked, with the records the issue made, when the decision is revoked (撤销准予决定)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fuquan.authority.services.issuer import issuing_organ, organ_codes
from fuquan.integrations.repositories import HrssRecordRepository
from fuquan.platform.cases.models import CaseFile, applicant_context
from fuquan.platform.cases.services.context import CaseContext
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.certificates import services as certificates
from fuquan.tenants.repositories import UnitRepository


async def issue_certificate(ctx: CaseContext, file: CaseFile, item: CatalogItem, now: datetime) -> dict[str, Any]:
    """Sign the approval's certificate with the key of the organ the decision is made in the name of; what the
    trace remembers of it."""
    case, applicant = file.case, file.applicant
    unit = case.routed_to or ctx.actor.unit_code
    scope = ctx.actor.scope.whole()
    with ctx.session.no_autoflush:  # the case is flushed once, with its new status (one version step)
        organs = await UnitRepository(ctx.session).organs(scope, organ_codes(unit))
        issuer = await issuing_organ(ctx.session, ctx.registry, scope, organs, unit, item.code, "decide", now)
    context = applicant_context(ctx.actor.scope.tenant_code)
    facts = certificates.Issuance(
        case_id=case.id, receipt_no=case.receipt_no, item_code=item.code, item_name=item.name,
        title=certificates.certificate_title(item.name, item.result_name),
        holder=ctx.cipher.decrypt(applicant.name_cipher, context=context),
        holder_id=ctx.cipher.decrypt(applicant.id_cipher, context=context),
        holder_masked=applicant.name_masked, holder_id_masked=applicant.id_masked,
        organ_code=issuer.organ.unit_code, organ_name=issuer.organ.name,
        handled_by=issuer.handling_note,
        actor=ctx.actor.username, actor_id=ctx.actor.staff_id, issued_on=ctx.today(now), issued_at=now,
    )  # fmt: skip
    with ctx.session.no_autoflush:
        certificate = await certificates.issue(ctx.session, ctx.masters, ctx.cipher, scope, facts)
    return {"certificate": certificate.number, "issuing_organ": issuer.organ.unit_code}


async def revoke_certificate(
    ctx: CaseContext, file: CaseFile, reason: str, today: date, now: datetime
) -> dict[str, Any]:
    """The decision is revoked: its certificates are revoked, and the records its issue made in Fuquan's own data
    (就业登记 and the like) end today."""
    case = file.case
    with ctx.session.no_autoflush:
        numbers = await certificates.revoke(ctx.session, ctx.actor.scope.whole(), case.id, reason, ctx.actor.username,
                                            ctx.actor.staff_id, now)  # fmt: skip
        records = await HrssRecordRepository(ctx.session).for_person(ctx.actor.scope, file.applicant.id_index)
    ended = [record for record in records if record.receipt_no == case.receipt_no and record.until is None]
    for record in ended:
        record.until = today
    return {"certificates_revoked": numbers, "records_ended": len(ended)}
