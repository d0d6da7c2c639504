"""民政 (civil affairs): marriage, subsistence allowance / extreme-poverty support, cremation."""

from __future__ import annotations

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched, PartnerAdapter
from fuquan.integrations.partners.schemas import AssistanceResult, CremationResult, MarriageResult, PersonQuery


class CivilAffairs(PartnerAdapter):
    partner = "civil_affairs"

    async def marriage(self, id_number: str, ctx: CallContext) -> Fetched[MarriageResult]:
        """婚姻登记状态."""
        return await self._fetch("marriage", PersonQuery(id_number=id_number), ctx, MarriageResult)

    async def assistance(self, id_number: str, ctx: CallContext) -> Fetched[AssistanceResult]:
        """低保 / 特困供养 records with their dates (always asked live: status changes monthly)."""
        return await self._fetch("assistance", PersonQuery(id_number=id_number), ctx, AssistanceResult)

    async def cremation(self, id_number: str, ctx: CallContext) -> Fetched[CremationResult]:
        """火化信息; ``None`` when there is no cremation record."""
        return await self._fetch("cremation", PersonQuery(id_number=id_number), ctx, CremationResult)
