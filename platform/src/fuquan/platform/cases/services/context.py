"""What every case verb shares: the request's context, the rights check, the trace-and-audit record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.integrations.services import PartnerDirectory
from fuquan.integrations.shared_data import NotConfiguredProvider, SharedDataAnswer, SharedDataProvider
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.calendar.workdays import WorkingCalendar
from fuquan.platform.cases.models import Case, CaseMaterial
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.catalog import services as catalog_services
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.services import Catalog, CatalogCache
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import Conflict, PermissionDenied
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.keys.master import MasterKeys
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.core.versions.services import TenantSettingCache
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()


RIGHT_NAMES = {"accept": "受理", "decide": "审批"}


@dataclass(frozen=True, slots=True)
class PartnerAccess:
    """How the verbs ask partner departments (共享数据): the gateways of every tenant's configured partners,
    the lookup budget, and a session factory for what must not wait for the request (the receipt number,
    the call audit)."""

    directory: PartnerDirectory
    session_maker: async_sessionmaker[AsyncSession]
    budget_seconds: float = 3.0
    concurrency: int = 4


@dataclass(frozen=True, slots=True)
class CaseServices:
    """The process's part of every case context, made once per app: the per-tenant caches (catalogue edition,
    working calendar, authority, data keys) and the partners' gateways. One dependency, not one per piece:
    each dependency Litestar resolves costs every request a task."""

    catalogs: CatalogCache
    calendars: TenantSettingCache[TenantScope, WorkingCalendar]
    registry: AuthorityRegistry
    keys: KeyRing
    partners: PartnerAccess

    async def context(self, session: AsyncSession, actor: Actor, request_id: str | None) -> CaseContext:
        scope = actor.scope
        catalog, calendar, cipher = (
            await self.catalogs.current(scope),
            await self.calendars.get(scope),
            await self.keys.cipher(scope),
        )
        return CaseContext(
            session, actor, catalog, self.registry, cipher, request_id, calendar, self.keys.masters, self.partners
        )


@dataclass(frozen=True, slots=True)
class CaseContext:
    """What every case verb needs, assembled once per request (the ``case_context`` dependency)."""

    session: AsyncSession
    actor: Actor
    catalog: Catalog
    registry: AuthorityRegistry
    cipher: TenantCipher  # the actor's tenant's
    request_id: str | None
    calendar: WorkingCalendar  # the tenant's working days (deadlines, deferrals)
    masters: MasterKeys  # what wraps the organs' signing keys (电子证照)
    partners: PartnerAccess | None = None  # None: no partner is asked (commands, the demo's history)

    @property
    def tenant_id(self) -> int:
        return self.actor.tenant_id

    async def item_of(self, case: Case) -> CatalogItem:
        """The case's item as the edition it was opened under states it: a case keeps its rules (materials,
        time limits, 受审分离, form) when the catalogue is revised while it is open."""
        if case.catalog_edition == self.catalog.edition.number:
            return self.catalog.get(case.item_code)
        with self.session.no_autoflush:
            return await catalog_services.edition_item(self.session, self.actor.scope.whole(), case.catalog_edition,
                                                       case.item_code)  # fmt: skip

    @property
    def session_maker(self) -> async_sessionmaker[AsyncSession] | None:
        return None if self.partners is None else self.partners.session_maker

    @asynccontextmanager
    async def reading_first(self) -> AsyncIterator[AsyncSession]:
        """A session for what a verb reads before it asks the partners and writes in short transactions of
        its own (the receipt number, the call audit): its own snapshot when the request has a session factory,
        so that the request's transaction begins only after the calls — on SQLite it takes the write lock as
        it begins, and no other transaction could then write until the request ends. (PostgreSQL locks rows,
        not the database: there the request's own session reads.)"""
        if self.session_maker is None or self.session.bind.dialect.name != "sqlite":
            yield self.session
            return
        async with own_session(self.session_maker, writes=False) as session:
            yield session

    async def shared_data(self, session: AsyncSession) -> SharedDataProvider:
        """The tenant's partner gateways (none configured, or no partner access: every source "not configured")."""
        if self.partners is None:
            return NotConfiguredProvider()
        return await self.partners.directory.provider(session, self.actor.scope)

    def today(self, now: datetime) -> date:
        return local_date(now, self.actor.scope.timezone)


async def require_rights(
    ctx: CaseContext, unit: str, item: CatalogItem, right: str, now: datetime, *, post: bool = True
) -> None:
    """组织权限 then 岗位权限, each refused with the rule it broke. ``post=False`` for a head's own step (延期,
    撤销): the head's post authority is the permission the step requires."""
    if not await authority.unit_may(ctx.session, ctx.registry, ctx.actor.scope, unit, item.code, right, now):
        raise PermissionDenied(
            f"{unit} 目前没有“{item.name}”的{RIGHT_NAMES[right]}权限（未获赋权或赋权已失效）", rule="unit_authority"
        )
    if post and not await authority.roles_permit(
        ctx.session, ctx.registry, ctx.actor.scope, unit, item.code, right, ctx.actor.roles, now
    ):
        raise PermissionDenied(f"您的岗位不能{RIGHT_NAMES[right]}“{item.name}”", rule="role_permission")


def require_version(case: Case, version: int) -> None:
    """A step sent with the version its page or answer showed: a case changed meanwhile is a 409, never overwritten."""
    if version != case.version:
        raise Conflict(
            f"办件已被他人更新（当前版本 {case.version}，您提交的是 {version}），请刷新后重试",
            rule="stale_version", current_version=case.version,
        )  # fmt: skip


def missing_required(materials: Sequence[CaseMaterial]) -> list[str]:
    """The required materials still missing: the case cannot be accepted until there are none."""
    return [m.name for m in materials if m.required and m.state == "missing"]


def missing_reason(names: Sequence[str]) -> str:
    """What the clerk is told when acceptance is refused for missing materials."""
    return f"以下必需材料仍缺：{'、'.join(names)}"


def tally(answers: list[tuple[int, SharedDataAnswer]]) -> dict[str, Any]:
    """What the trace remembers of the partner lookups: how many were satisfied, which sources failed."""
    if not answers:
        return {}
    failed = sorted({answer.source for _index, answer in answers if answer.status == "unavailable"})
    satisfied = sum(1 for _index, answer in answers if answer.satisfied)
    return {"shared_satisfied": satisfied, "shared_asked": len(answers), "sources_unavailable": failed}


async def record_step(
    ctx: CaseContext,
    case: Case,
    action: str,
    source: str | None,
    target: str,
    reason: str | None,
    now: datetime,
    detail: dict[str, Any],
    evidence: Sequence[NewRow] = (),
) -> None:
    """The trace event (全程留痕) and the audit record of one step, with the partners' ``evidence`` it acted on,
    in the caller's transaction and (on PostgreSQL) in one statement."""
    if action != "create":  # a new case is written with its creation counted
        case.trace_length += 1
    event = CaseRepository.event_row(
        {
            "case_id": case.id, "tenant_id": ctx.tenant_id, "seq": case.trace_length, "at": now,
            "actor_id": ctx.actor.staff_id, "actor_name": ctx.actor.display_name or ctx.actor.username,
            "role": ctx.actor.role_label, "unit": ctx.actor.unit_code, "action": action, "from_status": source,
            "to_status": target, "reason": reason, "detail": detail,
        }
    )  # fmt: skip
    entry = ctx.actor.audit_entry(
        f"case.{action}", resource=f"case:{case.id}", request_id=ctx.request_id,
        detail={"receipt_no": case.receipt_no, "from": source, "to": target, **detail},
    )  # fmt: skip
    await append(ctx.session, entry, alongside=[*evidence, event])
