"""预警推送: the warning job (one replica per slot) tells the people concerned, in their inbox, of cases that have
turned yellow or red, submitted cases on the last day of the legal acceptance period (行政许可法 Art. 32; a 即办件
the same day), deferred (容缺) materials past their due date and special procedures past their limit.

Each kind of alarm is a date or flag on the case, taken by an UPDATE … RETURNING that clears it, in the same
transaction as the inbox items it causes: a warning goes out once (two replicas racing take disjoint rows; a
failed transaction clears nothing), and the job's cost follows the alarms that fell due, not the open cases. The
dates themselves are set by the steps (``cases.services.alarms``); cases from before them get theirs on the job's
first runs (``backfill``).

Who is told: whoever has the case in hand (the decider, else the acceptor, else whoever received it), the head of
the unit where it sits (单位负责人, the nearest unit up that has one) and its supervisor (电子监察, likewise).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import structlog
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.cases.models import Case, CasePause
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.services.alarms import alarms_of, special_procedure_limit
from fuquan.platform.catalog.services import CatalogCache
from fuquan.platform.core.db import own_session
from fuquan.platform.core.inserts import NewRow
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.notifications.repositories import NotificationRepository
from fuquan.platform.notifications.services.outbox import inbox_row
from fuquan.platform.supervision.repositories import Alarmed, WarningRepository
from fuquan.tenants.divisions import ancestor_codes
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

log = structlog.get_logger()

CHUNK: Final = 2000  # alarms taken per transaction
BACKFILL_BATCH: Final = 2000


@dataclass(frozen=True, slots=True)
class AlarmKind:
    kind: str  # the inbox item's kind
    title: str
    body: str


KINDS: Final = {
    "red_on": AlarmKind(
        "overdue", "办件 {no} 已超期", "{item}：已超过承诺时限（办结期限 {detail}），请立即办理并说明原因。"
    ),
    "yellow_on": AlarmKind(
        "warning", "办件 {no} 进入黄色预警", "{item}：承诺时限剩余不足三分之一（办结期限 {detail}），请抓紧办理。"
    ),
    "accept_by": AlarmKind(
        "acceptance_overdue", "办件 {no} 受理期限届满",
        "{item}：申请人提交材料后应在 5 个工作日内（即办件当日）决定受理或不予受理，"
        "逾期未决定的自收到材料之日起即为受理（《行政许可法》第三十二条）。",
    ),
    "deferral": AlarmKind(
        "deferral_overdue", "办件 {no} 容缺材料逾期未补", "{item}：容缺受理的材料 {detail} 仍未补齐。"
    ),
    "suspension": AlarmKind(
        "suspension_overdue", "办件 {no} 特别程序超期",
        "{item}：特别程序（{detail}）已超过期限，请恢复办理或说明理由。",
    ),
}  # fmt: skip


class Recipients:
    """Who is told of a case at a unit: cached per unit for the run."""

    def __init__(self, holders: list[tuple[int, str, str]]) -> None:
        self._by_unit: dict[tuple[str, str], list[int]] = {}
        for staff_id, unit, role in holders:
            self._by_unit.setdefault((role, unit), []).append(staff_id)
        self._cache: dict[str, tuple[int, ...]] = {}

    def _nearest(self, role: str, unit: str) -> list[int]:
        for code in [unit, *reversed(ancestor_codes(unit))]:  # the unit itself first, then up
            found = self._by_unit.get((role, code))
            if found:
                return found
        return []

    def of(self, alarmed: Alarmed) -> tuple[int, ...]:
        people = self._cache.get(alarmed.unit)
        if people is None:
            people = self._cache[alarmed.unit] = (*self._nearest("unit_head", alarmed.unit),
                                                  *self._nearest("supervisor", alarmed.unit))  # fmt: skip
        return tuple(dict.fromkeys(((alarmed.handler,) if alarmed.handler else ()) + people))


class WarningJob:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], catalogs: CatalogCache) -> None:
        self.session_maker, self.catalogs = session_maker, catalogs

    async def run(self) -> dict[str, Any]:
        counts: Counter[str] = Counter()
        counts["dates_set"] = await self.backfill()
        async with own_session(self.session_maker, writes=False) as session:
            tenants = await TenantRepository(session).all()
        for tenant in tenants:
            scope = whole_tenant(tenant)
            today = local_date(utcnow(), scope.timezone)
            async with own_session(self.session_maker, writes=False) as session:
                recipients = Recipients(
                    await WarningRepository(session).holders(tenant.id, ("unit_head", "supervisor"))
                )
            names = {code: item.name for code, item in (await self.catalogs.current(scope)).items.items()}
            for key, take in self._takers(tenant.id, today).items():
                counts[KINDS[key].kind] += await self._tell(key, take, recipients, names, tenant.id)
        return {kind: count for kind, count in counts.items() if count}

    def _takers(
        self, tenant_id: int, today: date
    ) -> dict[str, Callable[[WarningRepository], Awaitable[list[Alarmed]]]]:
        """Red before yellow: a case already overdue is told so, not warned that it soon will be."""
        return {
            "red_on": lambda r: r.take_clock_alarms(tenant_id, "red_on", today, CHUNK),
            "yellow_on": lambda r: r.take_clock_alarms(tenant_id, "yellow_on", today, CHUNK),
            "accept_by": lambda r: r.take_acceptance_alarms(tenant_id, today, CHUNK),
            "deferral": lambda r: r.take_deferral_alarms(tenant_id, today, CHUNK),
            "suspension": lambda r: r.take_suspension_alarms(tenant_id, today, CHUNK),
        }

    async def _tell(
        self, key: str, take: Callable[[WarningRepository], Awaitable[list[Alarmed]]], recipients: Recipients,
        names: dict[str, str], tenant_id: int,
    ) -> int:  # fmt: skip
        spec, told = KINDS[key], 0
        while True:
            async with own_session(self.session_maker, writes=True) as session, session.begin():
                alarmed = await take(WarningRepository(session))
                now = utcnow()
                rows: list[NewRow] = [
                    inbox_row(tenant_id, staff_id, kind=spec.kind, dedupe_key=f"{spec.kind}:case:{case.id}",
                              title=spec.title.format(no=case.receipt_no),
                              body=spec.body.format(item=names.get(case.item_code, case.item_code), detail=case.detail),
                              link=f"/cases/{case.id}", case_id=case.id, now=now)
                    for case in alarmed for staff_id in recipients.of(case)
                ]  # fmt: skip
                await NotificationRepository(session).add_once(rows)
            told += len(alarmed)
            if len(alarmed) < CHUNK:
                return told

    async def backfill(self) -> int:
        """Warning dates for cases from before they existed, a batch per transaction; Core UPDATEs, so the cases'
        versions stay what their readers hold."""
        done = 0
        while True:
            async with own_session(self.session_maker, writes=True) as session, session.begin():
                batch = await WarningRepository(session).unset_alarms(BACKFILL_BATCH)
                if not batch:
                    return done
                await self._set_dates(session, batch)
            done += len(batch)

    async def _set_dates(self, session: AsyncSession, batch: list[Case]) -> None:
        ids = [case.id for case in batch]
        pauses = await CaseRepository(session).pauses(ids)
        submitted = await WarningRepository(session).last_submissions(ids)
        tenants = {tenant.id: tenant for tenant in await TenantRepository(session).all()}
        calendars = {}
        for case in batch:
            tenant = tenants[case.tenant_id]
            if tenant.id not in calendars:
                calendars[tenant.id] = await calendar_for(session, whole_tenant(tenant))
            calendar = calendars[tenant.id]
            at = submitted.get(case.id)
            decided_on = local_date(case.decided_at, tenant.timezone) if case.decided_at else None
            values = alarms_of(case, pauses.get(case.id, []), calendar,
                               local_date(at, tenant.timezone) if at else None, decided_on)  # fmt: skip
            await session.execute(update(Case).where(Case.id == case.id).values(values)
                                  .execution_options(synchronize_session=False))  # fmt: skip
            for pause in pauses.get(case.id, []):
                if pause.kind == "special" and pause.ended_on is None and pause.limit_on is None:
                    limit = special_procedure_limit(calendar, pause.started_on)
                    await session.execute(update(CasePause).where(CasePause.id == pause.id).values(limit_on=limit)
                                          .execution_options(synchronize_session=False))  # fmt: skip
