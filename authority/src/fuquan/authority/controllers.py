"""Grants and authority endpoints (/api/v1/grants, /api/v1/authority/…)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import GrantRepository
from fuquan.authority.schemas import (
    Action,
    CheckRead,
    GrantBatch,
    GrantCreate,
    GrantRead,
    GrantRevoke,
    GrantStatus,
    MatrixRead,
    MatrixUnit,
    RevocationRead,
)
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.params import Offset, RowId
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import as_utc, utcnow
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.schemas import UnitCode
from fuquan.tenants.scope import TenantScope

Depth = Annotated[int, QueryParameter(ge=0, le=5)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]


class GrantController(Controller):
    path = "/api/v1/grants"
    tags = ["grants 赋权"]

    @post("/", summary="赋权（向下级单位下放权限）", opt={"permission": "grants.manage"})
    async def create_grant(
        self,
        request: Request,
        data: JSONBody[GrantCreate],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
    ) -> GrantRead:
        detail = {"item": data.item, "action": data.action, "unit": data.unit, "scope": data.scope}
        entry = actor.audit_entry("grant.create", request_id=request_id_of(request), detail=detail)
        async with rejections_audited(db_session, entry):
            grant = await services.delegate(
                db_session, actor, data, catalog, authority_registry, request_id_of(request)
            )
        return services.grant_read(grant, actor.scope.timezone, utcnow())

    @post("/batch", summary="批量赋权（全部成功或全部不写入）", opt={"permission": "grants.manage"})
    async def create_grants(
        self,
        request: Request,
        data: JSONBody[GrantBatch],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
    ) -> list[GrantRead]:
        detail = {"count": len(data.grants)}
        entry = actor.audit_entry("grant.create_batch", request_id=request_id_of(request), detail=detail)
        async with rejections_audited(db_session, entry):
            grants = await services.delegate_many(
                db_session, actor, data.grants, catalog, authority_registry, request_id_of(request)
            )
        now = utcnow()
        return [services.grant_read(grant, actor.scope.timezone, now) for grant in grants]

    @post("/{grant_id:int}/revoke", summary="撤销赋权（连同其下级派生赋权）", status_code=200,
          opt={"permission": "grants.manage"})  # fmt: skip
    async def revoke_grant(
        self,
        request: Request,
        grant_id: RowId,
        data: JSONBody[GrantRevoke],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        authority_registry: NamedDependency[AuthorityRegistry],
        catalog: NamedDependency[Catalog],
    ) -> RevocationRead:
        entry = actor.audit_entry(
            "grant.revoke",
            resource=f"grant:{grant_id}",
            request_id=request_id_of(request),
            detail={"reason": data.reason},
        )
        async with rejections_audited(db_session, entry):
            revoked, at = await services.revoke(
                db_session, actor, grant_id, data.reason, catalog, authority_registry, request_id_of(request)
            )
        return RevocationRead(revoked=[g.id for g in revoked], revoked_at=at)

    @get("/", summary="赋权记录", opt={"permission": "grants.read"})
    async def list_grants(
        self,
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
        unit: FromQuery[UnitCode | None] = None,
        item: FromQuery[str | None] = None,
        action: FromQuery[Action | None] = None,
        status: FromQuery[GrantStatus | None] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[GrantRead]:
        now = utcnow()
        if unit is not None:
            unit = normalise_unit_code(unit)
            await UnitRepository(db_session).get(tenant_scope, unit)  # outside the scope reads as absent
        rows = await GrantRepository(db_session).search(
            tenant_scope, unit=unit, item=item, action=action, status=status, now=now, limit=limit, offset=offset
        )
        return [services.grant_read(grant, tenant_scope.timezone, now) for grant in rows]

    @get("/{grant_id:int}", summary="一条赋权记录", opt={"permission": "grants.read"})
    async def get_grant(
        self,
        grant_id: RowId,
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
    ) -> GrantRead:
        grant = await GrantRepository(db_session).get(tenant_scope, grant_id)
        if grant is None:
            raise NotFound(f"赋权记录 #{grant_id} 不存在或不在您的管辖范围内")
        return services.grant_read(grant, tenant_scope.timezone, utcnow())


class AuthorityController(Controller):
    path = "/api/v1/authority"
    tags = ["authority 权限查询"]

    @get("/check", summary="某单位某时刻能否受理/办理某事项，及其依据", opt={"permission": "authority.read"})
    async def check(
        self,
        unit: FromQuery[UnitCode],
        item: FromQuery[str],
        action: FromQuery[Action],
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
        at: FromQuery[datetime | None] = None,
    ) -> CheckRead:
        unit = normalise_unit_code(unit)
        when = utcnow() if at is None else as_utc(at, tenant_scope.timezone)
        decision = await services.check(
            db_session, tenant_scope, catalog, authority_registry, unit=unit, item=item, action=action, at=when
        )
        return CheckRead(
            allowed=decision.allowed, unit=unit, item=item, action=action, at=when,
            chain=decision.chain, reason=decision.reason, rule=decision.rule,
        )  # fmt: skip

    @get("/matrix", summary="单位及其下级的权限矩阵", opt={"permission": "authority.read"})
    async def matrix(
        self,
        unit: FromQuery[UnitCode],
        db_session: NamedDependency[AsyncSession],
        tenant_scope: NamedDependency[TenantScope],
        catalog: NamedDependency[Catalog],
        authority_registry: NamedDependency[AuthorityRegistry],
        depth: Depth = 1,
        at: FromQuery[datetime | None] = None,
    ) -> MatrixRead:
        unit = normalise_unit_code(unit)
        when = utcnow() if at is None else as_utc(at, tenant_scope.timezone)
        units, allowed = await services.matrix(
            db_session, tenant_scope, catalog, authority_registry, unit=unit, depth=depth, at=when
        )
        rows = []
        for u in units:
            by_item: dict[str, list[str]] = {}
            for item_code, action in sorted(allowed.get(u.code, ())):
                by_item.setdefault(item_code, []).append(action)
            rows.append(MatrixUnit(u.code, u.name, u.level, u.parent_code, by_item))
        return MatrixRead(unit=unit, depth=depth, at=when, items=sorted(catalog.items), units=rows)
