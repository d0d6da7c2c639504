"""Admins sign in with a second factor (TOTP, RFC 6238) on the API: enrolment, codes once only, drift, recovery
codes, throttling, audit, and the security administrator's reset."""

from __future__ import annotations

import re
import time
from typing import Any

import anyio
import pytest
from sqlalchemy import delete, select

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.factors import STEP_SECONDS, code_at, reset_second_factor
from fuquan.platform.accounts.models import RecoveryCode, SecondFactor, Staff
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.errors import NotFound, PermissionDenied
from fuquan.platform.setup.demo import DEMO_PASSWORD
from fuquan.platform.setup.known_factors import known_secret
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import scope_for

pytestmark = pytest.mark.anyio

TOKEN = "/api/v1/auth/token"
ENROLMENT = "/api/v1/auth/enrolment"


def _step() -> int:
    """The current step, away from its edges (a code made now is still of this step when the server checks)."""
    if time.time() % STEP_SECONDS > STEP_SECONDS - 3:
        time.sleep(4)
    return int(time.time()) // STEP_SECONDS


async def _post(client: Any, username: str, **extra: str) -> Any:
    return await client.post(TOKEN, json={"username": username, "password": DEMO_PASSWORD, **extra})


async def _unenrol(database_url: str, username: str) -> None:
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        staff = await session.scalar(select(Staff).where(Staff.username == username))
        assert staff is not None
        await session.execute(delete(SecondFactor).where(SecondFactor.staff_id == staff.id))
    await engine.dispose()


async def _audit(database_url: str, action_prefix: str) -> list[AuditRecord]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        records = list(
            await session.scalars(
                select(AuditRecord).where(AuditRecord.action.startswith(action_prefix)).order_by(AuditRecord.id)
            )
        )
    await engine.dispose()
    return records


async def test_an_admin_needs_a_code_and_a_clerk_does_not(client: Any) -> None:
    refused = await _post(client, "nx_admin")
    assert refused.status_code == 401 and "access_token" not in refused.json()
    assert refused.json()["rule"] == "second_factor_required" and "6 位验证码" in refused.json()["detail"]
    for admin in ("dwk_admin", "nx_security", "nx_auditor", "hn_admin"):  # every admin role, both tenants
        assert (await _post(client, admin)).json()["rule"] == "second_factor_required"
    assert (await _post(client, "cs_clerk")).status_code == 200
    assert (await _post(client, "cs_clerk", code="000000")).status_code == 200  # a clerk's code is ignored
    wrong_password = await _post(client, "nx_admin", password="not-the-password", code="123456")
    assert wrong_password.status_code == 401 and wrong_password.json()["rule"] == "credentials"


async def test_a_code_is_accepted_once_within_one_step_of_drift(client: Any) -> None:
    secret, now = known_secret("nx_admin"), _step()
    for far in (now - 2, now + 2):
        answer = await _post(client, "nx_admin", code=code_at(secret, far))
        assert answer.status_code == 401 and answer.json()["rule"] == "second_factor_invalid", far
    assert (await _post(client, "nx_admin", code=code_at(secret, now - 1))).status_code == 200
    replayed = await _post(client, "nx_admin", code=code_at(secret, now - 1))
    assert replayed.status_code == 401 and replayed.json()["rule"] == "second_factor_invalid"
    assert (await _post(client, "nx_admin", code=code_at(secret, now + 1))).status_code == 200
    # once a later code was used, an earlier one is no good either (RFC 6238 §5.2)
    assert (await _post(client, "nx_admin", code=code_at(secret, now))).status_code == 401


async def test_two_requests_racing_with_one_code_get_one_token(client: Any) -> None:
    code = code_at(known_secret("dwk_admin"), _step())
    answers: list[int] = []

    async def attempt() -> None:
        answers.append((await _post(client, "dwk_admin", code=code)).status_code)

    async with anyio.create_task_group() as group:
        group.start_soon(attempt)
        group.start_soon(attempt)
    assert sorted(answers) == [200, 401]


async def test_wrong_codes_count_as_failed_logins_and_the_password_alone_clears_nothing(client: Any) -> None:
    for _ in range(4):
        assert (await _post(client, "cs_admin", code="000000")).json()["rule"] == "second_factor_invalid"
    assert (await _post(client, "cs_admin")).json()["rule"] == "second_factor_required"  # neither counts nor clears
    assert (await _post(client, "cs_admin", code="000001")).status_code == 401  # the fifth failure
    locked = await _post(client, "cs_admin", code=code_at(known_secret("cs_admin"), _step()))
    assert locked.status_code == 429 and locked.json()["rule"] == "login_throttled"


