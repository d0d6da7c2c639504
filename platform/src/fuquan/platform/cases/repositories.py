"""All SQL about cases, applicants, materials, events and pauses."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseEvidence, CaseMaterial, CasePause
from fuquan.tenants.scope import TenantScope


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, scope: TenantScope, case_id: int, *, for_update: bool = False) -> Case | None:
        """A case whose accepting or deciding unit lies in the caller's scope; anything else reads as absent.

        ``for_update`` locks the row (PostgreSQL) so concurrent steps on one case queue up behind each other.
        """
        case = await self.session.get(Case, case_id, with_for_update=for_update or None, populate_existing=for_update)
        if case is None or case.tenant_id != scope.tenant_id:
            return None
        if not (scope.covers(case.accepting_unit) or (case.routed_to and scope.covers(case.routed_to))):
            return None
        return case

    async def by_idempotency_key(self, tenant_id: int, staff_id: int, key: str) -> Case | None:
        return await self.session.scalar(
            select(Case).where(Case.tenant_id == tenant_id, Case.created_by == staff_id, Case.idempotency_key == key)
        )

    async def by_receipt(self, tenant_id: int, receipt_no: str) -> Case | None:
        return await self.session.scalar(select(Case).where(Case.tenant_id == tenant_id, Case.receipt_no == receipt_no))

    async def add(self, case: Case, materials: list[CaseMaterial]) -> Case:
        self.session.add(case)
        await self.session.flush()
        for material in materials:
            material.case_id = case.id
        self.session.add_all(materials)
        await self.session.flush()
        return case

    async def queue(
        self,
        scope: TenantScope,
        *,
        statuses: list[str] | None,
        unit: str | None,
        item: str | None,
        limit: int,
        offset: int,
        accepting: str | None = None,
        routed: str | None = None,
    ) -> tuple[list[Case], int]:
        """Cases at (or routed to) units in the caller's subtree, newest first, with the total count.

        ``accepting`` / ``routed`` narrow it to one desk: the cases a unit accepted (前台) or must decide (后台)."""
        query = self._listing(scope, accepting=accepting, routed=routed)
        if statuses:
            query = query.where(Case.status.in_(statuses))
        if unit is not None:
            query = query.where(or_(Case.accepting_unit == unit, Case.routed_to == unit))
        if item is not None:
            query = query.where(Case.item_code == item)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(query.order_by(Case.id.desc()).limit(limit).offset(offset))
        return list(rows), int(total or 0)

    def _listing(self, scope: TenantScope, *, accepting: str | None, routed: str | None) -> Select[tuple[Case]]:
        query = select(Case).where(
            Case.tenant_id == scope.tenant_id,
            or_(
                Case.accepting_unit.startswith(scope.root_code, autoescape=True),
                Case.routed_to.startswith(scope.root_code, autoescape=True),
            ),
        )
        if accepting is not None:
            query = query.where(Case.accepting_unit == accepting)
        if routed is not None:
            query = query.where(Case.routed_to == routed)
        return query

    async def status_counts(
        self, scope: TenantScope, *, accepting: str | None = None, routed: str | None = None
    ) -> dict[str, int]:
        """How many of the listing's cases are in each status (a desk's queue tabs)."""
        listed = self._listing(scope, accepting=accepting, routed=routed).subquery()
        rows = await self.session.execute(select(listed.c.status, func.count()).group_by(listed.c.status))
        return {status: int(count) for status, count in rows.tuples()}

    async def last_event_at(self, case_ids: list[int], actions: list[str]) -> dict[int, datetime]:
        """When each case last went through one of ``actions`` (e.g. when it was last submitted)."""
        if not case_ids:
            return {}
        rows = await self.session.execute(
            select(CaseEvent.case_id, func.max(CaseEvent.at))
            .where(CaseEvent.case_id.in_(case_ids), CaseEvent.action.in_(actions))
            .group_by(CaseEvent.case_id)
        )
        return {case_id: at for case_id, at in rows.tuples()}  # noqa: C416 - a Result has keys(): dict() would misread it

    async def evidence(self, case_id: int) -> list[CaseEvidence]:
        rows = await self.session.scalars(
            select(CaseEvidence).where(CaseEvidence.case_id == case_id).order_by(CaseEvidence.id)
        )
        return list(rows)

    async def materials(self, case_id: int) -> list[CaseMaterial]:
        rows = await self.session.scalars(
            select(CaseMaterial).where(CaseMaterial.case_id == case_id).order_by(CaseMaterial.index)
        )
        return list(rows)

    async def materials_of(self, case_ids: list[int]) -> dict[int, list[CaseMaterial]]:
        found: dict[int, list[CaseMaterial]] = {case_id: [] for case_id in case_ids}
        if case_ids:
            rows = await self.session.scalars(
                select(CaseMaterial).where(CaseMaterial.case_id.in_(case_ids)).order_by(CaseMaterial.index)
            )
            for row in rows:
                found[row.case_id].append(row)
        return found

    async def events(self, case_id: int) -> list[CaseEvent]:
        rows = await self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
        return list(rows)

    async def next_event_seq(self, case_id: int) -> int:
        last = await self.session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case_id))
        return int(last or 0) + 1

    def add_event(self, event: CaseEvent) -> None:
        self.session.add(event)

    async def pauses(self, case_ids: list[int]) -> dict[int, list[CasePause]]:
        found: dict[int, list[CasePause]] = {case_id: [] for case_id in case_ids}
        if case_ids:
            rows = await self.session.scalars(
                select(CasePause).where(CasePause.case_id.in_(case_ids)).order_by(CasePause.id)
            )
            for row in rows:
                found[row.case_id].append(row)
        return found

    def open_pause(self, case_id: int, kind: str, day: date) -> None:
        self.session.add(CasePause(case_id=case_id, kind=kind, started_on=day))

    async def close_pause(self, case_id: int, day: date) -> None:
        pause = await self.session.scalar(
            select(CasePause).where(CasePause.case_id == case_id, CasePause.ended_on.is_(None))
        )
        if pause is not None:
            pause.ended_on = day


class ApplicantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_index(self, tenant_id: int, index: str) -> Applicant | None:
        return await self.session.scalar(
            select(Applicant).where(Applicant.tenant_id == tenant_id, Applicant.id_index == index)
        )

    async def get(self, applicant_id: int) -> Applicant:
        return await self.session.get_one(Applicant, applicant_id)

    async def many(self, ids: list[int]) -> dict[int, Applicant]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(Applicant).where(Applicant.id.in_(ids)))
        return {row.id: row for row in rows}

    async def add(self, applicant: Applicant) -> Applicant:
        self.session.add(applicant)
        await self.session.flush()
        return applicant
