"""Delivering the SMS outbox (the ``sms_delivery`` job, one replica per slot).

A run leases due messages in a short transaction, sends them outside any transaction (a few at a time), and
records the outcomes in another. A message's ``message_id`` goes with every attempt, and the platform answers a
repeated id with its first answer, so a run that dies after sending — its lease then ends and another run takes
the message — does not send it twice. A message is settled as sent, as failed (refused for good, or still not
through after ``MAX_ATTEMPTS``), or as skipped (its kind turned off by the tenant); until then it waits.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.integrations.sms.client import SmsGateway
from fuquan.integrations.sms.protocol import RETRYABLE, SmsAnswer, SmsCode, SmsSend
from fuquan.platform.core.db import own_session
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.notifications.models import SmsMessage, SmsTemplate, sms_phone_context
from fuquan.platform.notifications.repositories import NotificationRepository, Outcome
from fuquan.platform.notifications.services.templates import KINDS, default_sign_name
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

log = structlog.get_logger()

LEASE = timedelta(seconds=60)  # longer than a batch can take to send
RETRY_DELAYS = (timedelta(seconds=5), timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10),
                timedelta(minutes=30), timedelta(hours=1))  # fmt: skip
MAX_ATTEMPTS = 12  # about 7 hours of trying; then the message is settled as failed, for the admin to see


class SmsDelivery:
    def __init__(
        self, session_maker: async_sessionmaker[AsyncSession], keys: KeyRing, gateway: SmsGateway, *,
        batch: int = 200, concurrency: int = 16, budget_seconds: float = 20.0,
        retry_delays: tuple[timedelta, ...] = RETRY_DELAYS,
    ) -> None:  # fmt: skip
        self.session_maker, self.keys, self.gateway = session_maker, keys, gateway
        self.batch, self.concurrency, self.budget = batch, concurrency, budget_seconds
        self.retry_delays = retry_delays

    async def run(self) -> dict[str, Any]:
        """Batches until nothing is due or the run's time is up; the counts of what became of the messages."""
        totals: dict[str, int] = {}
        ends = time.monotonic() + self.budget
        while time.monotonic() < ends:
            outcomes = await self.one_batch()
            if not outcomes:
                break
            for outcome in outcomes:
                totals[outcome.state] = totals.get(outcome.state, 0) + 1
        return totals

    async def one_batch(self) -> list[Outcome]:
        now = utcnow()
        async with own_session(self.session_maker, writes=True) as session, session.begin():
            repository = NotificationRepository(session)
            leased = await repository.lease_due(now, now + LEASE, self.batch)
            if not leased:
                return []
            sends = await self._prepared(session, repository, leased)
        outcomes: list[Outcome] = []

        async def send(message: SmsMessage, request: SmsSend | None) -> None:
            if request is None:
                outcomes.append(Outcome(message.id, "skipped", "TEMPLATE_DISABLED"))
                return
            outcomes.append(self._outcome(message, await self.gateway.send(request), utcnow()))

        limiter = anyio.CapacityLimiter(self.concurrency)

        async def limited(message: SmsMessage, request: SmsSend | None) -> None:
            async with limiter:
                await send(message, request)

        async with anyio.create_task_group() as tasks:
            for message, request in sends:
                tasks.start_soon(limited, message, request)
        async with own_session(self.session_maker, writes=True) as session, session.begin():
            await NotificationRepository(session).settle(outcomes, utcnow())
        return outcomes

    async def _prepared(
        self, session: AsyncSession, repository: NotificationRepository, leased: Sequence[SmsMessage]
    ) -> list[tuple[SmsMessage, SmsSend | None]]:
        """Each message as the platform takes it: its tenant's template (or the default) and the number decrypted."""
        tenant_ids = sorted({message.tenant_id for message in leased})
        templates = await repository.templates(tenant_ids)
        tenants = TenantRepository(session)
        prepared: list[tuple[SmsMessage, SmsSend | None]] = []
        for tenant_id in tenant_ids:
            tenant = await tenants.by_id(tenant_id)
            if tenant is None:
                continue
            scope = whole_tenant(tenant)
            cipher = await self.keys.cipher(scope, session)
            for message in (m for m in leased if m.tenant_id == tenant_id):
                template: SmsTemplate | None = templates.get((tenant_id, message.kind))
                if (template is not None and not template.enabled) or message.phone_cipher is None:
                    prepared.append((message, None))
                    continue
                kind = KINDS[message.kind]
                number = cipher.decrypt(
                    message.phone_cipher, context=sms_phone_context(scope.tenant_code, message.message_id)
                )
                prepared.append((message, SmsSend(
                    message_id=message.message_id, to=number,
                    sign_name=template.sign_name if template else default_sign_name(tenant.name),
                    template=template.vendor_template if template else kind.vendor_template,
                    params=dict(message.params),
                )))  # fmt: skip
        return prepared

    def _outcome(self, message: SmsMessage, answer: SmsAnswer, now: datetime) -> Outcome:
        if answer.code is SmsCode.OK:
            return Outcome(message.id, "sent", answer.code.value, answer.provider_msg_id)
        attempts = message.attempts + 1
        if answer.code in RETRYABLE and attempts < MAX_ATTEMPTS:
            delay = self.retry_delays[min(attempts, len(self.retry_delays)) - 1]
            return Outcome(message.id, "pending", answer.code.value, retry_at=now + delay)
        log.warning("sms_failed", message_id=message.message_id, kind=message.kind, code=answer.code.value)
        return Outcome(message.id, "failed", answer.code.value)
