"""All SQL about staff, roles, tokens and second factors."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import ApiToken, RecoveryCode, RoleAssignment, SecondFactor, Staff
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

    async def holding(self, scope: TenantScope, role: str, unit_code: str) -> list[int]:
        """The active staff holding ``role`` at exactly ``unit_code``."""
        rows = await self.session.scalars(
            select(RoleAssignment.staff_id).join(Staff, Staff.id == RoleAssignment.staff_id)
            .where(RoleAssignment.tenant_id == scope.tenant_id, RoleAssignment.role == role,
                   RoleAssignment.unit_code == unit_code, Staff.active.is_(True))
        )  # fmt: skip
        return [int(staff_id) for staff_id in rows]

    async def add(self, staff: Staff) -> Staff:
        self.session.add(staff)
        await self.session.flush()
        return staff

    async def replace_password_hash(self, staff_id: int, old: str, new: str) -> bool:
        """Store ``new`` if the hash is still ``old``: False when another request changed it meanwhile."""
        result = await self.session.execute(
            update(Staff)
            .where(Staff.id == staff_id, Staff.password_hash == old)
            .values(password_hash=new)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


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

    async def live_of_staff(self, staff_id: int, now: datetime) -> list[tuple[int, str]]:
        """(id, digest) of the person's tokens still live."""
        rows = await self.session.execute(
            select(ApiToken.id, ApiToken.digest).where(
                ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
            )
        )
        return [(token_id, digest) for token_id, digest in rows.tuples()]

    async def revoke_all(self, staff_id: int, now: datetime) -> None:
        await self.session.execute(
            update(ApiToken)
            .where(ApiToken.staff_id == staff_id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > now)
            .values(revoked_at=now)
        )


class FactorRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_staff(self, staff_id: int) -> SecondFactor | None:
        return await self.session.scalar(select(SecondFactor).where(SecondFactor.staff_id == staff_id))

    async def add(self, factor: SecondFactor) -> SecondFactor:
        self.session.add(factor)
        await self.session.flush()
        return factor

    async def use_step(self, factor_id: int, step: int, *, enrolled_at: datetime | None = None) -> bool:
        """Record ``step`` as used, unless it (or a later one) already was: True when this call took it. One
        statement, so of two requests with the same code only one wins (the other waits on the row, then finds
        the step taken)."""
        values: dict[str, object] = {"last_step": step}
        if enrolled_at is not None:
            values["enrolled_at"] = enrolled_at
        result = await self.session.execute(
            update(SecondFactor)
            .where(
                SecondFactor.id == factor_id,
                or_(SecondFactor.last_step.is_(None), SecondFactor.last_step < step),
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def remove(self, staff_id: int) -> bool:
        """Delete the person's factor and recovery codes: True when there was a factor."""
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff_id))
        result = await self.session.execute(delete(SecondFactor).where(SecondFactor.staff_id == staff_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def replace_recovery_codes(self, staff_id: int, digests: Iterable[str]) -> None:
        await self.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff_id))
        self.session.add_all(RecoveryCode(staff_id=staff_id, digest=digest) for digest in digests)
        await self.session.flush()

    async def use_recovery_code(self, staff_id: int, digest: str, now: datetime) -> bool:
        """Mark the unused recovery code with this digest used: True when there was one (a code works once)."""
        result = await self.session.execute(
            update(RecoveryCode)
            .where(RecoveryCode.staff_id == staff_id, RecoveryCode.digest == digest, RecoveryCode.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def recovery_codes_left(self, staff_id: int) -> int:
        rows = await self.session.scalars(
            select(RecoveryCode.id).where(RecoveryCode.staff_id == staff_id, RecoveryCode.used_at.is_(None))
        )
        return len(rows.all())
