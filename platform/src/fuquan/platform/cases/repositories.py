"""All SQL about cases, applicants, materials, events and pauses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, bindparam, event, func, inspect, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from fuquan.platform.cases.models import (
    Applicant,
    Case,
    CaseEvent,
    CaseEvidence,
    CaseFile,
    CaseFollowUp,
    CaseMaterial,
    CasePause,
    ReceiptCounter,
)
from fuquan.platform.catalog.models import CatalogEdition, CatalogItem
from fuquan.platform.core.db import Base
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.tenancy import OfTenant
from fuquan.platform.core.upserts import compiled_upsert
from fuquan.tenants.scope import TenantScope

Row = TypeVar("Row", bound=Base)
_CASE_EVENT = cast(Table, CaseEvent.__table__)
_CASE_EVIDENCE = cast(Table, CaseEvidence.__table__)
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
    table = model.__table__

    def build(insert: Any) -> Any:
        statement = insert(table).values({key: bindparam(key) for key in values})
        return statement.on_conflict_do_nothing(index_elements=list(unique)).returning(*table.columns)

    upsert = compiled_upsert(session, ("unless_taken", model, unique, frozenset(values)), build, entity=model)
    return await session.scalar(upsert.statement, upsert.parameters(values))


# The statements every case request runs, built once: building one costs more than its compiled form's lookup.
_IN_SUBTREE = or_(
    Case.accepting_unit.like(bindparam("subtree"), escape="/"), Case.routed_to.like(bindparam("subtree"), escape="/")
)


def _subtree(root_code: str) -> str:
    """The LIKE pattern of the codes under ``root_code`` (itself included), its wildcards escaped."""
    return root_code.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


_CASE = (
    select(Case, Applicant)
    .join(Applicant, Applicant.id == Case.applicant_id)
    .where(Case.id == bindparam("case_id"), Case.tenant_id == bindparam("tenant_id"), _IN_SUBTREE)
)
_CASE_LOCKED = _CASE.with_for_update(of=Case)
# the case with its applicant and materials in one round trip (a row per material)
_CASE_FILE = (
    _CASE.add_columns(CaseMaterial)
    .outerjoin(CaseMaterial, CaseMaterial.case_id == Case.id)
    .order_by(CaseMaterial.index)
)
_CASE_FILE_LOCKED = _CASE_FILE.with_for_update(of=Case)
_VERSION_LOCKED = select(Case.version).where(Case.id == bindparam("case_id")).with_for_update()
_BY_IDEMPOTENCY_KEY = select(Case).where(
    Case.tenant_id == bindparam("tenant_id"),
    Case.created_by == bindparam("staff_id"),
    Case.idempotency_key == bindparam("key"),
)
_MATERIALS = (
    select(CaseMaterial)
    .where(CaseMaterial.case_id.in_(bindparam("case_ids", expanding=True)))
    .order_by(CaseMaterial.case_id, CaseMaterial.index)
)
_PAUSES = select(CasePause).where(CasePause.case_id.in_(bindparam("case_ids", expanding=True))).order_by(CasePause.id)
_APPLICANT_BY_INDEX = select(Applicant).where(
    Applicant.tenant_id == bindparam("tenant_id"), Applicant.id_index == bindparam("index")
)
_NOT_FOUND = "办件 #{case_id} 不存在或不在您的管辖范围内"  # absent, another tenant's or outside the subtree alike


def _in_scope(scope: TenantScope, case_id: int) -> dict[str, Any]:
    return {"case_id": case_id, "tenant_id": scope.tenant_id, "subtree": _subtree(scope.root_code)}


_REFRESH: dict[str, Any] = {"populate_existing": True}  # read under a lock: what is held may be stale
_AS_IS: dict[str, Any] = {}


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, scope: TenantScope, case_id: int, *, for_update: bool = False) -> Case:
        """The case, if its accepting or deciding unit lies in the caller's scope; anything else — absent,
        another tenant's, outside the subtree — raises the same ``NotFound`` (no existence oracle).

        ``for_update`` locks the row (PostgreSQL) so concurrent steps on one case queue up behind each other.
        """
        return (await self._read(scope, case_id, for_update=for_update))[0]

    async def load(self, scope: TenantScope, case_id: int, *, for_update: bool = False) -> CaseFile:
        """The case as ``get`` finds it, with its applicant and materials (in the same query) and related person."""
        query, options = (_CASE_FILE_LOCKED, _REFRESH) if for_update else (_CASE_FILE, _AS_IS)
        rows = (await self.session.execute(query, _in_scope(scope, case_id), execution_options=options)).tuples()
        found = rows.all()
        if not found:
            raise NotFound(_NOT_FOUND.format(case_id=case_id))
        case, applicant = found[0][0], found[0][1]
        materials = [material for _case, _applicant, material in found if material is not None]
        self._known_materials()[case.id] = (case.version, materials)
        return await self._file(case, applicant)

    async def still_current(self, file: CaseFile) -> bool:
        """Lock the case's row (PostgreSQL) and say whether it still has the version ``file`` was read at: every
        change of a case, its materials included, moves its version, so then the file needs no second read."""
        version = await self.session.scalar(_VERSION_LOCKED, {"case_id": file.case.id})
        return version == file.case.version

    async def _read(self, scope: TenantScope, case_id: int, *, for_update: bool) -> tuple[Case, Applicant]:
        query, options = (_CASE_LOCKED, _REFRESH) if for_update else (_CASE, _AS_IS)
        found = (await self.session.execute(query, _in_scope(scope, case_id), execution_options=options)).tuples()
        row = found.first()
        if row is None:
            raise NotFound(_NOT_FOUND.format(case_id=case_id))
        known = self._known_materials().get(case_id)
        if known is not None and known[0] != row[0].version:  # changed since its materials were read
            del self._known_materials()[case_id]
        return row[0], row[1]

    async def _file(self, case: Case, applicant: Applicant) -> CaseFile:
        related = None
        if case.related_person_id is not None:
            related = (await ApplicantRepository(self.session).many([case.related_person_id]))[case.related_person_id]
        return CaseFile(case, applicant, await self.materials(case.id), related)

    async def by_idempotency_key(self, scope: TenantScope, staff_id: int, key: str) -> Case | None:
        return await self.session.scalar(
            _BY_IDEMPOTENCY_KEY, {"tenant_id": scope.tenant_id, "staff_id": staff_id, "key": key}
        )

    async def by_receipt(self, scope: TenantScope, receipt_no: str) -> Case | None:
        return await self.session.scalar(
            select(Case).where(Case.tenant_id == scope.tenant_id, Case.receipt_no == receipt_no)
        )

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

    async def complaints(self, case_id: int) -> list[str]:
        """The statuses of the case's complaint follow-ups (投诉), oldest first."""
        rows = await self.session.scalars(
            select(CaseFollowUp.status).where(CaseFollowUp.case_id == case_id, CaseFollowUp.source == "complaint")
            .order_by(CaseFollowUp.seq)
        )  # fmt: skip
        return list(rows)

    async def add(
        self,
        scope: TenantScope,
        case: Case,
        applicant: Applicant,
        materials: list[CaseMaterial],
        related: Applicant | None,
    ) -> tuple[CaseFile, bool]:
        """(the new case, True) with its materials, written at the next flush; or (the case, False) that a
        concurrent request with the same idempotency key created first."""
        added = await _insert_unless_taken(self.session, case, ("tenant_id", "created_by", "idempotency_key"))
        if added is None:
            assert case.idempotency_key is not None  # without a key nothing can conflict
            existing = await self.by_idempotency_key(scope, case.created_by, case.idempotency_key)
            assert existing is not None  # the conflicting case is committed, so this statement sees it
            return await self._file(
                existing, (await ApplicantRepository(self.session).many([existing.applicant_id]))[existing.applicant_id]
            ), False
        for material in materials:
            material.case_id = added.id
        self.session.add_all(materials)
        listed = sorted(materials, key=lambda m: m.index)
        self._known_materials()[added.id] = (added.version, listed)
        return CaseFile(added, applicant, listed, related), True

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

    def _known_materials(self) -> dict[int, tuple[int | None, list[CaseMaterial]]]:
        """The materials of the cases this transaction has read or created, with the case version they were read
        at: a case's set of materials is fixed at creation and every change to one bumps the case's version
        under its lock, so one read per request suffices."""
        known: dict[int, tuple[int | None, list[CaseMaterial]]] = self.session.sync_session.info.setdefault(
            _KNOWN_MATERIALS, {}
        )
        return known

    async def materials(self, case_id: int) -> list[CaseMaterial]:
        return (await self.materials_of([case_id]))[case_id]

    async def materials_of(self, case_ids: list[int]) -> dict[int, list[CaseMaterial]]:
        known = self._known_materials()
        found: dict[int, list[CaseMaterial]] = {case_id: [] for case_id in case_ids}
        wanted = [case_id for case_id in case_ids if case_id not in known]
        if wanted:
            rows = await self.session.scalars(_MATERIALS, {"case_ids": wanted}, execution_options=_REFRESH)
            for row in rows:
                found[row.case_id].append(row)
            held = self.session.identity_map
            for case_id in wanted:
                case = held.get(identity_key(Case, case_id))
                known[case_id] = (case.version if isinstance(case, Case) else None, found[case_id])
        return {case_id: known[case_id][1] for case_id in case_ids}

    async def events(self, case_id: int) -> list[CaseEvent]:
        rows = await self.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
        return list(rows)

    @staticmethod
    def event_row(values: dict[str, Any]) -> NewRow:
        """One trace event, for a plain INSERT with the step's audit record (``audit.append(alongside=…)``):
        the request that writes it never reads it back or changes it."""
        return NewRow(_CASE_EVENT, values)

    @staticmethod
    def evidence_rows(rows: list[dict[str, Any]]) -> list[NewRow]:
        """Partner answers kept as evidence (never changed once written), for the step's statement."""
        return [NewRow(_CASE_EVIDENCE, values) for values in rows]

    async def pauses(self, case_ids: list[int]) -> dict[int, list[CasePause]]:
        found: dict[int, list[CasePause]] = {case_id: [] for case_id in case_ids}
        if case_ids:
            rows = await self.session.scalars(_PAUSES, {"case_ids": case_ids})
            for row in rows:
                found[row.case_id].append(row)
        return found

    def open_pause(self, case_id: int, kind: str, day: date, limit_on: date | None = None) -> None:
        self.session.add(CasePause(case_id=case_id, kind=kind, started_on=day, limit_on=limit_on))

    async def close_pause(self, case_id: int, day: date) -> None:
        pause = await self.session.scalar(
            select(CasePause).where(CasePause.case_id == case_id, CasePause.ended_on.is_(None))
        )
        if pause is not None:
            pause.ended_on = day

    # -- the upgrade of free forms (migration 0012): values set aside, sealed at the next start -----------------

    async def unsealed_forms(self, scope: OfTenant, limit: int) -> list[Case]:
        rows = await self.session.scalars(
            select(Case)
            .where(Case.tenant_id == scope.tenant_id, Case.form_plain.is_not(None))
            .order_by(Case.id)
            .limit(limit)
        )
        return list(rows)

    async def items_of_cases(self, scope: OfTenant, cases: list[Case]) -> dict[int, CatalogItem]:
        """The catalogue item (of its own edition) of each case, by case id."""
        editions = {(case.item_code, case.catalog_edition) for case in cases}
        rows = (
            await self.session.execute(
                select(CatalogItem, CatalogEdition.number)
                .join(CatalogEdition, CatalogEdition.id == CatalogItem.edition_id)
                .where(
                    CatalogItem.tenant_id == scope.tenant_id,
                    CatalogItem.code.in_({code for code, _ in editions}),
                    CatalogEdition.number.in_({number for _, number in editions}),
                )
            )
        ).tuples()
        found = {(item.code, number): item for item, number in rows}
        return {
            case.id: found[(case.item_code, case.catalog_edition)]
            for case in cases
            if (case.item_code, case.catalog_edition) in found
        }

    async def seal_form(self, case_id: int, cipher: bytes | None, masked: dict[str, str]) -> bool:
        """The set-aside values replaced by their ciphertext, if still there (no version bump: nothing changed)."""
        result = await self.session.execute(
            update(Case)
            .where(Case.id == case_id, Case.form_plain.is_not(None))
            .values(form_cipher=cipher, form_masked=masked, form_plain=null())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


class ApplicantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_index(self, scope: TenantScope, index: str) -> Applicant | None:
        return await self.session.scalar(_APPLICANT_BY_INDEX, {"tenant_id": scope.tenant_id, "index": index})

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

    async def add(self, scope: TenantScope, applicant: Applicant) -> Applicant:
        """The new applicant, or the one a concurrent request added for the same ID number first."""
        added = await _insert_unless_taken(self.session, applicant, ("tenant_id", "id_index"))
        if added is not None:
            return added
        found = await self.by_index(scope, applicant.id_index)
        assert found is not None  # the conflicting row is committed, so this statement sees it
        return found


class ReceiptCounterRepository:
    def __init__(self, session: AsyncSession | AsyncConnection) -> None:
        """A session, or a connection of its own (``core.db.autocommitted``) to count outside the request."""
        self.session = session

    async def take(self, scope: TenantScope, unit_code: str, day: date) -> int:
        """The next sequence for (unit, day), in one statement: the first of the day inserts the counter, every
        later one (or a concurrent first, which waits for the insert) increments it under the row's lock
        (PostgreSQL) or the database write lock (SQLite)."""
        upsert = compiled_upsert(self.session, "receipt_counter", _take_receipt_number)
        values = {"tenant_id": scope.tenant_id, "unit_code": unit_code, "day": day}
        return int((await self.session.execute(upsert.statement, upsert.parameters(values))).scalar_one())


def _take_receipt_number(insert: Any) -> Any:
    counter = ReceiptCounter.__table__.c
    first = insert(ReceiptCounter.__table__).values(
        tenant_id=bindparam("tenant_id"), unit_code=bindparam("unit_code"), day=bindparam("day"), last=1
    )
    key = ["tenant_id", "unit_code", "day"]
    next_one = first.on_conflict_do_update(index_elements=key, set_={"last": counter.last + 1})
    return next_one.returning(counter.last)
