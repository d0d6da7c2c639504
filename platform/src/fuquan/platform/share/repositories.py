"""All SQL of the data-sharing API: applications, keys, grants, nonces, the call log, and the reading of what
Fuquan holds about the residents a call asks about (applicants, their cases, own records, kept HRSS answers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import BindParameter, Date, Table, bindparam, delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.models import HrssRecord
from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseEvidence
from fuquan.platform.core.db import DateTimeUTC
from fuquan.platform.share.models import (
    ShareApp,
    ShareCall,
    ShareCallSubject,
    ShareGrant,
    ShareKey,
    ShareNonce,
    ShareQuota,
)
from fuquan.tenants.scope import TenantScope


class ShareAppRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, app: ShareApp) -> ShareApp:
        self.session.add(app)
        await self.session.flush()
        return app

    async def by_code(self, scope: TenantScope, code: str, *, lock: bool = False) -> ShareApp | None:
        query = select(ShareApp).where(ShareApp.tenant_id == scope.tenant_id, ShareApp.code == code)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def all(self, scope: TenantScope) -> list[ShareApp]:
        return list(
            await self.session.scalars(
                select(ShareApp).where(ShareApp.tenant_id == scope.tenant_id).order_by(ShareApp.code)
            )
        )

    async def flush(self) -> None:
        await self.session.flush()


class ShareKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ShareKey) -> ShareKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def of_apps(self, app_ids: list[int]) -> list[ShareKey]:
        """The keys of these applications, oldest first, in one query."""
        if not app_ids:
            return []
        query = select(ShareKey).where(ShareKey.app_id.in_(app_ids)).order_by(ShareKey.id)
        return list(await self.session.scalars(query))

    async def expire_live(self, app_id: int, now: datetime, at: datetime) -> int:
        """Every key of the app still valid at ``now`` stops at ``at`` (rotation's overlap); returns how many."""
        live = (ShareKey.expires_at.is_(None)) | (ShareKey.expires_at > at)
        result = await self.session.execute(
            update(ShareKey).where(ShareKey.app_id == app_id, live).values(expires_at=at)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return int(getattr(result, "rowcount", 0) or 0)


class ShareGrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, grant: ShareGrant) -> ShareGrant:
        self.session.add(grant)
        await self.session.flush()
        return grant

    async def of_apps(self, app_ids: list[int]) -> list[ShareGrant]:
        if not app_ids:
            return []
        query = select(ShareGrant).where(ShareGrant.app_id.in_(app_ids)).order_by(ShareGrant.id)
        return list(await self.session.scalars(query))

    async def of_app(self, app_id: int) -> list[ShareGrant]:
        return list(
            await self.session.scalars(select(ShareGrant).where(ShareGrant.app_id == app_id).order_by(ShareGrant.id))
        )

    async def get(self, app_id: int, grant_id: int, *, lock: bool = False) -> ShareGrant | None:
        query = select(ShareGrant).where(ShareGrant.app_id == app_id, ShareGrant.id == grant_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def in_force(self, app_id: int, dataset: str, now: datetime) -> list[ShareGrant]:
        """The app's unrevoked grants of ``dataset`` valid at ``now``."""
        return list(
            await self.session.scalars(
                select(ShareGrant).where(
                    ShareGrant.app_id == app_id, ShareGrant.dataset == dataset, ShareGrant.revoked_at.is_(None),
                    ShareGrant.valid_from <= now,
                    (ShareGrant.valid_until.is_(None)) | (ShareGrant.valid_until > now),
                ).order_by(ShareGrant.id)
            )
        )  # fmt: skip


# The dialects' INSERT … ON CONFLICT constructs are never in SQLAlchemy's statement cache (compiled anew on every
# call); these two run on every data-sharing call, so they are written once as text, which is cached. The syntax
# is the same on PostgreSQL and SQLite (3.35 and later).
_USE_NONCE = text(
    "INSERT INTO share_nonce (key_id, nonce, seen_at) VALUES (:key_id, :nonce, :seen_at) "
    "ON CONFLICT DO NOTHING RETURNING key_id"
).bindparams(bindparam("seen_at", type_=DateTimeUTC(timezone=True)))
_ADD_QUOTA = text(
    "INSERT INTO share_quota (key_id, day, used) VALUES (:key_id, :day, :calls) "
    "ON CONFLICT (key_id, day) DO UPDATE SET used = share_quota.used + excluded.used RETURNING used"
).bindparams(bindparam("day", type_=Date()))


class ShareNonceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def use(self, key_id: str, nonce: str, at: datetime) -> bool:
        """Insert the pair: True for the one call whose insert lands, False for a replay (any replica's)."""
        found = await self.session.scalar(_USE_NONCE, {"key_id": key_id, "nonce": nonce, "seen_at": at})
        return found is not None

    async def forget_before(self, cutoff: datetime) -> int:
        result = await self.session.execute(
            delete(ShareNonce).where(ShareNonce.seen_at < cutoff).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class ShareQuotaRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key_id: str, day: date, calls: int) -> int:
        """``calls`` more calls of the key on the day, in one statement every replica can run at once; the total."""
        used = await self.session.scalar(_ADD_QUOTA, {"key_id": key_id, "day": day, "calls": calls})
        assert used is not None  # inserted or updated, the row is returned
        return int(used)

    async def forget_before(self, day: date) -> int:
        result = await self.session.execute(
            delete(ShareQuota).where(ShareQuota.day < day).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


_CALLS, _SUBJECTS = cast("Table", ShareCall.__table__), cast("Table", ShareCallSubject.__table__)
_ADD_CALL = insert(_CALLS).returning(_CALLS.c.id)  # built once: every call writes one
_ADD_SUBJECT = insert(_SUBJECTS)


class ShareCallRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, call: dict[str, Any], subject_indexes: Sequence[str]) -> None:
        """The call (a row's values) and the residents it asked about, in the caller's transaction."""
        call_id = await self.session.scalar(_ADD_CALL, call)
        if subject_indexes and call["tenant_id"] is not None:
            rows = [{"call_id": call_id, "subject_index": index, "tenant_id": call["tenant_id"]}
                    for index in dict.fromkeys(subject_indexes)]  # fmt: skip
            await self.session.execute(_ADD_SUBJECT, rows)

    async def about(self, scope: TenantScope, subject_index: str, since: datetime) -> list[tuple[ShareCall, ShareApp]]:
        """The answered calls that asked about one resident since ``since``, newest first, with their application."""
        rows = await self.session.execute(
            select(ShareCall, ShareApp)
            .join(ShareCallSubject, ShareCallSubject.call_id == ShareCall.id)
            .join(ShareApp, ShareApp.id == ShareCall.app_id)
            .where(ShareCallSubject.tenant_id == scope.tenant_id, ShareCallSubject.subject_index == subject_index,
                   ShareCall.at >= since, ShareCall.code == "00")
            .order_by(ShareCall.at.desc(), ShareCall.id.desc())
            .limit(200)
        )  # fmt: skip
        return [(row[0], row[1]) for row in rows]

    async def recent(self, scope: TenantScope, app_id: int, limit: int) -> list[ShareCall]:
        """The application's latest ``limit`` calls, answered or refused, newest first (never their subjects)."""
        return list(
            await self.session.scalars(
                select(ShareCall)
                .where(ShareCall.tenant_id == scope.tenant_id, ShareCall.app_id == app_id)
                .order_by(ShareCall.at.desc(), ShareCall.id.desc())
                .limit(limit)
            )
        )


@dataclass(frozen=True, slots=True)
class HeldRecords:
    """What Fuquan holds about some residents of one tenant, in four queries whatever their number."""

    applicants: list[Applicant]
    cases: list[Case]
    records: list[HrssRecord]
    evidence: list[CaseEvidence]
    decisions: dict[int, str]  # case id → its decision's action: approve, deny or refuse


DECISIONS = ("approve", "deny", "refuse")

# Built once: a data-sharing call runs these for every resident it names, and building a statement (its clauses
# and bound parameters) cost more than running it. Lists go in as expanding parameters.
_TENANT: BindParameter[int] = bindparam("tenant_id")
_APPLICANTS = select(Applicant).where(
    Applicant.tenant_id == _TENANT, Applicant.id_index.in_(bindparam("indexes", expanding=True))
)
_CASES = (
    select(Case)
    .where(Case.tenant_id == _TENANT, Case.applicant_id.in_(bindparam("applicant_ids", expanding=True)))
    .order_by(Case.created_at, Case.id)
)
_RECORDS = (
    select(HrssRecord)
    .where(HrssRecord.tenant_id == _TENANT, HrssRecord.person_index.in_(bindparam("indexes", expanding=True)))
    .order_by(HrssRecord.since, HrssRecord.id)
)
_KEPT_ANSWERS = (
    select(CaseEvidence)
    .where(CaseEvidence.tenant_id == _TENANT, CaseEvidence.case_id.in_(bindparam("case_ids", expanding=True)),
           CaseEvidence.source == "hrss", CaseEvidence.subject == "applicant",
           CaseEvidence.evidence.in_(bindparam("evidence", expanding=True)), CaseEvidence.fetched_at.is_not(None))
    .order_by(CaseEvidence.fetched_at, CaseEvidence.id)
)  # fmt: skip
_DECISIONS = (
    select(CaseEvent.case_id, CaseEvent.action)
    .where(CaseEvent.case_id.in_(bindparam("case_ids", expanding=True)), CaseEvent.action.in_(DECISIONS))
    .order_by(CaseEvent.case_id, CaseEvent.seq)
)
_BY_RECEIPTS = select(Case).where(Case.tenant_id == _TENANT, Case.receipt_no.in_(bindparam("receipts", expanding=True)))
_APPLICANTS_BY_ID = select(Applicant).where(Applicant.id.in_(bindparam("ids", expanding=True)))


class SubjectRepository:
    """Reads, for the data-sharing API, what Fuquan holds about the residents a call names (by blind index)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def held(self, scope: TenantScope, indexes: Sequence[str], evidence: Sequence[str]) -> HeldRecords:
        """The residents' applicant rows, the cases they applied in, Fuquan's own records of them and the HRSS core
        system's answers of kinds ``evidence`` kept on their cases."""
        tenant, indexes = scope.tenant_id, list(indexes)
        applicants = list(await self.session.scalars(_APPLICANTS, {"tenant_id": tenant, "indexes": indexes}))
        cases: list[Case] = []
        if applicants:
            ids = [a.id for a in applicants]
            cases = list(await self.session.scalars(_CASES, {"tenant_id": tenant, "applicant_ids": ids}))
        records = list(await self.session.scalars(_RECORDS, {"tenant_id": tenant, "indexes": indexes}))
        kept: list[CaseEvidence] = []
        if cases and evidence:
            kept = list(await self.session.scalars(
                _KEPT_ANSWERS, {"tenant_id": tenant, "case_ids": [c.id for c in cases], "evidence": list(evidence)}
            ))  # fmt: skip
        return HeldRecords(applicants, cases, records, kept, await self._decisions([c.id for c in cases]))

    async def _decisions(self, case_ids: Sequence[int]) -> dict[int, str]:
        if not case_ids:
            return {}
        rows = await self.session.execute(_DECISIONS, {"case_ids": list(case_ids)})
        return {int(case_id): str(action) for case_id, action in rows.tuples()}  # each case's last decision

    async def applicant_index(self, applicant_id: int) -> str:
        index = await self.session.scalar(select(Applicant.id_index).where(Applicant.id == applicant_id))
        assert index is not None  # a case always has its applicant (FK)
        return str(index)

    async def by_receipts(self, scope: TenantScope, receipt_nos: Sequence[str]) -> HeldRecords:
        """The cases with these receipt numbers, their applicants and decisions."""
        cases = list(await self.session.scalars(_BY_RECEIPTS, {"tenant_id": scope.tenant_id,
                                                               "receipts": list(receipt_nos)}))  # fmt: skip
        ids = list({c.applicant_id for c in cases})
        applicants = list(await self.session.scalars(_APPLICANTS_BY_ID, {"ids": ids})) if ids else []
        return HeldRecords(applicants, cases, [], [], await self._decisions([c.id for c in cases]))


class FeedRepository:
    """办件流: the tenant's case events in the order they were written."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def after(
        self, scope: TenantScope, after_id: int, until: datetime, regions: Sequence[str] | None, limit: int
    ) -> list[tuple[CaseEvent, Case]]:
        """Events after ``after_id`` written before ``until``, of cases accepted in ``regions`` (None: all)."""
        query = (
            select(CaseEvent, Case)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.tenant_id == scope.tenant_id, CaseEvent.id > after_id, CaseEvent.at < until)
            .order_by(CaseEvent.id)
            .limit(limit)
        )
        if regions is not None:
            query = query.where(or_(*(Case.accepting_unit.startswith(r, autoescape=True) for r in regions)))
        return [(row[0], row[1]) for row in await self.session.execute(query)]
