"""我的消息: the header's unread count, the inbox page, reading one message (and going to what it is about) or all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fuquan.platform.accounts.models import Staff
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.notifications.repositories import NotificationRepository
from fuquan.platform.notifications.services.outbox import inbox_row
from helpers import in_session, web_login, web_post

pytestmark = pytest.mark.anyio


async def _notify(database_url: str, username: str, links: list[str | None]) -> None:
    async def work(session: Any) -> None:
        staff = await session.scalar(select(Staff).where(Staff.username == username))
        await NotificationRepository(session).add_once([
            inbox_row(staff.tenant_id, staff.id, kind="warning", dedupe_key=f"page:{n}", title=f"办件 {n} 进入黄色预警",
                      body="剩余 1 个工作日", link=link, case_id=None, now=utcnow())
            for n, link in enumerate(links)
        ])  # fmt: skip

    await in_session(database_url, work)


async def test_the_header_counts_unread_and_the_inbox_reads_them(client: Any, database_url: str) -> None:
    await _notify(database_url, "cs_clerk", ["/desk", None, "https://elsewhere.example/phish"])
    await web_login(client, "cs_clerk")
    home = await client.get("/")
    assert 'href="/inbox">消息<span hx-get="/inbox/badge"' in home.text
    assert "3 条未读" in (await client.get("/inbox/badge")).text
    page = await client.get("/inbox")
    assert page.status_code == 200 and page.text.count("进入黄色预警") == 3
    assert "elsewhere.example" not in page.text  # only links to our own pages are shown
    opened = await web_post(client, "/inbox", "/inbox/1/read?next_page=%2Fdesk", {})
    assert opened.status_code == 303 and opened.headers["location"] == "/desk"
    assert "2 条未读" in (await client.get("/inbox/badge")).text
    cleared = await web_post(client, "/inbox", "/inbox/read", {})
    assert cleared.status_code == 303
    assert "未读" not in (await client.get("/inbox/badge")).text


async def test_another_staff_members_message_is_not_found(client: Any, database_url: str) -> None:
    await _notify(database_url, "cs_approver", ["/desk"])
    await web_login(client, "cs_clerk")
    refused = await web_post(client, "/inbox", "/inbox/1/read", {})
    assert refused.status_code == 404
    assert "未读" not in (await client.get("/inbox/badge")).text
