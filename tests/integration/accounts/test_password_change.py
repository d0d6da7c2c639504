"""A changed password ends every login of the person: bearer tokens and page sessions, audited."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from sqlalchemy import select

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.models import ApiToken, Staff
from fuquan.platform.accounts.passwords import verify_password
from fuquan.platform.accounts.services import set_password
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.setup.demo import DEMO_PASSWORD
from fuquan.tenants.scope import scope_for
from helpers import csrf_token, login, web_login

pytestmark = pytest.mark.anyio

PASSWORD = "/api/v1/auth/password"
NEW = "violet harbour 7 lanterns"


async def _records(database_url: str, action: str) -> list[AuditRecord]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        found = list(await session.scalars(select(AuditRecord).where(AuditRecord.action == action)))
    await engine.dispose()
    return found


async def test_changing_ones_password_revokes_every_token_and_page_session(client: Any, database_url: str) -> None:
    first, second = await login(client, "cs_clerk"), await login(client, "cs_clerk")
    other = await login(client, "cs_approver")  # someone else's login is untouched
    await web_login(client, "cs_clerk")
    assert (await client.get("/", follow_redirects=False)).status_code == 200
    change = {"current_password": DEMO_PASSWORD, "new_password": NEW}
    assert (await client.post(PASSWORD, json=change, headers=first)).status_code == 204
    for headers in (first, second):
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401
    page = await client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert (await client.get("/api/v1/auth/me", headers=other)).status_code == 200
    refused = await client.post("/api/v1/auth/token", json={"username": "cs_clerk", "password": DEMO_PASSWORD})
    assert refused.status_code == 401
    assert (await login(client, "cs_clerk", NEW))["Authorization"]
    [record] = await _records(database_url, "auth.password_changed")
    assert record.outcome == "success" and record.actor == "cs_clerk" and record.detail["logins_ended"] == 3
    assert NEW not in str(record.detail) and DEMO_PASSWORD not in str(record.detail)


@pytest.mark.parametrize(
    ("current", "new", "status", "rule"),
    [
        ("not-the-password", NEW, 422, "current_password_wrong"),
        (DEMO_PASSWORD, "1234567890", 422, "weak_password"),
        (DEMO_PASSWORD, "cs_clerk-and-more-2026", 422, "password_like_username"),
        (DEMO_PASSWORD, DEMO_PASSWORD, 422, "password_unchanged"),
    ],
)
async def test_a_refused_change_changes_nothing(
    client: Any, database_url: str, current: str, new: str, status: int, rule: str
) -> None:
    headers = await login(client, "cs_clerk")
    answer = await client.post(PASSWORD, json={"current_password": current, "new_password": new}, headers=headers)
    assert answer.status_code == status and answer.json()["rule"] == rule, answer.text
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    assert (await login(client, "cs_clerk"))["Authorization"]
    [record] = await _records(database_url, "auth.password_changed")
    assert record.outcome == "rejected" and record.detail["rule"] == rule


async def test_two_changes_racing_change_it_once(client: Any) -> None:
    first, second = await login(client, "cs_clerk"), await login(client, "cs_clerk")
    answers: dict[str, int] = {}

    async def change(headers: dict[str, str], new: str) -> None:
        body = {"current_password": DEMO_PASSWORD, "new_password": new}
        answers[new] = (await client.post(PASSWORD, json=body, headers=headers)).status_code

    async with anyio.create_task_group() as group:
        group.start_soon(change, first, NEW)
        group.start_soon(change, second, "amber meadow 4 kettles")
    assert sorted(answers.values())[0] == 204 and sorted(answers.values())[1] in (401, 409, 422), answers
    winner = next(new for new, status in answers.items() if status == 204)
    assert (await login(client, "cs_clerk", winner))["Authorization"]


async def test_wrong_current_passwords_count_as_failed_logins(client: Any) -> None:
    headers = await login(client, "cs_clerk")
    wrong = {"current_password": "guess-number-x", "new_password": NEW}
    for _ in range(5):
        assert (await client.post(PASSWORD, json=wrong, headers=headers)).status_code == 422
    right = {"current_password": DEMO_PASSWORD, "new_password": NEW}
    throttled = await client.post(PASSWORD, json=right, headers=headers)
    assert throttled.status_code == 429 and throttled.json()["rule"] == "login_throttled"


async def test_set_password_by_a_security_admin_ends_the_persons_logins(client: Any, database_url: str) -> None:
    clerk = await login(client, "cs_clerk")

    async def reset() -> int:
        """As the staff pages will: in the app's own event loop, with its login directory (Redis on PostgreSQL)."""
        engine = create_engine(database_url)
        try:
            async with session_scope(session_factory(engine)) as session:
                staff = {s.username: s for s in await session.scalars(select(Staff))}
                security = staff["nx_security"]
                actor = Actor(security.id, security.username, security.display_name, "64",
                              frozenset({"security_admin"}), scope_for(security.tenant_id, "64", "64"))  # fmt: skip
                return await set_password(
                    session, staff=staff["cs_clerk"], password=NEW, logins=client.app.state.logins, actor=actor
                )
        finally:
            await engine.dispose()

    assert await anyio.to_thread.run_sync(client.blocking_portal.call, reset) == 1
    assert (await client.get("/api/v1/auth/me", headers=clerk)).status_code == 401
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with maker() as session:
        target = await session.scalar(select(Staff).where(Staff.username == "cs_clerk"))
        assert target is not None and verify_password(target.password_hash, NEW)
        live = await session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
        assert all(token.staff_id != target.id for token in live)
    with pytest.raises(ValidationFailed):  # the strength rules hold for a reset too (checked before anything)
        async with session_scope(maker) as session:
            await set_password(session, staff=target, password="aaaaaaaaaa", logins=client.app.state.logins)
    await engine.dispose()
    [record] = await _records(database_url, "staff.password_reset")
    assert record.actor == "nx_security" and record.detail == {"username": "cs_clerk", "logins_ended": 1}


async def test_the_password_page_changes_it_and_sends_the_person_to_log_in_again(client: Any) -> None:
    client.follow_redirects = False
    await web_login(client, "cs_clerk")
    home = await client.get("/")
    assert 'href="/password"' in home.text
    token = await csrf_token(client, "/password")
    form = {"current_password": DEMO_PASSWORD, "new_password": NEW, "confirm_password": NEW + "x", "_csrf_token": token}
    mismatch = await client.post("/password", data=form)
    assert mismatch.status_code == 400 and "不一致" in mismatch.text
    weak = await client.post("/password", data={**form, "new_password": "1234567890", "confirm_password": "1234567890"})
    assert weak.status_code == 422 and "太容易被猜到" in weak.text
    done = await client.post("/password", data={**form, "confirm_password": NEW})
    assert done.status_code == 303 and done.headers["location"] == "/login?changed=1"
    assert (await client.get("/")).status_code == 303  # this session ended too
    notice = await client.get("/login?changed=1")
    assert "密码已修改" in notice.text
    await web_login(client, "cs_clerk", NEW)
