"""Security headers on every answer (issue 14, finding 6): pages cannot be framed, scripts come from this site
only, nothing with case or personal data is cached, and errors answered before any route carry them too."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from helpers import login

pytestmark = pytest.mark.anyio


def hardened(response: Any) -> None:
    headers = response.headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy and "unsafe-eval" not in policy
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"


async def test_pages_api_answers_and_errors_are_hardened_and_never_cached(client: Any) -> None:
    login_page = await client.get("/login")
    clerk = await login(client, "cs_clerk")
    answers = [
        login_page,
        await client.get("/api/v1/cases", headers=clerk),
        await client.get("/api/v1/cases/999999", headers=clerk),  # a 404 problem
        await client.get("/api/v1/cases?unit=%00", headers=clerk),  # refused before any route
        await client.get("/api/v1/auth/me"),  # 401 from the authentication middleware
    ]
    for answer in answers:
        hardened(answer)
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    assert [a.status_code for a in answers] == [200, 200, 404, 400, 401]
    assert "strict-transport-security" not in login_page.headers  # plain HTTP: no HSTS


async def test_static_assets_stay_cacheable_and_swagger_may_start_itself(client: Any) -> None:
    asset = await client.get("/static/vendor/htmx/htmx.min.js")
    hardened(asset)
    assert asset.headers.get("cache-control") != "no-store"
    swagger = await client.get("/schema/swagger")
    assert (
        swagger.status_code == 200 and "script-src 'self' 'unsafe-inline'" in swagger.headers["content-security-policy"]
    )


async def test_hsts_behind_tls(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(msgspec.structs.replace(settings, secure_cookies=True))) as client:
        answer = await client.get("/health")
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


async def test_the_site_icon_is_served_where_browsers_ask_and_may_be_cached(client: Any) -> None:
    """Browsers ask for /favicon.ico on their own: a 404 there logged an error on every first visit (issue 18)."""
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00" and icon.headers["cache-control"] == "public, max-age=86400"
    hardened(icon)
    page = await client.get("/login")
    assert 'rel="icon" href="/static/web/favicon.svg"' in page.text
    assert (await client.get("/static/web/favicon.svg")).status_code == 200


async def test_the_casework_link_opens_each_persons_own_queue(client: Any) -> None:
    """办件 in the header (issue 18, finding 6): grid specialists and village agents see it too; an approver's opens
    the back office, not the front desk."""
    from helpers import web_login

    client.follow_redirects = False
    expected = {
        "jm_grid": 'href="/desk">办件',
        "cs_clerk": 'href="/desk">办件',
        "cs_approver": 'href="/desk/back">办件',
    }
    for username, link in expected.items():
        client.cookies.clear()
        await web_login(client, username)
        landing = await client.get("/")
        assert link in landing.text, username
        queue = await client.get(link.split('"')[1])
        assert queue.status_code == 200 and "<h1" in queue.text, username
