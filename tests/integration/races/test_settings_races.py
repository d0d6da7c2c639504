"""Settings changed twice at once — a calendar day at two replicas, a staff username or a partner
gateway from two commands: one row each, answered 409 with the reason or as the first was."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

import anyio
import pytest
from racing import (
    HOLD_SECONDS,
    ROUNDS,
    TOWN,
    at_once,
    login,
    no_server_errors,
    replicas,
    staggered,
    statuses,
    two_connections,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.integrations import services as partner_services
from fuquan.integrations.models import PartnerEndpointRecord
from fuquan.integrations.partners.schemas import PARTNERS
from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.calendar.models import CalendarOverride
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.errors import Conflict
from fuquan.platform.migrations.keys import key_ring
from helpers import NINGXIA

pytestmark = pytest.mark.anyio

DAYS = "/api/v1/calendar/days"


async def _count(database_url: str, query: Any) -> int:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        found = await session.scalar(query)
    await engine.dispose()
    return int(found or 0)


async def test_one_calendar_day_set_at_two_replicas(settings: Settings, database_url: str) -> None:
    """Two admins set the same new day at once (409 "just changed" for the loser, or both in turn), then
    both clear it at once (204, and 404 for the one that finds it gone). Two processes on one SQLite file may
    also find the write lock taken after they read: 409 ``concurrent_change``, nothing saved — never a 500."""
    days = [(date(2027, 3, 1) + timedelta(days=attempt)).isoformat() for attempt in range(ROUNDS)]
    with replicas(settings) as (one, two):
        admin_one, admin_two = login(one, "nx_admin"), login(two, "nx_admin")
        answers = []
        for day in days:
            pair = await at_once(
                partial(one.put, f"{DAYS}/{day}", json={"workday": False, "note": "本地放假"}, headers=admin_one),
                partial(two.put, f"{DAYS}/{day}", json={"workday": True, "note": "调休上班"}, headers=admin_two),
            )
            answers += pair
            listed = one.get(DAYS, params={"year": 2027}, headers=admin_one).json()["days"]
            kept = {entry["day"]: entry["workday"] for entry in listed if entry["source"] == "tenant"}
            assert kept[day] in [answer.json()["workday"] for answer in pair if answer.status_code == 200]
        cleared = []
        for day in days:
            cleared += await at_once(
                partial(one.delete, f"{DAYS}/{day}", headers=admin_one),
                partial(two.delete, f"{DAYS}/{day}", headers=admin_two),
            )
    no_server_errors(answers + cleared)
    assert set(statuses(answers)) <= {200, 409} and statuses(answers)[200] >= ROUNDS
    assert {a.json()["rule"] for a in answers if a.status_code == 409} <= {"calendar_day_taken", "concurrent_change"}
    assert set(statuses(cleared)) <= {204, 404, 409} and statuses(cleared)[204] == ROUNDS
    assert {a.json()["rule"] for a in cleared if a.status_code == 409} <= {"concurrent_change"}
    assert await _count(database_url, select(func.count()).select_from(CalendarOverride)) == 0


async def test_one_username_enrolled_from_two_commands(database_url: str) -> None:
    """``fuquan staff add`` run twice at once for one username: one account, the other told why (exit 2)."""

    async def enrol(maker: async_sessionmaker[AsyncSession], username: str, unit: str) -> int:
        async with maker() as session, session.begin():
            staff = await add_staff(session, username=username, tenant_code="64", unit_code=unit,
                                    roles=["window_clerk"], password="a-long-password")  # fmt: skip
            await anyio.sleep(HOLD_SECONDS)
            return staff.id

    async with two_connections(database_url) as (one, two):
        for attempt in range(ROUNDS):
            first, second = await staggered(enrol(one, f"twin{attempt}", TOWN), enrol(two, f"twin{attempt}", "640202"))
            assert isinstance(first, int), first
            assert isinstance(second, Conflict) and f"twin{attempt}" in second.detail, second
    assert await _count(database_url, select(func.count()).where(Staff.username.like("twin%"))) == ROUNDS


async def test_a_role_named_twice_is_held_once(database_url: str) -> None:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        roles = ["window_clerk", "approver", "window_clerk"]
        staff = await add_staff(
            session, username="twice", tenant_code="64", unit_code=TOWN, roles=roles, password="a-long-password"
        )
        staff_id = staff.id
    await engine.dispose()
    query = select(func.count()).select_from(RoleAssignment).where(RoleAssignment.staff_id == staff_id)
    assert await _count(database_url, query) == 2


async def test_one_partner_gateway_set_from_two_commands(settings: Settings, database_url: str) -> None:
    """``fuquan partners set`` run twice at once for one tenant and partner: both succeed, one row."""
    keys = key_ring(settings)

    async def configure(maker: async_sessionmaker[AsyncSession], partner: str, url: str) -> str:
        async with maker() as session, session.begin():
            record = await partner_services.configure(
                session, keys, scope=NINGXIA, partner=partner, base_url=url, app_key="key",
                secret="secret", actor="fuquan partners set",
            )  # fmt: skip
            await anyio.sleep(HOLD_SECONDS)
            return record.base_url

    async with two_connections(database_url) as (one, two):
        for partner in PARTNERS:
            urls = await staggered(
                configure(one, partner, "http://first.test"), configure(two, partner, "http://second.test")
            )
            assert urls == ["http://first.test", "http://second.test"], urls
    query = select(PartnerEndpointRecord.partner, PartnerEndpointRecord.base_url)
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rows = (await session.execute(query.where(PartnerEndpointRecord.tenant_id == 1))).tuples().all()
    await engine.dispose()
    assert sorted(partner for partner, _url in rows) == sorted(PARTNERS)  # one row each, whoever wrote last
    assert {url for _partner, url in rows} <= {"http://first.test", "http://second.test"}


async def test_two_processes_starting_at_once_make_one_set_of_keys(settings: Settings, database_url: str) -> None:
    """Every replica makes a tenant's missing keys as it starts: two at once make one set, audited once."""
    from fuquan.platform.core.audit.models import AuditRecord
    from fuquan.platform.core.keys.models import DataKey

    audited = select(func.count()).where(
        AuditRecord.action == "keys.create", AuditRecord.tenant_id == NINGXIA.tenant_id
    )
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(DataKey.__table__.delete().where(DataKey.tenant_id == NINGXIA.tenant_id))
        before = await session.scalar(audited)
    await engine.dispose()

    async def ensure(maker: async_sessionmaker[AsyncSession]) -> bool:
        async with maker() as session, session.begin():
            made = await key_ring(settings).ensure(session, NINGXIA)
            await anyio.sleep(HOLD_SECONDS)
            return made

    async with two_connections(database_url) as (one, two):
        made = await staggered(ensure(one), ensure(two))
    assert sorted(made, key=str) == [False, True], made
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        keys = list(await session.scalars(select(DataKey.key_id).where(DataKey.tenant_id == NINGXIA.tenant_id)))
        after = await session.scalar(audited)
    await engine.dispose()
    assert sorted(keys) == [1, 2] and after == (before or 0) + 1
