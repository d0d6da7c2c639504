"""All SQL of supervision (电子监察): counts, open and finished cases and ratings of one subtree.

Every query is bounded by the caller's ``TenantScope`` and a unit inside it, and finds a case the way
the case queue does: accepted at, or routed to, a unit of the subtree. A case is counted for the unit
that accepted it (the citizen's service point, 前台受理) when that unit lies in the subtree, otherwise
for the unit it was routed to (后台审批).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only

from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.cases.models import Case, CaseEvent, CaseFollowUp, CaseMaterial, CasePause
from fuquan.platform.core.errors import NotFound
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.supervision.models import Accountability, Ranking, SupervisionOrder
from fuquan.tenants.divisions import ancestor_codes
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


# -- the warning job (预警推送): alarms cleared as they are taken, so each goes out once ----------------------------

RUNNING = ("accepted", "in_review")  # the clock runs: yellow and red apply


@dataclass(frozen=True, slots=True)
class Alarmed:
    """A case whose warning fell due, as the job tells of it."""

    id: int
    receipt_no: str
    item_code: str
    unit: str  # where it sits now: the deciding unit once accepted, else the accepting one
    handler: int | None  # who has it in hand: the decider, else the acceptor, else whoever received it
    detail: str  # the due day, or the material or procedure concerned


class WarningRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take_clock_alarms(self, tenant_id: int, column: str, today: Any, limit: int) -> list[Alarmed]:
        """Cases of the tenant whose ``column`` (yellow_on, red_on) has come, the clock running; their alarm is
        cleared in the same statement (a red one clears the yellow too: a case that is overdue is not warned late)."""
        due = getattr(Case, column)
        ids = select(Case.id).where(Case.tenant_id == tenant_id, Case.status.in_(RUNNING), due <= today).limit(limit)
        cleared: dict[str, Any] = {column: None} | ({"yellow_on": None} if column == "red_on" else {})
        rows = await self.session.execute(
            update(Case).where(Case.id.in_(ids.scalar_subquery()), due <= today).values(cleared)
            .returning(Case.id, Case.receipt_no, Case.item_code, Case.routed_to, Case.accepting_unit,
                       Case.decider_id, Case.acceptor_id, Case.deadline)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return [
            Alarmed(
                id, receipt_no, item, routed or accepting, decider or acceptor, deadline.isoformat() if deadline else ""
            )
            for id, receipt_no, item, routed, accepting, decider, acceptor, deadline in rows.tuples()
        ]

    async def take_acceptance_alarms(self, tenant_id: int, today: Any, limit: int) -> list[Alarmed]:
        """Submitted cases on the last day of their acceptance period (or past it), not yet accepted or refused."""
        ids = select(Case.id).where(Case.tenant_id == tenant_id, Case.status == "submitted",
                                    Case.accept_by <= today).limit(limit)  # fmt: skip
        rows = await self.session.execute(
            update(Case).where(Case.id.in_(ids.scalar_subquery()), Case.accept_by <= today).values(accept_by=None)
            .returning(Case.id, Case.receipt_no, Case.item_code, Case.accepting_unit, Case.created_by, Case.accept_by)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return [Alarmed(id, no, item, unit, staff, "") for id, no, item, unit, staff, _ in rows.tuples()]

    async def take_deferral_alarms(self, tenant_id: int, today: Any, limit: int) -> list[Alarmed]:
        """Deferred (容缺) materials past their due date on cases still open."""
        ids = (
            select(CaseMaterial.id).join(Case, Case.id == CaseMaterial.case_id)
            .where(Case.tenant_id == tenant_id, CaseMaterial.state == "deferred", CaseMaterial.defer_until < today,
                   CaseMaterial.overdue_warned.is_(False), Case.closed_at.is_(None))
            .limit(limit)
        )  # fmt: skip
        taken = await self.session.execute(
            update(CaseMaterial)
            .where(CaseMaterial.id.in_(ids.scalar_subquery()), CaseMaterial.overdue_warned.is_(False))
            .values(overdue_warned=True).returning(CaseMaterial.case_id, CaseMaterial.name, CaseMaterial.defer_until)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return await self._of_cases(list(taken.tuples()), lambda name, until: f"{name}（应于 {until} 前补齐）")

    async def take_suspension_alarms(self, tenant_id: int, today: Any, limit: int) -> list[Alarmed]:
        """Special procedures (特别程序) still open past their limit."""
        ids = (
            select(CasePause.id).join(Case, Case.id == CasePause.case_id)
            .where(Case.tenant_id == tenant_id, CasePause.kind == "special", CasePause.ended_on.is_(None),
                   CasePause.limit_on < today, CasePause.overdue_warned.is_(False))
            .limit(limit)
        )  # fmt: skip
        taken = await self.session.execute(
            update(CasePause).where(CasePause.id.in_(ids.scalar_subquery()), CasePause.overdue_warned.is_(False))
            .values(overdue_warned=True).returning(CasePause.case_id, CasePause.started_on, CasePause.limit_on)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return await self._of_cases(list(taken.tuples()), lambda started, limit_on: f"{started} 起，期限 {limit_on}")

    async def _of_cases(self, taken: list[tuple[Any, ...]], describe: Any) -> list[Alarmed]:
        if not taken:
            return []
        cases = {
            row.id: row
            for row in await self.session.execute(
                select(
                    Case.id,
                    Case.receipt_no,
                    Case.item_code,
                    Case.routed_to,
                    Case.accepting_unit,
                    Case.decider_id,
                    Case.acceptor_id,
                ).where(Case.id.in_({case_id for case_id, *_ in taken}))
            )
        }
        return [
            Alarmed(
                case_id,
                cases[case_id].receipt_no,
                cases[case_id].item_code,
                cases[case_id].routed_to or cases[case_id].accepting_unit,
                cases[case_id].decider_id or cases[case_id].acceptor_id,
                describe(*rest),
            )
            for case_id, *rest in taken
        ]

    async def holders(self, tenant_id: int, roles: Sequence[str]) -> list[tuple[int, str, str]]:
        """(staff id, unit, role) of the tenant's active staff holding ``roles``."""
        rows = await self.session.execute(
            select(RoleAssignment.staff_id, RoleAssignment.unit_code, RoleAssignment.role)
            .join(Staff, Staff.id == RoleAssignment.staff_id)
            .where(RoleAssignment.tenant_id == tenant_id, RoleAssignment.role.in_(roles), Staff.active.is_(True))
        )
        return [(int(staff), unit, role) for staff, unit, role in rows.tuples()]

    async def unset_alarms(self, limit: int) -> list[Case]:
        """Cases from before the warning dates (or the working days taken) were kept (``alarms_set`` false), a batch
        at a time."""
        rows = await self.session.scalars(select(Case).where(Case.alarms_set.is_(False)).order_by(Case.id).limit(limit))
        return list(rows)

    async def last_submissions(self, case_ids: Sequence[int]) -> dict[int, Any]:
        """When each case was last submitted (提交, or 补正后重新提交)."""
        rows = await self.session.execute(
            select(CaseEvent.case_id, func.max(CaseEvent.at))
            .where(CaseEvent.case_id.in_(case_ids), CaseEvent.action.in_(("submit", "resubmit")))
            .group_by(CaseEvent.case_id)
        )
        return dict(list(rows.tuples()))  # a TupleResult has keys(): dict() would read it as a mapping


