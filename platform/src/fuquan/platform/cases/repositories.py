"""All SQL about cases, applicants, materials, events and pauses."""

from __future__ import annotations

from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Select, event, func, inspect, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseEvidence, CaseMaterial, CasePause
from fuquan.platform.core.db import Base, conflict_insert
from fuquan.platform.core.errors import NotFound
from fuquan.tenants.scope import TenantScope

Row = TypeVar("Row", bound=Base)
_KNOWN_MATERIALS = "fuquan.cases.known_materials"  # session.info, for the current transaction only


@event.listens_for(Session, "after_commit")
def _forget_known_materials(session: Session) -> None:
    session.info.pop(_KNOWN_MATERIALS, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_known_materials_on_rollback(session: Session, _previous_transaction: object) -> None:
    session.info.pop(_KNOWN_MATERIALS, None)


async def _insert_unless_taken(session: AsyncSession, row: Row, unique: tuple[str, ...]) -> Row | None:
    """INSERT ``row`` unless a row with the same ``unique`` key exists: the inserted row, or None.

    ON CONFLICT DO NOTHING, not a caught IntegrityError: the transaction stays usable on PostgreSQL, where a
    concurrent insert of the same key waits for the other transaction to commit and then yields (READ
    COMMITTED lets the next statement read the winner's row); and no SAVEPOINT, which pysqlite would turn
    into a commit when it opens the transaction."""
    model = type(row)
    values = {attr.key: getattr(row, attr.key) for attr in inspect(model).column_attrs if attr.key in row.__dict__}
    statement = (
        conflict_insert(session, model)
        .values(values)
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(model)
    )
    return await session.scalar(statement)


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, scope: TenantScope, case_id: int, *, for_update: bool = False) -> Case:
        """The case, if its accepting or deciding unit lies in the caller's scope; anything else — absent,
        another tenant's, outside the subtree — raises the same ``NotFound`` (no existence oracle).

        ``for_update`` locks the row (PostgreSQL) so concurrent steps on one case queue up behind each other.
        """
        query = self._listing(scope, accepting=None, routed=None).where(Case.id == case_id)
        if for_update:
            query = query.with_for_update().execution_options(populate_existing=True)
            self._known_materials().pop(case_id, None)  # read again under the lock
        case = await self.session.scalar(query)
        if case is None:
            raise NotFound(f"办件 #{case_id} 不存在或不在您的管辖范围内")
        return case

    async def by_idempotency_key(self, tenant_id: int, staff_id: int, key: str) -> Case | None:
        return await self.session.scalar(
            select(Case).where(Case.tenant_id == tenant_id, Case.created_by == staff_id, Case.idempotency_key == key)
        )

    async def by_receipt(self, tenant_id: int, receipt_no: str) -> Case | None:
        return await self.session.scalar(select(Case).where(Case.tenant_id == tenant_id, Case.receipt_no == receipt_no))

    async def rate(self, case: Case, level: int, comment: str | None, at: datetime, follow_up: bool) -> bool:
        """好差评, kept only if the case has none yet: the check is in the UPDATE itself, so of two ratings
        sent at once exactly one is kept (the other waits for it, then matches no row)."""
        result = await self.session.execute(
            update(Case)
            .where(Case.id == case.id, Case.rating.is_(None))
            .values(rating=level, rating_comment=comment, rated_at=at, needs_follow_up=follow_up,
                    version=Case.version + 1)
        )  # fmt: skip
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add(self, case: Case, materials: list[CaseMaterial]) -> tuple[Case, bool]:
        """(the new case, True) with its materials; or (the case, False) that a concurrent request with the
        same idempotency key created first."""
        added = await _insert_unless_taken(self.session, case, ("tenant_id", "created_by", "idempotency_key"))
        if added is None:
            assert case.idempotency_key is not None  # without a key nothing can conflict
            existing = await self.by_idempotency_key(case.tenant_id, case.created_by, case.idempotency_key)
            assert existing is not None  # the conflicting case is committed, so this statement sees it
            return existing, False
        for material in materials:
            material.case_id = added.id
        self.session.add_all(materials)
        await self.session.flush()
        self._known_materials()[added.id] = sorted(materials, key=lambda m: m.index)
        return added, True

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

    def _known_materials(self) -> dict[int, list[CaseMaterial]]:
        """The materials of the cases this transaction has read or created: a case's set of materials is fixed
        at creation and every change to one goes through the case's lock, so one read per request suffices."""
        known: dict[int, list[CaseMaterial]] = self.session.sync_session.info.setdefault(_KNOWN_MATERIALS, {})
        return known

    async def materials(self, case_id: int) -> list[CaseMaterial]:
        return (await self.materials_of([case_id]))[case_id]

    async def materials_of(self, case_ids: list[int]) -> dict[int, list[CaseMaterial]]:
        known = self._known_materials()
        found: dict[int, list[CaseMaterial]] = {case_id: [] for case_id in case_ids}
        wanted = [case_id for case_id in case_ids if case_id not in known]
        if wanted:
            rows = await self.session.scalars(
                select(CaseMaterial)
                .where(CaseMaterial.case_id.in_(wanted))
                .order_by(CaseMaterial.index)
                .execution_options(populate_existing=True)
            )
            for row in rows:
                found[row.case_id].append(row)
            for case_id in wanted:
                known[case_id] = found[case_id]
        return {case_id: known[case_id] for case_id in case_ids}

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
        """The applicants by id; those this session already holds (just added or read) cost no query."""
        held = self.session.identity_map
        found: dict[int, Applicant] = {}
        for applicant_id in set(ids):
            row = held.get(identity_key(Applicant, applicant_id))
            if isinstance(row, Applicant):
                found[applicant_id] = row
        missing = [applicant_id for applicant_id in set(ids) if applicant_id not in found]
        if missing:
            rows = await self.session.scalars(select(Applicant).where(Applicant.id.in_(missing)))
            found.update({row.id: row for row in rows})
        return found

    async def add(self, applicant: Applicant) -> Applicant:
        """The new applicant, or the one a concurrent request added for the same ID number first."""
        added = await _insert_unless_taken(self.session, applicant, ("tenant_id", "id_index"))
        if added is not None:
            return added
        found = await self.by_index(applicant.tenant_id, applicant.id_index)
        assert found is not None  # the conflicting row is committed, so this statement sees it
        return found
