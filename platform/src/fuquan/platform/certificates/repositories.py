"""All SQL about organ signing keys and e-certificates."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.certificates.models import ACTIVE, RETIRED, REVOKED, VALID, Certificate, OrganKey
from fuquan.platform.core.db import conflict_insert
from fuquan.platform.core.tenancy import OfTenant
from fuquan.tenants.models import Tenant
from fuquan.tenants.scope import TenantScope, whole_tenant


class OrganKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, scope: OfTenant, unit_code: str) -> OrganKey | None:
        return await self.session.scalar(
            select(OrganKey).where(
                OrganKey.tenant_id == scope.tenant_id, OrganKey.unit_code == unit_code, OrganKey.state == ACTIVE
            )
        )

    async def of_organ(self, scope: OfTenant, unit_code: str) -> list[OrganKey]:
        found = await self.session.scalars(
            select(OrganKey)
            .where(OrganKey.tenant_id == scope.tenant_id, OrganKey.unit_code == unit_code)
            .order_by(OrganKey.serial)
        )
        return list(found)

    async def last_serial(self, scope: OfTenant, unit_code: str) -> int:
        found = await self.session.scalar(
            select(func.max(OrganKey.serial)).where(
                OrganKey.tenant_id == scope.tenant_id, OrganKey.unit_code == unit_code
            )
        )
        return int(found or 0)

    async def add(self, row: Mapping[str, Any]) -> bool:
        """The key, unless its (tenant, organ, serial) is taken: of two processes making an organ's next key at
        once, one wins (True) and the other reads the winner's."""
        statement = conflict_insert(self.session, OrganKey).on_conflict_do_nothing(
            index_elements=["tenant_id", "unit_code", "serial"]
        )
        result = await self.session.execute(statement.values(dict(row)).returning(OrganKey.id))
        return result.first() is not None

    async def retire(self, key: OrganKey, now: datetime) -> bool:
        """Retire ``key`` unless another rotation already did (then False)."""
        result = await self.session.execute(
            update(OrganKey)
            .where(OrganKey.id == key.id, OrganKey.state == ACTIVE)
            .values(state=RETIRED, retired_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def by_ids(self, ids: Collection[int]) -> list[OrganKey]:
        if not ids:
            return []
        return list(await self.session.scalars(select(OrganKey).where(OrganKey.id.in_(ids))))

    async def all(self) -> list[OrganKey]:
        return list(await self.session.scalars(select(OrganKey).order_by(OrganKey.id)))

    async def rewrap(self, key: OrganKey, master_id: str, wrapped: bytes) -> bool:
        """Store ``key`` wrapped anew, unless another rotation got there first (then False)."""
        result = await self.session.execute(
            update(OrganKey)
            .where(OrganKey.id == key.id, OrganKey.master_id == key.master_id)
            .values(master_id=master_id, wrapped=wrapped)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


class CertificateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, certificate: Certificate) -> None:
        self.session.add(certificate)

    async def of_case(self, scope: OfTenant, case_id: int) -> list[Certificate]:
        found = await self.session.scalars(
            select(Certificate)
            .where(Certificate.tenant_id == scope.tenant_id, Certificate.case_id == case_id)
            .order_by(Certificate.id)
        )
        return list(found)

    async def count_of_case(self, case_id: int) -> int:
        return int(await self.session.scalar(select(func.count()).where(Certificate.case_id == case_id)) or 0)

    async def published(self, number: str, verify_code: str) -> tuple[Certificate, OrganKey, TenantScope] | None:
        """The certificate of a number and 核验码, from any tenant (the public page has none), with its key and its
        tenant (whose data key encrypted the record)."""
        row = (
            await self.session.execute(
                select(Certificate, OrganKey, Tenant)
                .join(OrganKey, OrganKey.id == Certificate.key_id)
                .join(Tenant, Tenant.id == Certificate.tenant_id)
                .where(Certificate.number == number, Certificate.verify_code == verify_code)
            )
        ).first()
        return None if row is None else (row[0], row[1], whole_tenant(row[2]))

    async def revoke_of_case(
        self, scope: OfTenant, case_id: int, reason: str, staff_id: int | None, now: datetime
    ) -> list[str]:
        """Revoke the case's valid certificates; their numbers."""
        result = await self.session.execute(
            update(Certificate)
            .where(
                Certificate.tenant_id == scope.tenant_id, Certificate.case_id == case_id, Certificate.status == VALID
            )
            .values(status=REVOKED, revoked_at=now, revoked_reason=reason, revoked_by=staff_id)
            .returning(Certificate.number)
            .execution_options(synchronize_session=False)
        )
        return list(result.scalars())