# -- 差评整改 (follow-ups of poor ratings) -------------------------------------------------------------------------


class FollowUpRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, scope: TenantScope, follow_up_id: int, *, for_update: bool = False) -> CaseFollowUp:
        """In the caller's subtree, else ``NotFound`` (another tenant's and an absent one read alike)."""
        query = select(CaseFollowUp).where(
            CaseFollowUp.id == follow_up_id, CaseFollowUp.tenant_id == scope.tenant_id,
            CaseFollowUp.unit_code.startswith(scope.root_code, autoescape=True),
        )  # fmt: skip
        found = await self.session.scalar(query.with_for_update() if for_update else query)
        if found is None:
            raise NotFound(f"差评整改 {follow_up_id} 不存在")
        return found

    async def page(self, scope: TenantScope, status: str | None, limit: int) -> list[tuple[CaseFollowUp, str]]:
        where = [CaseFollowUp.tenant_id == scope.tenant_id,
                 CaseFollowUp.unit_code.startswith(scope.root_code, autoescape=True)]  # fmt: skip
        if status:
            where.append(CaseFollowUp.status == status)
        rows = await self.session.execute(
            select(CaseFollowUp, Case.receipt_no).join(Case, Case.id == CaseFollowUp.case_id)
            .where(*where).order_by(CaseFollowUp.id.desc()).limit(limit)
        )  # fmt: skip
        return [(follow_up, receipt_no) for follow_up, receipt_no in rows.tuples()]

    async def receipt_no(self, case_id: int) -> str:
        return str(await self.session.scalar(select(Case.receipt_no).where(Case.id == case_id)))

    async def for_rates(self, scope: TenantScope, unit_code: str) -> list[CaseFollowUp]:
        """Every follow-up of the unit's subtree (for the callback and rectification rates)."""
        rows = await self.session.scalars(
            select(CaseFollowUp).where(
                CaseFollowUp.tenant_id == scope.tenant_id, CaseFollowUp.unit_code.startswith(unit_code, autoescape=True)
            )
        )
        return list(rows)


# -- 督办单 and 责任追究 ------------------------------------------------------------------------------------------


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


# -- staff and unit performance (绩效, 办件结果比对) -----------------------------------------------------------------

STEP_ACTIONS = ("accept", "refuse", "request_supplement", "approve", "deny", "issue")


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


class RankingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, ranking: Ranking) -> None:
        self.session.add(ranking)

    async def exists(self, scope: TenantScope, unit_code: str, month: date, kind: str) -> bool:
        found = await self.session.scalar(select(Ranking.id).where(
            Ranking.tenant_id == scope.tenant_id, Ranking.unit_code == unit_code, Ranking.month == month,
            Ranking.kind == kind,
        ))  # fmt: skip
        return found is not None

    async def visible(self, scope: TenantScope, unit_code: str, limit: int) -> list[Ranking]:
        """Published for ``unit_code`` or a unit above it, or beneath the caller's scope, newest first."""
        above = [*ancestor_codes(unit_code), unit_code]
        rows = await self.session.scalars(
            select(Ranking).where(Ranking.tenant_id == scope.tenant_id, or_(
                Ranking.unit_code.in_(above), Ranking.unit_code.startswith(scope.root_code, autoescape=True)))
            .order_by(Ranking.month.desc(), Ranking.id.desc()).limit(limit)
        )  # fmt: skip
        return list(rows)

    async def winners(self, scope: TenantScope, kind: str, key: str) -> list[int]:
        """Who is told of a first place: the star, or the winning unit's heads."""
        if kind == "star":
            rows = await self.session.scalars(
                select(Staff.id).where(Staff.tenant_id == scope.tenant_id, Staff.username == key)
            )
        else:
            rows = await self.session.scalars(
                select(RoleAssignment.staff_id).where(RoleAssignment.tenant_id == scope.tenant_id,
                                                      RoleAssignment.unit_code == key,
                                                      RoleAssignment.role == "unit_head")
            )  # fmt: skip
        return [int(i) for i in rows]
