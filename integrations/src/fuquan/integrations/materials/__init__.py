"""Materials elimination (免提交): which partner answer satisfies which material, and why not.

A material is ``satisfied`` only when the answer supports it — the identity matches and the
person is alive and registered; the household exists (or, for 亲属关系, lists the applicant);
an allowance is active today; an enterprise is in business; a certificate is valid today; a
registration is in force. Anything else leaves the material to upload, pledge or deferral with
a reason the clerk can read out. Only the facts a decision used are kept as evidence.
"""

from __future__ import annotations

import uuid

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.gateway.errors import PartnerError
from fuquan.integrations.materials.asking import OWN_RECORD_KINDS, Asking, ClientFor, Rule
from fuquan.integrations.materials.certificates import disability, veteran
from fuquan.integrations.materials.civil_affairs import assistance, cremation, marriage
from fuquan.integrations.materials.hrss import card_account, contributions, registration
from fuquan.integrations.materials.market_regulation import businesses, enterprise
from fuquan.integrations.materials.public_security import death, household, identity, photo
from fuquan.integrations.shared_data import SharedDataAnswer, SharedDataRequest, describe, unavailable_answer

RULES: dict[tuple[str, str], Rule] = {
    ("public_security", "identity"): identity,
    ("public_security", "household"): household,
    ("public_security", "death_registration"): death,
    ("public_security", "photo"): photo,
    ("civil_affairs", "subsistence_allowance"): assistance,
    ("civil_affairs", "cremation_record"): cremation,
    ("civil_affairs", "marriage"): marriage,
    ("market_regulation", "enterprise"): enterprise,
    ("market_regulation", "business_by_person"): businesses,
    ("disabled_persons", "disability_certificate"): disability,
    ("veterans", "veteran_status"): veteran,
    ("hrss", "contribution_record"): contributions,
    ("hrss", "card_bank_account"): card_account,
    **{("hrss", kind): registration for kind in OWN_RECORD_KINDS},
}


class PartnerDataProvider:
    """``SharedDataProvider`` over one tenant's configured partner gateways."""

    def __init__(self, client_for: ClientFor) -> None:
        self.client_for = client_for

    async def lookup(self, request: SharedDataRequest) -> SharedDataAnswer:
        label = describe(request.source, request.evidence)
        rule = RULES.get((request.source, request.evidence))
        if rule is None:
            return SharedDataAnswer(
                status="not_configured",
                source=request.source,
                evidence=request.evidence,
                reason=f"平台尚不支持自动核验{label}，请上传材料",
            )
        client = self.client_for(request.source)
        if client is None:
            return SharedDataAnswer(
                status="not_configured",
                source=request.source,
                evidence=request.evidence,
                reason=f"本地区尚未接入{label}，请上传材料",
            )
        ctx = CallContext(
            purpose=request.purpose, user_id=request.acting_user, request_id=request.request_id or uuid.uuid4().hex
        )
        try:
            return await rule(Asking(request, client, ctx))
        except PartnerError as error:
            return unavailable_answer(request, f"{label}：{error.message}", error.kind)


__all__ = ["OWN_RECORD_KINDS", "RULES", "PartnerDataProvider"]
