"""All SQL of grants and the policy store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, insert, or_, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.engine.lines import GrantSpec
from fuquan.authority.models import Grant, PolicyChange, PolicyRule, PolicyVersion
from fuquan.platform.core.db import conflict_insert
from fuquan.tenants.divisions import ancestor_codes
from fuquan.tenants.scope import TenantScope

PolicyLine = tuple[str, ...]
_BATCH = 5000  # rows per INSERT of a bulk load
_MOVE_GRANT_IDS_PAST_MAX = (
    "SELECT setval(pg_get_serial_sequence('authority_grant', 'id'), (SELECT max(id) FROM authority_grant))"
)
_VALUE_COLUMNS = ("v0", "v1", "v2", "v3", "v4", "v5")


class GrantRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_all(self, grants: list[Grant]) -> list[Grant]:
        """Insert and flush, so every grant has its id."""
        self.session.add_all(grants)
        await self.session.flush()
        return grants

    async def insert_world(self, scope: TenantScope, grantor: str, specs: Iterable[GrantSpec], at: datetime) -> None:
        """Benchmark worlds only: store generated grant specs as grants with their own ids (then move the id
        sequence past them on PostgreSQL)."""
        rows = [
            {
                "id": spec.id, "tenant_id": scope.tenant_id, "item_code": spec.item, "action": spec.action,
                "unit_code": spec.unit, "scope": "subtree" if spec.subtree else "unit", "valid_from": spec.valid_from,
                "valid_until": spec.valid_until, "basis": "devolved", "instrument": "基准测试数据（生成）",
                "redelegable": spec.parent_id is None, "parent_id": spec.parent_id, "grantor_unit_code": grantor,
                "granted_by": None, "granted_by_name": "benchmark", "catalog_edition": 1, "created_at": at,
                "revoked_at": spec.revoked_at, "revoked_by_name": None if spec.revoked_at is None else "benchmark",
                "revoke_reason": None, "revoked_via": None,
            }
            for spec in sorted(specs, key=lambda spec: spec.id)  # parents before children
        ]  # fmt: skip
        for start in range(0, len(rows), _BATCH):
            await self.session.execute(insert(Grant), rows[start : start + _BATCH])
        if self.session.bind is not None and self.session.bind.dialect.name == "postgresql":
            await self.session.execute(text(_MOVE_GRANT_IDS_PAST_MAX))
            await self.session.execute(text("ANALYZE authority_grant"))  # the planner's statistics, at once

    async def held_by(self, scope: TenantScope, unit: str) -> list[Grant]:
        """Unrevoked grants made to ``unit`` — what it may pass on (if re-delegable)."""
        return list(
            await self.session.scalars(
                select(Grant)
                .where(Grant.tenant_id == scope.tenant_id, Grant.unit_code == unit, Grant.revoked_at.is_(None))
                .order_by(Grant.id)
                .execution_options(populate_existing=True)
            )
        )

    async def get(self, scope: TenantScope, grant_id: int) -> Grant | None:
        """A grant whose grantee lies in the caller's scope; anything else reads as absent (always as stored
        now, not as this session may have loaded it before the policy lock)."""
        grant = await self.session.get(Grant, grant_id, populate_existing=True)
        if grant is None or grant.tenant_id != scope.tenant_id or not scope.covers(grant.unit_code):
            return None
        return grant

    async def by_ids(self, scope: TenantScope, ids: Iterable[int]) -> dict[int, Grant]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        rows = await self.session.scalars(select(Grant).where(Grant.tenant_id == scope.tenant_id, Grant.id.in_(wanted)))
        return {grant.id: grant for grant in rows}

    async def covering(self, scope: TenantScope, item: str, action: str, code: str) -> list[Grant]:
        """Every grant (any state) for (item, action) that covers ``code``: on it, or a subtree above it.

        One lookup of the (tenant, item, action, unit) index per code on the path (≤ 6); the subtree
        condition is checked on the few rows found (an OR across them made PostgreSQL scan every grant
        of the item: 264 ms at Shandong scale)."""
        rows = await self.session.scalars(
            select(Grant)
            .where(
                Grant.tenant_id == scope.tenant_id,
                Grant.item_code == item,
                Grant.action == action,
                Grant.unit_code.in_([code, *ancestor_codes(code)]),
            )
            .order_by(Grant.id)
        )
        return [grant for grant in rows if grant.unit_code == code or grant.subtree]

    async def behind(self, scope: TenantScope, code: str, limit: int = 500) -> list[Grant]:
        """Every grant (any item, any state) that covers ``code`` — made to it, or to an ancestor for its subtree —
        newest first: the change history behind a unit's published lists."""
        rows = await self.session.scalars(
            select(Grant)
            .where(Grant.tenant_id == scope.tenant_id, Grant.unit_code.in_([code, *ancestor_codes(code)]))
            .order_by(Grant.valid_from.desc(), Grant.id.desc())
        )
        return [grant for grant in rows if grant.unit_code == code or grant.subtree][:limit]

    async def all_of_tenant(self, scope: TenantScope) -> list[Grant]:
        """Every grant of the tenant, in any state (the policy library links each instrument to its grants)."""
        return list(
            await self.session.scalars(select(Grant).where(Grant.tenant_id == scope.tenant_id).order_by(Grant.id))
        )

    async def under(self, scope: TenantScope, item: str, action: str, code: str) -> list[Grant]:
        """Every grant (any state) for (item, action) that covers some unit of ``code``'s subtree:
        made to a unit in it, or a subtree grant made to a unit above it."""
        return list(
            await self.session.scalars(
                select(Grant)
                .where(
                    Grant.tenant_id == scope.tenant_id,
                    Grant.item_code == item,
                    Grant.action == action,
                    or_(
                        Grant.unit_code.startswith(code, autoescape=True),
                        and_(Grant.scope == "subtree", Grant.unit_code.in_(ancestor_codes(code))),
                    ),
                )
                .order_by(Grant.id)
            )
        )

    async def children(self, scope: TenantScope, grant_id: int) -> list[Grant]:
        """The grants made directly under ``grant_id`` (any state): its re-delegations."""
        return list(
            await self.session.scalars(
                select(Grant).where(Grant.tenant_id == scope.tenant_id, Grant.parent_id == grant_id).order_by(Grant.id)
            )
        )

    async def unrevoked_descendants(self, root: Grant) -> list[Grant]:
        """Every grant derived from ``root`` (children, grandchildren, …) not yet revoked."""
        found: list[Grant] = []
        frontier = [root.id]
        while frontier:
            children = list(
                await self.session.scalars(
                    select(Grant)
                    .where(Grant.parent_id.in_(frontier), Grant.revoked_at.is_(None))
                    .order_by(Grant.id)
                    .execution_options(populate_existing=True)
                )
            )
            found.extend(children)
            frontier = [child.id for child in children]
        return found

    async def search(
        self,
        scope: TenantScope,
        *,
        unit: str | None,
        item: str | None,
        action: str | None,
        status: str | None,
        now: datetime,
        limit: int,
        offset: int,
    ) -> list[Grant]:
        query = select(Grant).where(
            Grant.tenant_id == scope.tenant_id, Grant.unit_code.startswith(scope.root_code, autoescape=True)
        )
        if unit is not None:
            query = query.where(Grant.unit_code == unit)
        if item is not None:
            query = query.where(Grant.item_code == item)
        if action is not None:
            query = query.where(Grant.action == action)
        if status == "revoked":
            query = query.where(Grant.revoked_at.is_not(None))
        elif status is not None:
            query = query.where(Grant.revoked_at.is_(None))
            if status == "active":
                query = query.where(Grant.valid_from <= now, or_(Grant.valid_until.is_(None), Grant.valid_until > now))
            elif status == "scheduled":
                query = query.where(Grant.valid_from > now)
            elif status == "expired":
                query = query.where(Grant.valid_until <= now)
        return list(await self.session.scalars(query.order_by(Grant.id).limit(limit).offset(offset)))

    async def record_revocations(
        self, grants: Sequence[Grant], *, at: datetime, by: str, reason: str, via: int
    ) -> None:
        await self.session.execute(
            update(Grant)
            .where(Grant.id.in_([grant.id for grant in grants]))
            .values(revoked_at=at, revoked_by_name=by, revoke_reason=reason, revoked_via=via)
        )
        for grant in grants:  # keep the loaded objects in step with the rows
            grant.revoked_at, grant.revoked_by_name, grant.revoke_reason, grant.revoked_via = at, by, reason, via


