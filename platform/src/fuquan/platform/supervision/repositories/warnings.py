"""The warning job's SQL (预警推送): alarms cleared as they are taken, so each goes out once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.cases.models import Case, CaseEvent, CaseMaterial, CasePause

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
