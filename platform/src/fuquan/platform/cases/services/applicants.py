"""Seeing an applicant unmasked (查看完整信息): only with a stated purpose, always audited."""

from __future__ import annotations

from typing import Any

import structlog

from fuquan.platform.cases.models import applicant_context
from fuquan.platform.cases.repositories import ApplicantRepository, CaseRepository
from fuquan.platform.cases.services import forms
from fuquan.platform.cases.services.context import CaseContext
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.personal import reveal_purpose

log = structlog.get_logger()


async def reveal_applicant(ctx: CaseContext, case_id: int, purpose: str) -> dict[str, Any]:
    """查看完整身份信息: the applicant's full ID number, name and phone, and the application form with its personal
    values (个人信息) in full, for a stated purpose (audited)."""
    ctx.actor.require("applicants.reveal")
    purpose = reveal_purpose(purpose)  # what the audit record keeps: readable words, never blanks
    case = await CaseRepository(ctx.session).get(ctx.actor.scope, case_id)
    applicant = await ApplicantRepository(ctx.session).get(case.applicant_id)
    context = applicant_context(ctx.actor.scope.tenant_code)
    revealed: dict[str, Any] = {
        "id_number": ctx.cipher.decrypt(applicant.id_cipher, context=context),
        "name": ctx.cipher.decrypt(applicant.name_cipher, context=context),
        "phone": None
        if applicant.phone_cipher is None
        else ctx.cipher.decrypt(applicant.phone_cipher, context=context),
    }
    personal = forms.opened(ctx.cipher, ctx.actor.scope.tenant_code, case)
    revealed["form"] = forms.form_read(await ctx.item_of(case), case, personal)
    detail = {"form_fields": sorted(personal)} if personal else None  # which personal values were seen, not them
    entry = ctx.actor.audit_entry(
        "applicant.reveal", resource=f"case:{case.id}", request_id=ctx.request_id, detail=detail
    )
    await append(ctx.session, _with_purpose(entry, purpose))
    log.info("applicant_revealed", case_id=case.id)
    return revealed


def _with_purpose(entry: AuditEntry, purpose: str) -> AuditEntry:
    return AuditEntry(**{**{name: getattr(entry, name) for name in AuditEntry.__slots__}, "purpose": purpose})
