"""An admin's web login: the password, then the code — the first time binding an authenticator from the QR code
shown inline (no script), the recovery codes shown once."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from sqlalchemy import delete, select

from fuquan.platform.accounts.factors import STEP_SECONDS, code_at
from fuquan.platform.accounts.models import SecondFactor, Staff
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.setup.demo import DEMO_PASSWORD
from fuquan.platform.setup.known_factors import known_secret
from helpers import CSRF_FIELD, csrf_token

pytestmark = pytest.mark.anyio

SECRET = re.compile(r'data-secret="([A-Z2-7]+)"')


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


def _step() -> int:
    if time.time() % STEP_SECONDS > STEP_SECONDS - 3:
        time.sleep(4)
    return int(time.time()) // STEP_SECONDS


async def _password(web: Any, username: str, next_: str = "") -> Any:
    form = {"username": username, "password": DEMO_PASSWORD, "next": next_, "_csrf_token": await csrf_token(web)}
    return await web.post("/login", data=form)


async def _code(web: Any, page: Any, code: str) -> Any:
    token = CSRF_FIELD.search(page.text)
    assert token, page.text[:500]
    return await web.post("/login/code", data={"code": code, "_csrf_token": token.group(1)})


async def test_an_enrolled_admin_logs_in_with_password_then_code(web: Any) -> None:
    page = await _password(web, "nx_admin", "/authority")
    assert page.status_code == 200 and 'action="/login/code"' in page.text and "<svg" not in page.text
    wrong = await _code(web, page, "000000")
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text and "验证码不正确" in wrong.text
    done = await _code(web, wrong, code_at(known_secret("nx_admin"), _step()))
    assert done.status_code == 303 and done.headers["location"] == "/authority"
    assert (await web.get("/")).status_code == 200


async def test_a_code_without_the_password_step_is_refused(web: Any) -> None:
    token = await csrf_token(web)
    answer = await web.post(
        "/login/code", data={"code": code_at(known_secret("nx_admin"), _step()), "_csrf_token": token}
    )
    assert answer.status_code == 401 and "重新输入用户名和密码" in answer.text
    assert (await web.get("/")).status_code == 303


async def test_first_web_login_binds_from_the_qr_code_and_shows_recovery_codes_once(
    web: Any, database_url: str
) -> None:
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        staff = await session.scalar(select(Staff).where(Staff.username == "nx_auditor"))
        assert staff is not None
        await session.execute(delete(SecondFactor).where(SecondFactor.staff_id == staff.id))
    await engine.dispose()
    page = await _password(web, "nx_auditor")
    assert page.status_code == 200 and "绑定动态验证码" in page.text
    assert "<svg" in page.text and "<script" not in page.text.split("<main", 1)[1]
    found = SECRET.search(page.text)
    assert found, page.text[:2000]
    secret = found.group(1)
    wrong = await _code(web, page, "000000")  # the QR code is shown again with the error
    assert wrong.status_code == 401 and SECRET.search(wrong.text).group(1) == secret  # type: ignore[union-attr]
    done = await _code(web, wrong, code_at(secret, _step()))
    assert done.status_code == 200 and "只显示这一次" in done.text
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.text)
    assert len(codes) == 10
    assert (await web.get("/")).status_code == 200  # logged in
    await web.post("/logout", data={"_csrf_token": await csrf_token(web, "/")})
    # a recovery code logs in once
    again = await _password(web, "nx_auditor")
    assert "<svg" not in again.text
    assert (await _code(web, again, codes[3])).status_code == 303
    await web.post("/logout", data={"_csrf_token": await csrf_token(web, "/")})
    third = await _password(web, "nx_auditor")
    assert (await _code(web, third, codes[3])).status_code == 401
