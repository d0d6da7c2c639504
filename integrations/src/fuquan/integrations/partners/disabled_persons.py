"""残联 (disabled persons' federation): the 残疾人证 — category, grade, validity."""

from __future__ import annotations

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched, PartnerAdapter
from fuquan.integrations.partners.schemas import CertificateResult, PersonQuery


class DisabledPersons(PartnerAdapter):
    partner = "disabled_persons"

    async def certificate(self, id_number: str, ctx: CallContext) -> Fetched[CertificateResult]:
        return await self._fetch("certificate", PersonQuery(id_number=id_number), ctx, CertificateResult)
