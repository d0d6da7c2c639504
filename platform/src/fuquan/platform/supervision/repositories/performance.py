"""Staff and unit performance's SQL (绩效, 办件结果比对): sums per person or child unit over a period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.cases.models import Case, CaseEvent, CaseFollowUp
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.supervision.models import Accountability, SupervisionOrder
from fuquan.platform.supervision.repositories.dashboard import GOOD_RATING
from fuquan.tenants.scope import TenantScope

STEP_ACTIONS = ("accept", "refuse", "request_supplement", "request_correction", "approve", "deny", "issue")


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC: a range of the tenant's local days."""

    start: datetime
    end: datetime


class PerformanceRepository:
    """Sums per key over a period, keyed by staff id (``length`` None) or by the first ``length`` characters of a unit
    code (the child units of the chosen one; the chosen unit's own rows keep its code). Each query groups through a
    subquery: PostgreSQL does not match a parameterised expression in SELECT with the one in GROUP BY."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _key(staff: Any, unit: Any, length: int | None) -> Any:
        return (staff if length is None else func.substr(unit, 1, length)).label("key")

    async def _grouped(self, inner: Select[Any], *sums: Any) -> list[tuple[Any, ...]]:
        sub = inner.subquery()
        rows = await self.session.execute(
            select(sub.c.key, *(s(sub.c) for s in sums)).where(sub.c.key.is_not(None)).group_by(sub.c.key)
        )
        return [tuple(row) for row in rows.tuples()]

    async def steps(self, scope: TenantScope, code: str, period: Period, length: int | None) -> list[tuple[Any, ...]]:
        """(key, action, count) of the trace's steps in the subtree: 受理, 不予受理, 补正, 准予, 不予许可, 出件."""
        event = CaseEvent
        inner = select(self._key(event.actor_id, event.unit, length), event.action.label("action")).where(
            event.tenant_id == scope.tenant_id, event.at >= period.start, event.at < period.end,
            event.action.in_(STEP_ACTIONS), event.unit.startswith(code, autoescape=True),
        )  # fmt: skip
        sub = inner.subquery()
        rows = await self.session.execute(
            select(sub.c.key, sub.c.action, func.count())
            .where(sub.c.key.is_not(None))
            .group_by(sub.c.key, sub.c.action)
        )
        return [tuple(row) for row in rows.tuples()]

    async def decisions(self, scope: TenantScope, code: str, period: Period, length: int | None
                        ) -> list[tuple[Any, ...]]:  # fmt: skip
        """(key, decided with a time, on time, working days in all) of the cases decided in the period, by decider."""
        unit = func.coalesce(Case.routed_to, Case.accepting_unit)
        used = Case.working_days_used
        inner = select(
            self._key(Case.decider_id, unit, length), used.label("used"),
            case((used <= Case.promised_days, 1), else_=0).label("on_time"),
        ).where(Case.tenant_id == scope.tenant_id, Case.decided_at >= period.start, Case.decided_at < period.end,
                unit.startswith(code, autoescape=True))  # fmt: skip
        return await self._grouped(
            inner, lambda c: func.count(c.used), lambda c: func.coalesce(func.sum(c.on_time), 0),
            lambda c: func.coalesce(func.sum(c.used), 0),
        )  # fmt: skip

    async def ratings(self, scope: TenantScope, code: str, period: Period, length: int | None
                      ) -> list[tuple[Any, ...]]:  # fmt: skip
        """(key, ratings, sum of levels, poor ones) of the cases decided in the period, by who accepted them (the
        window the resident met)."""
        inner = select(self._key(Case.acceptor_id, Case.accepting_unit, length), Case.rating.label("rating")).where(
            Case.tenant_id == scope.tenant_id, Case.decided_at >= period.start, Case.decided_at < period.end,
            Case.accepting_unit.startswith(code, autoescape=True), Case.rating.is_not(None),
        )  # fmt: skip
        return await self._grouped(
            inner, lambda c: func.count(), lambda c: func.sum(c.rating),
            lambda c: func.sum(case((c.rating < GOOD_RATING, 1), else_=0)),
        )  # fmt: skip

    async def follow_ups(self, scope: TenantScope, code: str, period: Period, length: int | None
                         ) -> list[tuple[Any, ...]]:  # fmt: skip
        """(key, follow-ups opened, called back in time) — the unit's, or the accepting staff's."""
        called = case((CaseFollowUp.called_back_at.is_not(None), 1), else_=0)
        inner = (
            select(self._key(Case.acceptor_id, CaseFollowUp.unit_code, length), called.label("called"),
                   CaseFollowUp.called_back_at.label("at"), CaseFollowUp.callback_due.label("due"))
            .join(Case, Case.id == CaseFollowUp.case_id)
            .where(CaseFollowUp.tenant_id == scope.tenant_id, CaseFollowUp.opened_at >= period.start,
                   CaseFollowUp.opened_at < period.end, CaseFollowUp.unit_code.startswith(code, autoescape=True))
        )  # fmt: skip
        rows = await self.session.execute(select(inner.subquery()))
        return [tuple(row) for row in rows.tuples()]  # few: the in-time test is on local dates, in Python

    async def escalations(self, scope: TenantScope, code: str, period: Period, length: int | None
                          ) -> list[tuple[Any, ...]]:  # fmt: skip
        """(key, 办不成事 traced back to them): mode 2, the normal window's own failure (倒逼)."""
        inner = select(self._key(Escalation.responsible_staff_id, Escalation.responsible_unit, length)).where(
            Escalation.tenant_id == scope.tenant_id, Escalation.created_at >= period.start,
            Escalation.created_at < period.end, Escalation.mode == "window_failure",
            Escalation.responsible_unit.startswith(code, autoescape=True),
        )  # fmt: skip
        return await self._grouped(inner, lambda c: func.count())

    async def orders(self, scope: TenantScope, code: str, period: Period, length: int) -> list[tuple[Any, ...]]:
        """(unit key, 督办单 received) — orders go to units, not to persons."""
        inner = select(self._key(SupervisionOrder.issuer_id, SupervisionOrder.unit_code, length)).where(
            SupervisionOrder.tenant_id == scope.tenant_id, SupervisionOrder.created_at >= period.start,
            SupervisionOrder.created_at < period.end, SupervisionOrder.unit_code.startswith(code, autoescape=True),
        )  # fmt: skip
        return await self._grouped(inner, lambda c: func.count())

    async def accountability(self, scope: TenantScope, code: str, period: Period, length: int | None
                             ) -> list[tuple[Any, ...]]:  # fmt: skip
        inner = select(self._key(Accountability.staff_id, Accountability.unit_code, length)).where(
            Accountability.tenant_id == scope.tenant_id, Accountability.created_at >= period.start,
            Accountability.created_at < period.end, Accountability.unit_code.startswith(code, autoescape=True),
        )  # fmt: skip
        return await self._grouped(inner, lambda c: func.count())

    async def staff_units(self, scope: TenantScope, ids: Sequence[int]) -> dict[int, tuple[str, str, str]]:
        """(username, name, unit) of each staff member of the tenant: the unit of their first role."""
        if not ids:
            return {}
        rows = await self.session.execute(
            select(Staff.id, Staff.username, Staff.display_name, func.min(RoleAssignment.unit_code))
            .join(RoleAssignment, RoleAssignment.staff_id == Staff.id, isouter=True)
            .where(Staff.id.in_(ids), Staff.tenant_id == scope.tenant_id)
            .group_by(Staff.id, Staff.username, Staff.display_name)
        )  # fmt: skip
        return {int(i): (username, display or username, unit or "") for i, username, display, unit in rows.tuples()}
