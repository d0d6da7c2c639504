"""All SQL about staff, roles and tokens."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import ApiToken, Staff
from fuquan.tenants.scope import TenantScope


class StaffRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_username(self, username: str) -> Staff | None:
        return await self.session.scalar(select(Staff).where(Staff.username == username))

    async def by_id(self, staff_id: int) -> Staff | None:
        return await self.session.get(Staff, staff_id)

    async def display_names(self, scope: TenantScope, usernames: Iterable[str]) -> dict[str, str]:
        """username → display name, for this tenant's staff only (others are simply absent)."""
        wanted = sorted(set(usernames))
        if not wanted:
            return {}
        rows = await self.session.execute(
            select(Staff.username, Staff.display_name).where(
                Staff.tenant_id == scope.tenant_id, Staff.username.in_(wanted)
            )
        )
        return {username: display or username for username, display in rows.tuples()}

    async def add(self, staff: Staff) -> Staff:
        self.session.add(staff)
        await self.session.flush()
        return staff


class TokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: ApiToken) -> ApiToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def live(self, digest: str, now: datetime) -> tuple[ApiToken, Staff] | None:
        row = await self.session.execute(
            select(ApiToken, Staff)
            .join(Staff, Staff.id == ApiToken.staff_id)
            .where(
                ApiToken.digest == digest,
                ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > now,
                Staff.active.is_(True),
            )
        )
        found = row.tuples().first()
        return None if found is None else (found[0], found[1])

    async def revoke(self, token_id: int, now: datetime) -> None:
        await self.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(revoked_at=now))
