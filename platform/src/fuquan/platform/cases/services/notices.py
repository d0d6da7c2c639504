"""What a step on a case tells the resident (DESIGN §13 notifications): the SMS of the step, written into the
outbox in the step's own statement, sent later by the delivery job."""

from __future__ import annotations

from datetime import datetime
from typing import Final

from fuquan.platform.cases.models import applicant_context
from fuquan.platform.cases.repositories import CaseFile
from fuquan.platform.cases.services.context import CaseContext
from fuquan.platform.cases.state_machine import Action
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.documents.wording import fmt_date
from fuquan.platform.notifications.services.outbox import sms_row

SMS_OF_STEP: Final = {
    Action.ACCEPT: "case_accepted",  # 受理回执: the receipt number and query code, the promised date
    Action.REFUSE: "case_refused",
    Action.REQUEST_SUPPLEMENT: "supplement_needed",
    Action.REQUEST_CORRECTION: "supplement_needed",
    Action.APPROVE: "case_decided",
    Action.DENY: "case_decided",
    Action.ISSUE: "ready_to_collect",
    Action.CLOSE: "rating_invitation",
}


def resident_sms(ctx: CaseContext, file: CaseFile, item: CatalogItem, action: Action, now: datetime) -> list[NewRow]:
    """The step's SMS to the applicant, if the step has one and the applicant gave a mobile number."""
    kind = SMS_OF_STEP.get(action)
    applicant, case = file.applicant, file.case
    if kind is None or applicant.phone_cipher is None:
        return []
    phone = ctx.cipher.decrypt(applicant.phone_cipher, context=applicant_context(ctx.actor.scope.tenant_code))
    params = {
        "item": item.name, "no": case.receipt_no, "code": case.query_code,
        "deadline": fmt_date(case.deadline) if case.deadline else "",
        "result": "准予" if action == Action.APPROVE else "不予许可", "place": "原受理窗口",
    }  # fmt: skip
    row = sms_row(
        ctx.cipher, ctx.actor.scope, kind=kind, dedupe_key=f"case:{case.id}:{case.trace_length + 1}",
        phone=phone, params=params, case_id=case.id, now=now,
    )  # fmt: skip
    return [] if row is None else [row]
