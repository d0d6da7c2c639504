"""公安 (public security): identity check, household register, death registration, photo."""

from __future__ import annotations

from fuquan.integrations.gateway.endpoints import CallContext
from fuquan.integrations.partners.base import Fetched, PartnerAdapter
from fuquan.integrations.partners.schemas import (
    DeathResult,
    HouseholdResult,
    IdentityQuery,
    IdentityResult,
    PersonQuery,
    PhotoResult,
)


class PublicSecurity(PartnerAdapter):
    partner = "public_security"

    async def identity(self, id_number: str, name: str, ctx: CallContext) -> Fetched[IdentityResult]:
        """身份核验: does the name match the number, and is the person alive and registered."""
        return await self._fetch("identity", IdentityQuery(id_number=id_number, name=name), ctx, IdentityResult)

    async def household(self, id_number: str, ctx: CallContext) -> Fetched[HouseholdResult]:
        """户籍信息: address, head of household, members and their relations."""
        return await self._fetch("household", PersonQuery(id_number=id_number), ctx, HouseholdResult)

    async def death(self, id_number: str, ctx: CallContext) -> Fetched[DeathResult]:
        """死亡登记 (户籍注销)."""
        return await self._fetch("death", PersonQuery(id_number=id_number), ctx, DeathResult)

    async def photo(self, id_number: str, ctx: CallContext) -> Fetched[PhotoResult]:
        """制证照片 kept with the ID card record."""
        return await self._fetch("photo", PersonQuery(id_number=id_number), ctx, PhotoResult)
