"""Small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any

from fuquan.platform.setup.demo import DEMO_PASSWORD


async def login(client: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
