"""Two security admins give one person two admin roles at once: 三员分立 still holds — the person's row is locked
while their roles change, so the second sees the first's role and is refused (422), never both written."""

from __future__ import annotations

import anyio
import pytest
from litestar.stores.memory import MemoryStore
from racing import HOLD_SECONDS, ROUNDS, TOWN, staggered, two_connections
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import RoleAssignment, Staff
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.db import create_engine, session_factory, writing
from fuquan.platform.core.errors import RuleViolation
from fuquan.platform.setup.benchkit import bench_key_ring
from fuquan.platform.staff import services
from fuquan.platform.staff.schemas import CoSigner
from helpers import NINGXIA, co_signer

pytestmark = pytest.mark.anyio


async def _security_admin(maker: async_sessionmaker[AsyncSession]) -> Actor:
    async with maker() as session:
        staff = await session.scalar(select(Staff).where(Staff.username == "nx_security"))
    assert staff is not None
    return Actor(staff.id, staff.username, staff.display_name, "64", frozenset({"security_admin"}), NINGXIA)


async def co_signer_of() -> CoSigner:
    return CoSigner(**await co_signer())


async def test_two_admin_roles_given_at_once_one_is_refused(database_url: str) -> None:
    async def give(maker: async_sessionmaker[AsyncSession], actor: Actor, staff_id: int, role: str) -> str:
        said = writing(True)  # as a POST: SQLite's write lock taken as the transaction begins
        try:
            async with maker() as session, session.begin():
                logins = LoginDirectory(MemoryStore(), maker)
                # 双人复核: a second security admin co-signs (the refused one never gets that far: 三员分立 first)
                witness = services.Witness(await co_signer_of(), bench_key_ring(), LoginThrottle(MemoryStore(), 5, 900),
                                           None, None)  # fmt: skip
                await services.assign_role(session, actor, staff_id, role, logins, witness)
                await anyio.sleep(HOLD_SECONDS)
                return role
        finally:
            said.var.reset(said)

    ids = []
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        for attempt in range(ROUNDS):
            staff = await add_staff(session, username=f"hats{attempt}", tenant_code="64", unit_code=TOWN,
                                    roles=["supervisor"], password="quiet-harbor-maple-1987")  # fmt: skip
            ids.append(staff.id)
    await engine.dispose()

    async with two_connections(database_url) as (one, two):
        actor = await _security_admin(one)
        for staff_id in ids:
            first, second = await staggered(
                give(one, actor, staff_id, "tenant_admin"), give(two, actor, staff_id, "security_admin")
            )
            assert first == "tenant_admin", first
            assert isinstance(second, RuleViolation) and second.rule == "separation_of_duties", second

    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        held = (await session.execute(select(RoleAssignment.staff_id, RoleAssignment.role)
                                      .where(RoleAssignment.staff_id.in_(ids)))).tuples().all()  # fmt: skip
    await engine.dispose()
    assert sorted(held) == sorted([(i, "supervisor") for i in ids] + [(i, "tenant_admin") for i in ids])
