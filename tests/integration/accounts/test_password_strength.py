"""Weak passwords are refused when staff are enrolled (issue 14, finding 7): a guessable password, one made of
the username or the unit, each with a message that says what to do."""

from __future__ import annotations

import pytest

from fuquan.platform.accounts.passwords import MIN_PASSWORD_SCORE
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.errors import ValidationFailed

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("aaaaaaaaaa", "weak_password"),
        ("1234567890", "weak_password"),
        ("password123", "weak_password"),
        ("short", "password_length"),
        ("ningxia_clerk", "password_like_username"),
        ("NINGXIA_CLERK-2026", "password_like_username"),
        ("640202001-640202001", "weak_password"),  # the unit's code, twice
    ],
)
async def test_weak_passwords_are_refused(database_url: str, password: str, rule: str) -> None:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        with pytest.raises(ValidationFailed) as refused:
            await add_staff(session, username="ningxia_clerk", tenant_code="64", unit_code="640202001",
                            roles=["window_clerk"], password=password)  # fmt: skip
    await engine.dispose()
    assert refused.value.rule == rule and "密码" in refused.value.detail


async def test_a_strong_password_is_taken(database_url: str) -> None:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session, session.begin():
        staff = await add_staff(session, username="ningxia_clerk", tenant_code="64", unit_code="640202001",
                                roles=["window_clerk"], password="黄河岸边-grid-7391")  # fmt: skip
    await engine.dispose()
    assert staff.id and MIN_PASSWORD_SCORE == 3
