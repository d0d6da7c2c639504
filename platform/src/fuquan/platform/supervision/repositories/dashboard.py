"""The dashboard's SQL (电子监察看板): counts, open and finished cases and ratings of one subtree.

Every query is bounded by the caller's ``TenantScope`` and a unit inside it, and finds a case the way
the case queue does: accepted at, or routed to, a unit of the subtree. A case is counted for the unit
that accepted it (the citizen's service point, 前台受理) when that unit lies in the subtree, otherwise
for the unit it was routed to (后台审批).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from fuquan.platform.cases.models import Case, CasePause
from fuquan.platform.core.errors import NotFound
from fuquan.tenants.scope import TenantScope

GOOD_RATING = 3  # 好评: 非常满意、满意、基本满意 (5–3); 差评: 不满意、非常不满意 (2–1), as in 国办发〔2019〕51号

# what the deadline clock (cases/reads.py ``timing``) reads, and what a warning row shows
_CLOCK_COLUMNS = (
    Case.id, Case.version, Case.status, Case.accepting_unit, Case.routed_to, Case.promised_days,
    Case.accepted_on, Case.decided_at, Case.closed_at,
)  # fmt: skip
_ROW_COLUMNS = (*_CLOCK_COLUMNS, Case.receipt_no, Case.item_code, Case.applicant_id, Case.deadline)


@dataclass(frozen=True, slots=True)
class StatusCount:
    unit: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class RatingSums:
    """好差评 of one unit's cases: how many were rated, the sum of the levels, how many good and bad."""

    unit: str
    count: int
    total: int
    good: int
    bad: int


class SupervisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def _subtree(scope: TenantScope, code: str) -> ColumnElement[bool]:
        if not scope.covers(code):  # the service looked the unit up in scope first; this is the backstop
            raise NotFound(f"单位 {code} 不存在或不在您的管辖范围内")
        return (Case.tenant_id == scope.tenant_id) & or_(
            Case.accepting_unit.startswith(code, autoescape=True), Case.routed_to.startswith(code, autoescape=True)
        )

    @staticmethod
    def _unit_of(code: str) -> ColumnElement[str | None]:
        """The unit a case counts for, within the subtree of ``code``."""
        return case((Case.accepting_unit.startswith(code, autoescape=True), Case.accepting_unit), else_=Case.routed_to)

    def _attributed(self, scope: TenantScope, code: str, *columns: ColumnElement[Any]) -> Select[Any]:
        # grouped through a subquery: PostgreSQL does not match a parameterised CASE in SELECT with the one in GROUP BY
        return select(self._unit_of(code).label("unit"), *columns).where(self._subtree(scope, code))

    async def status_counts(self, scope: TenantScope, code: str) -> list[StatusCount]:
        """How many cases of the subtree are in each status, per unit."""
        inner = self._attributed(scope, code, Case.status.label("status")).subquery()
        rows = await self.session.execute(
            select(inner.c.unit, inner.c.status, func.count()).group_by(inner.c.unit, inner.c.status)
        )
        return [StatusCount(unit, status, int(count)) for unit, status, count in rows.tuples()]

    async def rating_sums(self, scope: TenantScope, code: str) -> list[RatingSums]:
        """好差评 per unit: sums rather than averages, so that a subtree's average weighs every rating once."""
        inner = self._attributed(scope, code, Case.rating.label("rating")).subquery()
        rating = inner.c.rating
        rows = await self.session.execute(
            select(
                inner.c.unit,
                func.count(rating),
                func.coalesce(func.sum(rating), 0),
                func.coalesce(func.sum(case((rating >= GOOD_RATING, 1), else_=0)), 0),
                func.coalesce(func.sum(case((rating < GOOD_RATING, 1), else_=0)), 0),
            )
            .where(rating.is_not(None))
            .group_by(inner.c.unit)
        )
        return [RatingSums(unit, int(n), int(sum_), int(good), int(bad)) for unit, n, sum_, good, bad in rows.tuples()]

    def _clocked(self, scope: TenantScope, code: str, statuses: Sequence[str]) -> ColumnElement[bool]:
        return self._subtree(scope, code) & Case.status.in_(list(statuses)) & Case.accepted_on.is_not(None)

    async def clocked_cases(
        self, scope: TenantScope, code: str, statuses: Sequence[str]
    ) -> tuple[list[Case], dict[int, list[CasePause]]]:
        """Accepted cases of the subtree in ``statuses`` with their pauses (补正, 特别程序), holding just what
        the deadline clock and a warning row read. Pauses are joined, not listed by id: a province has many cases."""
        where = self._clocked(scope, code, statuses)
        cases = list(
            await self.session.scalars(
                select(Case).options(load_only(*_ROW_COLUMNS, raiseload=True)).where(where).order_by(Case.id)
            )
        )
        pauses: dict[int, list[CasePause]] = {row.id: [] for row in cases}
        rows = await self.session.scalars(
            select(CasePause).join(Case, Case.id == CasePause.case_id).where(where).order_by(CasePause.id)
        )
        for pause in rows:
            pauses.setdefault(pause.case_id, []).append(pause)
        return cases, pauses


def unit_of(row: Case, code: str) -> str:
    """The unit a loaded case counts for within the subtree of ``code`` (as ``_unit_of`` says in SQL)."""
    if row.accepting_unit.startswith(code) or row.routed_to is None:
        return row.accepting_unit
    return row.routed_to
