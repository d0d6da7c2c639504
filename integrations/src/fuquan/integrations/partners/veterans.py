"""退役军人事务 (veterans affairs): whether a person is a registered veteran."""

from __future__ import annotations

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched, PartnerAdapter
from fuquan.integrations.partners.schemas import PersonQuery, VeteranResult


class Veterans(PartnerAdapter):
    partner = "veterans"

    async def status(self, id_number: str, ctx: CallContext) -> Fetched[VeteranResult]:
        return await self._fetch("status", PersonQuery(id_number=id_number), ctx, VeteranResult)
