"""督办单 and 责任追究's SQL, and the people and records they name."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.cases.models import Case
from fuquan.platform.core.errors import NotFound
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.supervision.models import Accountability, SupervisionOrder
from fuquan.tenants.scope import TenantScope


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _in_scope(scope: TenantScope) -> ColumnElement[bool]:
        """Ordered to a unit of the caller's subtree, or issued from one (the issuer and the superiors above)."""
        return (SupervisionOrder.tenant_id == scope.tenant_id) & or_(
            SupervisionOrder.unit_code.startswith(scope.root_code, autoescape=True),
            SupervisionOrder.issuer_unit.startswith(scope.root_code, autoescape=True),
        )

    def add(self, order: SupervisionOrder) -> None:
        self.session.add(order)

    async def get(self, scope: TenantScope, order_id: int, *, for_update: bool = False) -> SupervisionOrder:
        query = select(SupervisionOrder).where(SupervisionOrder.id == order_id, self._in_scope(scope))
        found = await self.session.scalar(query.with_for_update() if for_update else query)
        if found is None:
            raise NotFound(f"督办单 {order_id} 不存在")
        return found

    async def page(
        self, scope: TenantScope, status: str | None, case_id: int | None, escalation_id: int | None, limit: int
    ) -> list[SupervisionOrder]:
        where = [self._in_scope(scope)]
        if status:
            where.append(SupervisionOrder.status == status)
        if case_id is not None:
            where.append(SupervisionOrder.case_id == case_id)
        if escalation_id is not None:
            where.append(SupervisionOrder.escalation_id == escalation_id)
        rows = await self.session.scalars(
            select(SupervisionOrder).where(*where).order_by(SupervisionOrder.id.desc()).limit(limit)
        )
        return list(rows)

    async def take_overdue(self, tenant_id: int, today: date, now: datetime, limit: int) -> list[SupervisionOrder]:
        """Unanswered orders past their day and not yet sent up, marked sent up in the same statement (each goes up
        once, whichever replica takes it)."""
        ids = (
            select(SupervisionOrder.id)
            .where(SupervisionOrder.tenant_id == tenant_id, SupervisionOrder.status == "issued",
                   SupervisionOrder.due_on < today, SupervisionOrder.escalated_at.is_(None))
            .limit(limit)
        )  # fmt: skip
        taken = await self.session.scalars(
            update(SupervisionOrder)
            .where(SupervisionOrder.id.in_(ids.scalar_subquery()), SupervisionOrder.escalated_at.is_(None))
            .values(escalated_at=now, overdue=True, version=SupervisionOrder.version + 1)
            .returning(SupervisionOrder.id)
            .execution_options(synchronize_session=False)
        )
        ids_taken = list(taken)
        if not ids_taken:
            return []
        rows = await self.session.scalars(
            select(SupervisionOrder).where(SupervisionOrder.id.in_(ids_taken)).order_by(SupervisionOrder.id)
            .execution_options(populate_existing=True)
        )  # fmt: skip
        return list(rows)

    async def record_sent_up(self, order_id: int, unit_code: str, steps: list[dict[str, Any]]) -> None:
        await self.session.execute(
            update(SupervisionOrder).where(SupervisionOrder.id == order_id).values(escalated_to=unit_code, steps=steps)
            .execution_options(synchronize_session=False)
        )  # fmt: skip


class AccountabilityRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _in_scope(scope: TenantScope, staff_id: int) -> ColumnElement[bool]:
        """About a staff member of the caller's subtree, opened from it, or about the caller themself."""
        return (Accountability.tenant_id == scope.tenant_id) & or_(
            Accountability.unit_code.startswith(scope.root_code, autoescape=True),
            Accountability.opener_unit.startswith(scope.root_code, autoescape=True),
            Accountability.staff_id == staff_id,
        )

    def add(self, record: Accountability) -> None:
        self.session.add(record)

    async def get(self, scope: TenantScope, staff_id: int, record_id: int, *, for_update: bool = False
                  ) -> Accountability:  # fmt: skip
        query = select(Accountability).where(Accountability.id == record_id, self._in_scope(scope, staff_id))
        found = await self.session.scalar(query.with_for_update() if for_update else query)
        if found is None:
            raise NotFound(f"责任追究记录 {record_id} 不存在")
        return found

    async def page(self, scope: TenantScope, staff_id: int, status: str | None, limit: int, *, own_only: bool
                   ) -> list[Accountability]:  # fmt: skip
        """``own_only``: just the records about ``staff_id`` (a caller who is not a supervisor)."""
        where = [self._in_scope(scope, staff_id)]
        if own_only:
            where.append(Accountability.staff_id == staff_id)
        if status:
            where.append(Accountability.status == status)
        rows = await self.session.scalars(
            select(Accountability).where(*where).order_by(Accountability.id.desc()).limit(limit)
        )
        return list(rows)


class PeopleRepository:
    """Who the supervision records name: staff by id, and their unit."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def names(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Staff.id, Staff.display_name, Staff.username).where(Staff.id.in_(ids)))
        return {int(i): display or username for i, display, username in rows.tuples()}

    async def usernames(self, ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Staff.id, Staff.username).where(Staff.id.in_(ids)))
        return {int(i): username for i, username in rows.tuples()}

    async def units_of(self, scope: TenantScope, staff_id: int) -> list[str]:
        """The units where the active staff member holds a role, inside the caller's subtree (none: not theirs)."""
        rows = await self.session.scalars(
            select(RoleAssignment.unit_code).join(Staff, Staff.id == RoleAssignment.staff_id)
            .where(RoleAssignment.tenant_id == scope.tenant_id, RoleAssignment.staff_id == staff_id,
                   RoleAssignment.unit_code.startswith(scope.root_code, autoescape=True))
            .distinct()
        )  # fmt: skip
        return sorted(rows)

    async def cited_in_scope(self, scope: TenantScope, case_ids: Sequence[int], order_ids: Sequence[int],
                             escalation_ids: Sequence[int]) -> tuple[set[int], set[int], set[int]]:  # fmt: skip
        """Which of the cited cases, orders and escalations the caller can see (the rest read as absent)."""
        cases = set(await self.session.scalars(select(Case.id).where(
            Case.id.in_(case_ids), Case.tenant_id == scope.tenant_id,
            or_(Case.accepting_unit.startswith(scope.root_code, autoescape=True),
                Case.routed_to.startswith(scope.root_code, autoescape=True)),
        ))) if case_ids else set()  # fmt: skip
        orders = set(await self.session.scalars(
            select(SupervisionOrder.id).where(SupervisionOrder.id.in_(order_ids), OrderRepository._in_scope(scope))
        )) if order_ids else set()  # fmt: skip
        escalations = set(await self.session.scalars(select(Escalation.id).where(
            Escalation.id.in_(escalation_ids), Escalation.tenant_id == scope.tenant_id,
            or_(Escalation.unit_code.startswith(scope.root_code, autoescape=True),
                Escalation.responsible_unit.startswith(scope.root_code, autoescape=True)),
        ))) if escalation_ids else set()  # fmt: skip
        return cases, orders, escalations
