"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from fuquan.platform.setup.demo import DEMO_PASSWORD


async def login(client: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


PASSWORD = "test-staff-password"


async def enrol(database_url: str, username: str, tenant: str, unit: str, roles: list[str]) -> None:
    """A staff member created straight in the database (password ``PASSWORD``)."""
    from fuquan.platform.accounts.services import add_staff
    from fuquan.platform.core.db import create_engine, session_factory, session_scope

    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        await add_staff(session, username=username, tenant_code=tenant, unit_code=unit, roles=roles, password=PASSWORD)
    await engine.dispose()