class PolicyRepository:
    """The Casbin policy store: ``casbin_rule`` rows, plus the per-tenant version counter."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def rows(self, scope: TenantScope) -> list[tuple[str, ...]]:
        """A tenant's stored policy rows, ``(ptype, v0, …)`` — the filtered load of its enforcer."""
        result = await self.session.execute(
            select(PolicyRule.ptype, *(getattr(PolicyRule, c) for c in _VALUE_COLUMNS)).where(
                PolicyRule.tenant_id == scope.tenant_id
            )
        )
        # unused trailing columns are stored as ""
        return [tuple(value for value in row if value) for row in result.tuples()]

    async def add(
        self, scope: TenantScope, ptype: str, lines: Sequence[PolicyLine], grant_id: int | None = None
    ) -> None:
        if not lines:
            return
        rows = [
            {
                "tenant_id": scope.tenant_id,
                "ptype": ptype,
                "grant_id": grant_id,
                **dict(zip(_VALUE_COLUMNS, line, strict=False)),
            }
            for line in lines
        ]
        await self.session.execute(insert(PolicyRule), rows)

    async def add_for_grants(self, scope: TenantScope, lines_by_grant: Mapping[int, Sequence[PolicyLine]]) -> None:
        rows = [
            {
                "tenant_id": scope.tenant_id,
                "ptype": "p",
                "grant_id": grant_id,
                **dict(zip(_VALUE_COLUMNS, line, strict=False)),
            }
            for grant_id, lines in lines_by_grant.items()
            for line in lines
        ]
        for start in range(0, len(rows), _BATCH):
            await self.session.execute(insert(PolicyRule), rows[start : start + _BATCH])

    async def lines_of_grants(self, grant_ids: Sequence[int]) -> dict[int, list[PolicyLine]]:
        result = await self.session.execute(
            select(PolicyRule.grant_id, *(getattr(PolicyRule, c) for c in _VALUE_COLUMNS)).where(
                PolicyRule.grant_id.in_(list(grant_ids))
            )
        )
        found: dict[int, list[PolicyLine]] = {grant_id: [] for grant_id in grant_ids}
        for grant_id, *values in result.tuples():
            found[grant_id].append(tuple(value for value in values if value))
        return found

    async def remove_for_grants(self, grant_ids: Sequence[int]) -> None:
        await self.session.execute(delete(PolicyRule).where(PolicyRule.grant_id.in_(list(grant_ids))))

    async def remove_g(self, scope: TenantScope, lines: Sequence[PolicyLine]) -> None:
        if lines:
            await self.session.execute(
                delete(PolicyRule).where(
                    PolicyRule.tenant_id == scope.tenant_id,
                    PolicyRule.ptype == "g",
                    tuple_(PolicyRule.v0, PolicyRule.v1).in_([(line[0], line[1]) for line in lines]),
                )
            )

    async def lock(self, scope: TenantScope) -> None:
        """Take the tenant's policy lock for the rest of the transaction: a no-op UPDATE of its version row
        holds the row lock on PostgreSQL and starts the write transaction on SQLite, so the tenant's grants
        and revocations run one at a time and each reads what the one before it committed."""
        for _attempt in range(2):
            result = await self.session.execute(
                update(PolicyVersion)
                .where(PolicyVersion.tenant_id == scope.tenant_id)
                .values(version=PolicyVersion.version)
                .returning(PolicyVersion.version)
            )
            if result.scalar_one_or_none() is not None:
                return
            # the tenant's first change: create the counter (a concurrent first change may have just done so)
            counter = conflict_insert(self.session, PolicyVersion).values(tenant_id=scope.tenant_id, version=0)
            await self.session.execute(counter.on_conflict_do_nothing())
        raise RuntimeError(f"the policy of tenant {scope.tenant_id} could not be locked")

    async def bump_version(self, scope: TenantScope) -> int:
        """The tenant's next policy version (taking the policy lock if this transaction does not hold it)."""
        await self.lock(scope)
        result = await self.session.execute(
            update(PolicyVersion)
            .where(PolicyVersion.tenant_id == scope.tenant_id)
            .values(version=PolicyVersion.version + 1)
            .returning(PolicyVersion.version)
        )
        return int(result.scalar_one())

    async def append_change(
        self, scope: TenantScope, version: int, added: Sequence[PolicyLine], removed: Sequence[PolicyLine], at: datetime
    ) -> None:
        self.session.add(
            PolicyChange(
                tenant_id=scope.tenant_id, version=version, added=[list(line) for line in added],
                removed=[list(line) for line in removed], created_at=at,
            )
        )  # fmt: skip
        await self.session.flush()

    async def changes_since(
        self, scope: TenantScope, version: int
    ) -> list[tuple[int, list[PolicyLine], list[PolicyLine]]]:
        """The tenant's logged changes after ``version``, oldest first: (version, added, removed)."""
        rows = await self.session.execute(
            select(PolicyChange.version, PolicyChange.added, PolicyChange.removed)
            .where(PolicyChange.tenant_id == scope.tenant_id, PolicyChange.version > version)
            .order_by(PolicyChange.version)
        )
        return [
            (int(v), [tuple(line) for line in added], [tuple(line) for line in removed])
            for v, added, removed in rows.tuples()
        ]

    async def compact_log(self, keep_versions: int, before: datetime) -> int:
        """Forget changes older than ``before`` that are not among each tenant's last ``keep_versions``;
        a process holding a version older than what is left rebuilds its engine."""
        newest = (
            select(PolicyVersion.version).where(PolicyVersion.tenant_id == PolicyChange.tenant_id).scalar_subquery()
        )
        result = await self.session.execute(
            delete(PolicyChange).where(PolicyChange.created_at < before, PolicyChange.version <= newest - keep_versions)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def oldest_logged(self, scope: TenantScope) -> int | None:
        return await self.session.scalar(
            select(func.min(PolicyChange.version)).where(PolicyChange.tenant_id == scope.tenant_id)
        )

    async def version(self, scope: TenantScope) -> int:
        found = await self.session.get(PolicyVersion, scope.tenant_id, populate_existing=True)
        return 0 if found is None else found.version

    async def versions(self) -> dict[int, int]:
        rows = await self.session.execute(select(PolicyVersion.tenant_id, PolicyVersion.version))
        return {tenant_id: version for tenant_id, version in rows.tuples()}  # noqa: C416 - Result has keys()
