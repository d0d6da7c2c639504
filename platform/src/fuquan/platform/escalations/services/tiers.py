"""The 1/3/5 tiers (the ``escalation_tiers`` job, one replica per slot): an open escalation not resolved within its
tier's working days goes up — to the center's leadership (3 working days), then to the bureau's leadership meeting
(5). Each rise is a step in the trace, audited, told to the desk unit's leaders and to the resident; one still open
past the top tier's day is told to the supervisors, once. A rise happens once: the UPDATE checks the tier it read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.db import own_session
from fuquan.platform.core.inserts import NewRow, insert_together
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.escalations.repositories import EscalationRepository
from fuquan.platform.escalations.services.record import RESIDENT_UPDATES, event_row, inbox_rows, resident_sms
from fuquan.platform.escalations.state_machine import TIER_NAMES, next_tier
from fuquan.tenants.models import Tenant
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

BATCH = 500
SYSTEM = "系统（逾期自动升级）"


class TierJob:
    def __init__(self, session_maker: async_sessionmaker[AsyncSession], keys: KeyRing) -> None:
        self.session_maker, self.keys = session_maker, keys

    async def run(self) -> dict[str, Any]:
        counts = {"raised": 0, "past_top_tier": 0}
        async with own_session(self.session_maker, writes=True) as session, session.begin():
            repository = EscalationRepository(session)
            tenants = {tenant.id: tenant for tenant in await TenantRepository(session).all()}
            now = utcnow()
            latest_today = max((local_date(now, t.timezone) for t in tenants.values()), default=local_date(now, "UTC"))
            for escalation in await repository.take_overdue_tiers(latest_today, BATCH):  # each tenant's day below
                tenant = tenants[escalation.tenant_id]
                if escalation.tier_due is None or escalation.tier_due >= local_date(now, tenant.timezone):
                    continue
                tier = next_tier(escalation.tier)
                if not await repository.raise_tier(escalation, tier or escalation.tier, None if tier is None else
                                                   await self._due(session, tenant, tier, now)):  # fmt: skip
                    continue  # another replica moved it first
                session.expunge(escalation)  # what follows describes the rise; the row was updated above
                escalation.trace_length += 1
                if tier is None:
                    counts["past_top_tier"] += 1
                    await insert_together(session, await self._past_top(repository, tenant, escalation, now))
                else:
                    counts["raised"] += 1
                    escalation.tier = tier
                    await self._tell_rise(session, repository, tenant, escalation, tier, now)
        return {kind: count for kind, count in counts.items() if count}

    async def _due(self, session: AsyncSession, tenant: Tenant, tier: int, now: datetime) -> Any:
        calendar = await calendar_for(session, whole_tenant(tenant))
        return calendar.add_working_days(local_date(now, tenant.timezone), tier)

    async def _past_top(
        self, repository: EscalationRepository, tenant: Tenant, escalation: Escalation, now: datetime
    ) -> list[NewRow]:
        scope = whole_tenant(tenant)
        staff = StaffRepository(repository.session)
        supervisors = [*await staff.holding(scope, "supervisor", escalation.unit_code),
                       *await staff.holding(scope, "supervisor", escalation.unit_code[:4])]  # fmt: skip
        note = "超过局领导班子会议期限仍未解决，已告知电子监察"
        return [
            event_row(escalation, actor_id=None, actor_name=SYSTEM, action="escalate", source=escalation.status,
                      target=escalation.status, note=note, detail={"past_top_tier": True}, now=now),
            *inbox_rows(escalation, supervisors, f"办不成事反映 {escalation.reg_no} {note[:12]}",
                        escalation.summary[:200], now),
        ]  # fmt: skip

    async def _tell_rise(
        self, session: AsyncSession, repository: EscalationRepository, tenant: Tenant, escalation: Escalation,
        tier: int, now: datetime,
    ) -> None:  # fmt: skip
        scope = whole_tenant(tenant)
        cipher = await self.keys.cipher(scope, session)
        leaders = await StaffRepository(session).holding(scope, "unit_head", escalation.unit_code)
        update = RESIDENT_UPDATES["escalate"].format(tier=TIER_NAMES[tier][:4])
        rows = [
            event_row(escalation, actor_id=None, actor_name=SYSTEM, action="escalate", source=escalation.status,
                      target=escalation.status, note=None, detail={"tier": tier, "automatic": True}, now=now),
            *inbox_rows(escalation, leaders, f"办不成事反映 {escalation.reg_no} 升级至{TIER_NAMES[tier]}",
                        escalation.summary[:200], now),
            *resident_sms(cipher, scope, escalation, update, now),
        ]  # fmt: skip
        entry = AuditEntry(action="escalation.escalate", tenant_id=tenant.id, actor="system", unit=escalation.unit_code,
                           resource=f"escalation:{escalation.id}",
                           detail={"reg_no": escalation.reg_no, "tier": tier, "automatic": True})  # fmt: skip
        await append(session, entry, alongside=rows)
