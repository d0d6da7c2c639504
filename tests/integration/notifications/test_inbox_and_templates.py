"""The inbox API (everyone's own messages, nobody else's) and the SMS templates a tenant's admin edits within the
platforms' rules (audited; another tenant's templates untouched)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from fuquan.platform.accounts.models import Staff
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.notifications.repositories import NotificationRepository
from fuquan.platform.notifications.services.outbox import inbox_row
from helpers import in_session, login

pytestmark = pytest.mark.anyio


async def _inbox_of(database_url: str, username: str, count: int) -> None:
    async def work(session: Any) -> None:
        staff = await session.scalar(select(Staff).where(Staff.username == username))
        rows = [
            inbox_row(staff.tenant_id, staff.id, kind="warning", dedupe_key=f"test:{n}", title=f"预警 {n}",
                      body="办件即将到期", link="/cases/1", case_id=None, now=utcnow())
            for n in range(count)
        ]  # fmt: skip
        assert await NotificationRepository(session).add_once(rows) == count
        assert await NotificationRepository(session).add_once(rows) == 0  # the same notices again: none written

    await in_session(database_url, work)


async def test_the_inbox_is_ones_own_and_reading_clears_the_count(client: Any, database_url: str) -> None:
    await _inbox_of(database_url, "cs_clerk", 3)
    clerk, other = await login(client, "cs_clerk"), await login(client, "cs_approver")
    assert (await client.get("/api/v1/inbox/unread")).status_code == 401
    assert (await client.get("/api/v1/inbox/unread", headers=clerk)).json() == {"unread": 3}
    page = (await client.get("/api/v1/inbox", headers=clerk)).json()
    assert page["total"] == 3 and page["unread"] == 3 and page["items"][0]["title"] == "预警 2"
    first = page["items"][0]["id"]
    assert (await client.get("/api/v1/inbox/unread", headers=other)).json() == {"unread": 0}
    refused = await client.post(f"/api/v1/inbox/{first}/read", headers=other)  # another's message: not found
    assert refused.status_code == 404, refused.text
    marked = await client.post(f"/api/v1/inbox/{first}/read", headers=clerk)
    assert marked.status_code == 200 and marked.json() == {"marked": 1}
    assert (await client.post(f"/api/v1/inbox/{first}/read", headers=clerk)).json() == {"marked": 0}
    unread = (await client.get("/api/v1/inbox", params={"unread_only": True}, headers=clerk)).json()
    assert unread["total"] == 2 and first not in [item["id"] for item in unread["items"]]
    assert (await client.post("/api/v1/inbox/read", headers=clerk)).json() == {"marked": 2}
    assert (await client.get("/api/v1/inbox/unread", headers=clerk)).json() == {"unread": 0}


async def test_an_admin_edits_a_template_within_the_platforms_rules(client: Any, database_url: str) -> None:
    admin, hainan, clerk = (
        await login(client, "nx_admin"),
        await login(client, "hn_admin"),
        await login(client, "cs_clerk"),
    )
    assert (await client.get("/api/v1/notifications/sms/templates", headers=clerk)).status_code == 403
    shipped = (await client.get("/api/v1/notifications/sms/templates", headers=admin)).json()
    accepted = next(t for t in shipped if t["kind"] == "case_accepted")
    assert accepted["customised"] is False and accepted["example"].startswith(
        "【宁夏人社】您申请的就业困难人员认定已受理"
    )
    good = {
        "text": "您的${item}已受理，编号${no}，查询码${code}。",
        "vendor_template": "SMS_200000001",
        "sign_name": "宁夏人社",
    }
    for wrong, rule in (
        ({**good, "text": "您的身份证号${id_number}已登记"}, "sms_text_variable"),
        ({**good, "text": "【宁夏人社】您的${item}已受理"}, "sms_text_brackets"),
        ({**good, "text": "${item}${no}"}, "sms_text_adjacent"),
    ):
        refused = await client.put("/api/v1/notifications/sms/templates/case_accepted", json=wrong, headers=admin)
        assert refused.status_code == 422 and refused.json()["rule"] == rule, refused.text
    bad_code = await client.put("/api/v1/notifications/sms/templates/case_accepted",
                                json={**good, "vendor_template": "free text"}, headers=admin)  # fmt: skip
    assert bad_code.status_code == 400 or bad_code.status_code == 422, bad_code.text
    missing = await client.put("/api/v1/notifications/sms/templates/no_such_kind", json=good, headers=admin)
    assert missing.status_code == 404, missing.text
    edited = await client.put("/api/v1/notifications/sms/templates/case_accepted", json=good, headers=admin)
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 1 and edited.json()["customised"] is True
    again = await client.put("/api/v1/notifications/sms/templates/case_accepted", json=good, headers=admin)
    assert again.json()["version"] == 2
    other = (await client.get("/api/v1/notifications/sms/templates", headers=hainan)).json()
    assert next(t for t in other if t["kind"] == "case_accepted")["customised"] is False  # Hainan's own, untouched

    async def audited(session: Any) -> list[str]:
        rows = await session.scalars(select(AuditRecord.action).where(AuditRecord.action == "sms_template.update"))
        return list(rows)

    assert len(await in_session(database_url, audited)) == 2
