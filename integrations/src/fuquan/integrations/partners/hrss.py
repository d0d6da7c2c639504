"""人社业务系统 (the province's HRSS core system): contributions, the social security card, and
registrations/recognitions made before or outside Fuquan. Fuquan's own decisions are
``fuquan.integrations.models.HrssRecord`` rows, consulted first (see ``materials``)."""

from __future__ import annotations

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched, PartnerAdapter
from fuquan.integrations.partners.schemas import CardResult, ContributionsResult, PersonQuery, RegistrationsResult


class HrssCore(PartnerAdapter):
    partner = "hrss"

    async def contributions(self, id_number: str, ctx: CallContext) -> Fetched[ContributionsResult]:
        """参保缴费记录."""
        return await self._fetch("contributions", PersonQuery(id_number=id_number), ctx, ContributionsResult)

    async def card(self, id_number: str, ctx: CallContext) -> Fetched[CardResult]:
        """社会保障卡 and its financial account (银行账户)."""
        return await self._fetch("card", PersonQuery(id_number=id_number), ctx, CardResult)

    async def registrations(self, id_number: str, ctx: CallContext) -> Fetched[RegistrationsResult]:
        """就业登记、失业登记、就业困难人员认定 held by the core system."""
        return await self._fetch("registrations", PersonQuery(id_number=id_number), ctx, RegistrationsResult)
