"""市场监管 (market regulation): an enterprise by its unified social credit code, and the market
entities registered to a person. Registration data changes rarely, so answers are cacheable."""

from __future__ import annotations

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched, PartnerAdapter
from fuquan.integrations.partners.schemas import BusinessesResult, EnterpriseQuery, EnterpriseResult, PersonQuery
from fuquan.integrations.partners.uscc import normalise_credit_code


class MarketRegulation(PartnerAdapter):
    partner = "market_regulation"

    async def enterprise(self, credit_code: str, ctx: CallContext) -> Fetched[EnterpriseResult]:
        """企业登记信息. The GB 32100 check character is verified first (``InvalidCreditCode``)."""
        query = EnterpriseQuery(credit_code=normalise_credit_code(credit_code))
        return await self._fetch("enterprise", query, ctx, EnterpriseResult, freshness="cacheable")

    async def businesses(self, id_number: str, ctx: CallContext) -> Fetched[BusinessesResult]:
        """名下市场主体: enterprises and individual businesses the person represents or runs."""
        query = PersonQuery(id_number=id_number)
        return await self._fetch("businesses", query, ctx, BusinessesResult, freshness="cacheable")
