"""All SQL about setting versions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.db import conflict_insert
from fuquan.platform.core.tenancy import OfTenant
from fuquan.platform.core.versions.models import SettingVersion


class SettingVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bump(self, scope: OfTenant, kind: str) -> int:
        """The new version (1 for a first change): one statement, so two changes at once get two versions."""
        values = {"tenant_id": scope.tenant_id, "kind": kind, "version": 1}
        statement = conflict_insert(self.session, SettingVersion).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["tenant_id", "kind"], set_={"version": SettingVersion.version + 1}
        )
        return int(await self.session.scalar(statement.returning(SettingVersion.version)) or 0)

    async def version(self, scope: OfTenant, kind: str) -> int:
        found = await self.session.scalar(
            select(SettingVersion.version).where(
                SettingVersion.tenant_id == scope.tenant_id, SettingVersion.kind == kind
            )
        )
        return int(found or 0)

    async def all(self) -> list[tuple[int, str, int]]:
        rows = await self.session.execute(select(SettingVersion.tenant_id, SettingVersion.kind, SettingVersion.version))
        return [(tenant_id, kind, int(version)) for tenant_id, kind, version in rows.tuples()]
