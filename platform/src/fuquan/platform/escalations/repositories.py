"""All SQL of the escalation desk: the roster, escalations in scope, their trace, the tier job's take."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import Staff
from fuquan.platform.core.errors import NotFound
from fuquan.platform.escalations.models import DutyRoster, Escalation, EscalationEvent
from fuquan.tenants.scope import TenantScope

_NOT_FOUND = "办不成事反映 {id} 不存在"
OPEN = ("registered", "in_handling")


class EscalationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- the duty roster (值班表) --

    async def on_duty(self, scope: TenantScope, unit_code: str, day: date) -> int | None:
        return await self.session.scalar(
            select(DutyRoster.staff_id).where(
                DutyRoster.tenant_id == scope.tenant_id, DutyRoster.unit_code == unit_code, DutyRoster.day == day
            )
        )

    async def roster(self, scope: TenantScope, unit_code: str, first: date, last: date) -> list[tuple[date, int, str]]:
        rows = await self.session.execute(
            select(DutyRoster.day, DutyRoster.staff_id, Staff.display_name)
            .join(Staff, Staff.id == DutyRoster.staff_id)
            .where(DutyRoster.tenant_id == scope.tenant_id, DutyRoster.unit_code == unit_code,
                   DutyRoster.day >= first, DutyRoster.day <= last)
            .order_by(DutyRoster.day)
        )  # fmt: skip
        return [(day, int(staff), name) for day, staff, name in rows.tuples()]

    async def roster_entry(self, scope: TenantScope, unit_code: str, day: date) -> DutyRoster | None:
        return await self.session.scalar(
            select(DutyRoster).where(
                DutyRoster.tenant_id == scope.tenant_id, DutyRoster.unit_code == unit_code, DutyRoster.day == day
            )
        )

    # -- escalations --

    def add(self, escalation: Escalation) -> None:
        self.session.add(escalation)

    def _in_scope(self, scope: TenantScope, staff_id: int) -> Any:
        """At a desk inside the caller's subtree, or about a window inside it (mode 2), or owned by the caller."""
        return (Escalation.tenant_id == scope.tenant_id) & or_(
            Escalation.unit_code.startswith(scope.root_code, autoescape=True),
            Escalation.responsible_unit.startswith(scope.root_code, autoescape=True),
            Escalation.owner_id == staff_id,
        )

    async def get(
        self, scope: TenantScope, staff_id: int, escalation_id: int, *, for_update: bool = False
    ) -> Escalation:
        """In scope or ``NotFound`` (another tenant's, another subtree's and an absent one read alike)."""
        query = select(Escalation).where(Escalation.id == escalation_id, self._in_scope(scope, staff_id))
        found = await self.session.scalar(query.with_for_update() if for_update else query)
        if found is None:
            raise NotFound(_NOT_FOUND.format(id=escalation_id))
        return found

    async def page(self, scope: TenantScope, staff_id: int, status: str | None, limit: int, offset: int
                   ) -> tuple[int, list[Escalation]]:  # fmt: skip
        where = [self._in_scope(scope, staff_id)]
        if status:
            where.append(Escalation.status == status)
        total = await self.session.scalar(select(func.count()).select_from(Escalation).where(*where)) or 0
        rows = await self.session.scalars(
            select(Escalation).where(*where).order_by(Escalation.id.desc()).limit(limit).offset(offset)
        )
        return int(total), list(rows)

    async def find_by_reg_no(self, reg_no: str) -> Escalation | None:
        """The resident's lookup: the registration number names the desk, hence the tenant; the query code decides."""
        return await self.session.scalar(select(Escalation).where(Escalation.reg_no == reg_no).limit(1))

    async def trace(self, escalation_id: int) -> list[EscalationEvent]:
        rows = await self.session.scalars(
            select(EscalationEvent).where(EscalationEvent.escalation_id == escalation_id).order_by(EscalationEvent.seq)
        )
        return list(rows)

    # -- the tier job --

    async def take_overdue_tiers(self, today: date, limit: int) -> list[Escalation]:
        """Open escalations whose tier's last day has passed, locked (PostgreSQL) so two replicas do not both
        raise the same one (the second finds the tier already moved: its UPDATE checks the tier it read)."""
        rows = await self.session.scalars(
            select(Escalation).where(Escalation.status.in_(OPEN), Escalation.tier_due < today)
            .order_by(Escalation.id).limit(limit).with_for_update(skip_locked=True)
        )  # fmt: skip
        return list(rows)

    async def raise_tier(self, escalation: Escalation, tier: int, due: date | None) -> bool:
        """Move to ``tier`` if still at the tier read (another replica may have moved it)."""
        result = await self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id, Escalation.tier == escalation.tier, Escalation.status.in_(OPEN))
            .values(tier=tier, tier_due=due, version=Escalation.version + 1, trace_length=Escalation.trace_length + 1)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def staff_names(self, ids: Sequence[int]) -> dict[int, str]:
        rows = await self.session.execute(select(Staff.id, Staff.display_name, Staff.username).where(Staff.id.in_(ids)))
        return {int(i): display or username for i, display, username in rows.tuples()}

    async def usernames(self, ids: Sequence[int]) -> dict[int, str]:
        rows = await self.session.execute(select(Staff.id, Staff.username).where(Staff.id.in_(ids)))
        return {int(i): username for i, username in rows.tuples()}
