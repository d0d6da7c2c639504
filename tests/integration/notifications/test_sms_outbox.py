"""The SMS outbox: a step on a case writes its SMS in the step's own transaction; the delivery job gets every
message through the platform exactly once — through injected failures, lost answers and a run that dies after
sending — and nothing it sends carries a full ID number."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.sms.client import SmsGateway
from fuquan.integrations.sms.server import RunningSms, running_sms_simulator
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.inserts import insert_together
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.migrations.keys import key_ring
from fuquan.platform.notifications.models import SmsMessage
from fuquan.platform.notifications.repositories import NotificationRepository
from fuquan.platform.notifications.services.delivery import SmsDelivery
from fuquan.platform.notifications.services.outbox import sms_row
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant
from helpers import grant_unit, login, open_case, step

pytestmark = pytest.mark.anyio

CREDENTIALS = {"fuquan-test": "sms-test-secret"}
TOWN = "640202001"
BODY = "64020219850505123"
RESIDENT = BODY + id_check_char(BODY)


@pytest.fixture
def sms() -> Iterator[RunningSms]:
    with running_sms_simulator(CREDENTIALS) as running:
        yield running


def _delivery(settings: Settings, url: str) -> tuple[SmsDelivery, Any]:
    engine = create_engine(settings.database_url)
    session_maker = session_factory(engine)
    gateway = SmsGateway(url, "fuquan-test", CREDENTIALS["fuquan-test"], timeout=5.0)
    return SmsDelivery(session_maker, key_ring(settings, session_maker), gateway, batch=50), engine


async def _states(settings: Settings) -> dict[str, int]:
    engine = create_engine(settings.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            rows = await session.execute(select(SmsMessage.state, func.count()).group_by(SmsMessage.state))
            return {state: int(count) for state, count in rows.tuples()}
    finally:
        await engine.dispose()


async def test_a_step_writes_its_sms_with_the_step_and_the_job_sends_it_once(
    client: Any, settings: Settings, sms: RunningSms
) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk = await login(client, "cs_clerk")
    case = await open_case(client, clerk, "HRSS-04", TOWN, RESIDENT, "赵六", phone="13912345678")
    assert await _states(settings) == {}  # 收件 is not yet 受理: nothing to tell
    case = await step(client, clerk, case, "submit", "accept")
    assert await _states(settings) == {"pending": 1}

    delivery, engine = _delivery(settings, sms.url)
    try:
        assert await delivery.run() == {"sent": 1}
        assert await delivery.run() == {}  # nothing due: nothing sent again
    finally:
        await delivery.gateway.aclose()
        await engine.dispose()
    (sent,) = sms.messages("+8613912345678")
    assert sent["template"] == "SMS_100000101" and sent["sign_name"] == "宁夏人社"
    assert sent["params"]["no"] == case["receipt_no"] and sent["params"]["deadline"].endswith("日")
    assert not any(re.search(r"\d{17}[\dX]", value) for value in sent["params"].values())
    assert await _states(settings) == {"sent": 1}
    async with _session(settings) as session:
        settled = await session.scalar(select(SmsMessage))
        assert settled is not None and settled.phone_cipher is None and settled.phone_masked == "139****5678"


class _session:
    def __init__(self, settings: Settings) -> None:
        self.engine = create_engine(settings.database_url)

    async def __aenter__(self) -> AsyncSession:
        self._scope = session_scope(session_factory(self.engine))
        return await self._scope.__aenter__()

    async def __aexit__(self, *exc: object) -> None:
        await self._scope.__aexit__(*exc)
        await self.engine.dispose()


async def _outbox_of(settings: Settings, count: int) -> None:
    """``count`` messages to distinct numbers, written as an event would write them."""
    async with _session(settings) as session:
        tenant = await TenantRepository(session).by_code("64")
        assert tenant is not None
        scope = whole_tenant(tenant)
        cipher = await key_ring(settings).cipher(scope, session)
        now = utcnow()
        rows = [
            sms_row(cipher, scope, kind="case_decided", dedupe_key=f"test:{n}", phone=f"1390000{n:04d}",
                    params={"item": "就业困难人员认定", "no": f"NO{n:06d}", "result": "准予"}, case_id=None, now=now)
            for n in range(count)
        ]  # fmt: skip
        await insert_together(session, [row for row in rows if row is not None])


async def test_every_message_goes_out_exactly_once_through_failures_lost_answers_and_a_dead_run(
    settings: Settings, sms: RunningSms
) -> None:
    count = 120
    await _outbox_of(settings, count)
    delivery, engine = _delivery(settings, sms.url)
    try:
        # a run that dies after sending: its messages went out, their outcomes were never recorded
        async with session_scope(delivery.session_maker) as session:
            leased = await NotificationRepository(session).lease_due(utcnow(), utcnow() + timedelta(seconds=60), 30)
            prepared = await delivery._prepared(session, NotificationRepository(session), leased)
        for _message, request in prepared:
            assert request is not None
            assert (await delivery.gateway.send(request)).code == "OK"
        sms.control(failure_rate=0.1, lost_answer_rate=0.1)
        for _ in range(40):  # time passes: leases end, retries fall due
            async with session_scope(delivery.session_maker) as session:
                await session.execute(update(SmsMessage).where(SmsMessage.state == "pending")
                                      .values(next_attempt_at=utcnow(), lease_until=None))  # fmt: skip
            await delivery.run()
            if (await _states(settings)) == {"sent": count}:
                break
    finally:
        await delivery.gateway.aclose()
        await engine.dispose()
    assert await _states(settings) == {"sent": count}  # 0 lost
    stats = sms.stats()
    assert stats["delivered"] == count  # 0 sent twice: the platform delivered each message id once
    assert stats["counts"]["duplicates"] >= 30  # the dead run's and the lost answers' messages were asked again
    assert stats["counts"]["injected_failures"] > 0 and stats["counts"]["answers_lost"] > 0