async def test_first_login_enrols_with_a_proved_code_and_recovery_codes_work_once(
    client: Any, database_url: str
) -> None:
    await _unenrol(database_url, "dw_admin")
    first = await _post(client, "dw_admin")
    assert first.status_code == 401 and first.json()["rule"] == "second_factor_enrolment_required"
    assert (await _post(client, "dw_admin", code="123456")).json()["rule"] == "second_factor_enrolment_required"
    bad = await client.post(ENROLMENT, json={"username": "dw_admin", "password": "not-the-password"})
    assert bad.status_code == 401 and bad.json()["rule"] == "credentials"
    clerk = await client.post(ENROLMENT, json={"username": "cs_clerk", "password": DEMO_PASSWORD})
    assert clerk.status_code == 409 and clerk.json()["rule"] == "second_factor_not_required"

    enrolment = await client.post(ENROLMENT, json={"username": "dw_admin", "password": DEMO_PASSWORD})
    assert enrolment.status_code == 201, enrolment.text
    shown = enrolment.json()
    assert shown["otpauth_uri"].startswith("otpauth://totp/Fuquan:dw_admin?secret=" + shown["secret"])
    assert shown["qr_svg"].startswith("<svg") and "<script" not in shown["qr_svg"]
    assert (shown["digits"], shown["period"]) == (6, 30)
    # the secret is stored encrypted, bound to the person
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        factor = await session.scalar(select(SecondFactor).where(SecondFactor.enrolled_at.is_(None)))
        assert factor is not None  # dw_admin's, not proved yet
        assert shown["secret"].encode() not in factor.secret_cipher
    await engine.dispose()
    # until a code is proved, no token: a wrong one is refused and counted
    wrong = await _post(client, "dw_admin", code="000000")
    assert wrong.status_code == 401 and wrong.json()["rule"] == "second_factor_invalid"
    proved = await _post(client, "dw_admin", code=code_at(shown["secret"], _step()))
    assert proved.status_code == 200, proved.text
    codes = proved.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10 and all(re.fullmatch(r"[a-z2-9]{5}-[a-z2-9]{5}", c) for c in codes)
    again = await client.post(ENROLMENT, json={"username": "dw_admin", "password": DEMO_PASSWORD})
    assert again.status_code == 409 and again.json()["rule"] == "second_factor_enrolled"

    recovered = await _post(client, "dw_admin", code=codes[0].upper().replace("-", " "))  # as typed by hand
    assert recovered.status_code == 200 and recovered.json()["recovery_codes"] is None
    assert (await _post(client, "dw_admin", code=codes[0])).json()["rule"] == "second_factor_invalid"
    async with session_factory(engine)() as session:
        mine = select(Staff.id).where(Staff.username == "dw_admin").scalar_subquery()
        stored = list(await session.scalars(select(RecoveryCode.digest).where(RecoveryCode.staff_id == mine)))
        assert len(stored) == 10 and not any(code.replace("-", "") in digest for code in codes for digest in stored)
    await engine.dispose()

    actions = [(r.action, r.outcome, r.detail.get("rule")) for r in await _audit(database_url, "auth.")]
    assert ("auth.second_factor.enrolment_started", "success", None) in actions
    assert ("auth.second_factor.enrolled", "success", None) in actions
    assert ("auth.second_factor.recovery_used", "success", None) in actions
    assert ("auth.login", "rejected", "second_factor_invalid") in actions
    assert ("auth.login", "rejected", "second_factor_enrolment_required") in actions
    used = await _audit(database_url, "auth.second_factor.recovery_used")
    assert used[0].detail["left"] == 9 and used[0].actor == "dw_admin"


async def _actor(database_url: str, username: str) -> tuple[Actor, dict[str, Staff]]:
    """``username`` as an actor at their unit, and every staff member by username."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        staff = {s.username: s for s in await session.scalars(select(Staff))}
        me = staff[username]
        tenant = await TenantRepository(session).by_id(me.tenant_id)
        assert tenant is not None
    await engine.dispose()
    scope = scope_for(tenant.id, tenant.code, me.unit_code)
    return Actor(me.id, me.username, me.display_name, me.unit_code, frozenset(r.role for r in me.roles), scope), staff


async def test_a_security_admin_resets_a_factor_within_their_subtree(client: Any, database_url: str) -> None:
    security, staff = await _actor(database_url, "nx_security")
    engine = create_engine(database_url)
    maker = session_factory(engine)
    async with session_scope(maker) as session:
        await reset_second_factor(session, actor=security, staff=staff["dwk_admin"])
    assert (await _post(client, "dwk_admin")).json()["rule"] == "second_factor_enrolment_required"
    reset = await _audit(database_url, "auth.second_factor.reset")
    assert [(r.actor, r.resource, r.detail["had"]) for r in reset] == [
        ("nx_security", f"staff:{staff['dwk_admin'].id}", True)
    ]

    refusals = [
        ((await _actor(database_url, "nx_admin"))[0], staff["cs_admin"], PermissionDenied),  # not a security admin
        (security, staff["nx_security"], PermissionDenied),  # not their own
        (security, staff["hn_admin"], NotFound),  # another tenant reads as not found
    ]
    for actor, target, error in refusals:
        with pytest.raises(error):
            async with session_scope(maker) as session:
                await reset_second_factor(session, actor=actor, staff=target)
    # a security admin of a county reaches their county only
    county = Actor(security.staff_id, "county_security", "", "640202", frozenset({"security_admin"}),
                   scope_for(security.tenant_id, "64", "640202"))  # fmt: skip
    with pytest.raises(NotFound):
        async with session_scope(maker) as session:
            await reset_second_factor(session, actor=county, staff=staff["dw_admin"])
    async with session_scope(maker) as session:
        await reset_second_factor(session, actor=county, staff=staff["cs_admin"])
    await engine.dispose()
    assert (await _post(client, "cs_admin")).json()["rule"] == "second_factor_enrolment_required"
    assert (await _post(client, "dw_admin")).json()["rule"] == "second_factor_required"  # untouched
