"""Small helpers shared by the API tests."""

from __future__ import annotations

import base64
import re
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.audit.keys import AuditKeys
from fuquan.platform.core.db import writing
from fuquan.platform.setup.benchkit import MASTER_KEY
from fuquan.platform.setup.demo import DEMO_PASSWORD
from fuquan.platform.setup.known_factors import KNOWN_CODES
from fuquan.platform.share import services as share_services
from fuquan.tenants.scope import scope_for, whole_tenant

TEST_MASTER_KEY = MASTER_KEY  # every test app and replica shares it; the seeded template holds keys under it
TEST_AUDIT_KEY = "test-audit-key-not-in-the-database"  # the test apps' audit key (settings fixture)
AUDIT_KEYS = AuditKeys(TEST_AUDIT_KEY)
NINGXIA = scope_for(1, "64", "64")  # the first tenant the seed imports, whole


_LOGINS = "_fuquan_admin_logins"  # on a client: the admins' live tokens, by (username, password)


async def login(client: Any, username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    """The Authorization header of ``username``. An admin of the seeded template proves the code of their known
    secret; as each code works once, an admin's token is reused on the same client while it is still live."""
    body = {"username": username, "password": password}
    if KNOWN_CODES.needed(username):
        kept: dict[tuple[str, str], dict[str, str]] = client.__dict__.setdefault(_LOGINS, {})
        headers = kept.get((username, password))
        if headers is not None and (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200:
            return headers
        body["code"] = await KNOWN_CODES.acode(username)
    response = await client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    if KNOWN_CODES.needed(username):
        client.__dict__[_LOGINS][(username, password)] = headers
    return headers


async def co_signer(username: str = "dwk_security") -> dict[str, str]:
    """双人复核: a second security admin of tenant 64, present, with their next code (issue 14)."""
    return {"username": username, "code": await KNOWN_CODES.acode(username)}


PASSWORD = "test-staff-password"


async def enrol(database_url: str, username: str, tenant: str, unit: str, roles: list[str]) -> None:
    """A staff member created straight in the database (password ``PASSWORD``); an admin with their known second
    factor, so ``login`` makes their codes."""
    from fuquan.platform.accounts.services import add_staff
    from fuquan.platform.core.db import create_engine, session_factory, session_scope
    from fuquan.platform.setup.benchkit import bench_key_ring
    from fuquan.platform.setup.known_factors import enrol_known_factors

    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        await add_staff(session, username=username, tenant_code=tenant, unit_code=unit, roles=roles, password=PASSWORD)
    async with session_scope(session_factory(engine)) as session:
        await enrol_known_factors(session, bench_key_ring(), [username])
    await engine.dispose()


CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def csrf_token(client: Any, path: str = "/login") -> str:
    """The CSRF token of the form on ``path`` (a GET that also sets the CSRF cookie)."""
    page = await client.get(path, follow_redirects=False)
    assert page.status_code == 200, (path, page.status_code, page.text[:500])
    found = CSRF_FIELD.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


async def web_login(client: Any, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log ``client`` in through the login form, as a browser without JavaScript would (an admin then types the
    code of their known secret on the code page)."""
    form = {"username": username, "password": password, "next": "", "_csrf_token": await csrf_token(client)}
    response = await client.post("/login", data=form, follow_redirects=False)
    if KNOWN_CODES.needed(username):
        assert response.status_code == 200 and 'action="/login/code"' in response.text, response.text[:500]
        token = CSRF_FIELD.search(response.text)
        assert token, response.text[:500]
        code = {"code": await KNOWN_CODES.acode(username), "_csrf_token": token.group(1)}
        response = await client.post("/login/code", data=code, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]


async def web_post(client: Any, form_page: str, action: str, data: dict[str, Any]) -> Any:
    """Submit a form found on ``form_page`` to ``action`` with the page's CSRF token (redirects not followed)."""
    token = await csrf_token(client, form_page)
    return await client.post(action, data={**data, "_csrf_token": token}, follow_redirects=False)


async def connect_partners(
    settings: Any,
    simulators: Any,
    simulator_secret: str,
    *,
    timeout_seconds: float = 1.0,
    secrets: dict[str, str] | None = None,
) -> None:
    """Point tenant 64's partner adapters at running simulators (``secrets`` overrides a partner's key)."""
    from fuquan.integrations import services as partner_services
    from fuquan.integrations.partners.schemas import PARTNERS
    from fuquan.integrations.simulators import app_key_for, derived_secret
    from fuquan.platform.core.db import create_engine, session_factory, session_scope
    from fuquan.platform.migrations.keys import key_ring
    from fuquan.tenants.repositories import TenantRepository

    engine = create_engine(settings.database_url)
    async with session_scope(session_factory(engine)) as session:
        tenant = await TenantRepository(session).by_code("64")
        assert tenant is not None
        for partner in PARTNERS:
            await partner_services.configure(
                session, key_ring(settings), scope=whole_tenant(tenant), partner=partner,
                base_url=simulators.url(partner), app_key=app_key_for(partner),
                secret=(secrets or {}).get(partner) or derived_secret(simulator_secret, partner),
                timeout_seconds=timeout_seconds, retries=1, actor="test",
            )  # fmt: skip
    await engine.dispose()


PNG = base64.b64decode(  # a 1×1 image: a "photo" of a paper material
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


async def grant_unit(client: Any, item: str, unit: str, *actions: str) -> None:
    """The province's admin grants ``item`` to ``unit`` alone, for each of ``actions``."""
    admin = await login(client, "nx_admin")
    for action in actions:
        body = {"item": item, "action": action, "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
                "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
        response = await client.post("/api/v1/grants", json=body, headers=admin)
        assert response.status_code == 201, response.text


async def open_case(
    client: Any, clerk: dict[str, str], item: str, unit: str, id_number: str, name: str, phone: str | None = None
) -> dict[str, Any]:
    """收件 through the API, a photo for each required material the partners did not satisfy."""
    applicant = {"id_number": id_number, "name": name, **({"phone": phone} if phone else {})}
    body = {"item": item, "unit": unit, "applicant": applicant}
    response = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    case = dict(response.json())
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            response = await client.post(
                f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                files={"file": ("photo.png", PNG, "image/png")}, headers=clerk,
            )  # fmt: skip
            assert response.status_code == 200, response.text
            case = dict(response.json())
    return case


async def step(client: Any, who: dict[str, str], case: dict[str, Any], *actions: str) -> dict[str, Any]:
    """Each transition in turn, as ``who``, with the version the previous answer gave."""
    for action in actions:
        body = {"action": action, "version": case["version"]}
        response = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)
        assert response.status_code == 200, (action, response.text)
        case = dict(response.json())
    return case


async def accepted_days_ago(
    database_url: str, case: dict[str, Any], working_days: int, promised_days: int, tz: str = "Asia/Shanghai"
) -> None:
    """Move the acceptance back so that ``working_days`` working days have been used by today (as the
    demo generator back-dates its cases; a Core UPDATE, so the case's version stays what the API said)."""
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    from sqlalchemy import update

    from fuquan.platform.calendar.services import calendar_for
    from fuquan.platform.cases.models import Case
    from fuquan.platform.cases.services.alarms import clock_alarms
    from fuquan.platform.core.db import create_engine, session_factory, session_scope
    from fuquan.platform.core.timeutil import local_date, utcnow

    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        calendar = await calendar_for(session, NINGXIA)
        today = local_date(utcnow(), tz)
        day = today
        while calendar.working_days_used(day, today, []) < working_days:
            day -= timedelta(days=1)
        await session.execute(
            update(Case)
            .where(Case.id == case["id"])
            .values(accepted_on=day, accepted_at=datetime.combine(day, time(9), ZoneInfo(tz)),
                    deadline=calendar.add_working_days(day, promised_days),
                    **dict(zip(("yellow_on", "red_on"), clock_alarms(calendar, day, promised_days), strict=True)))
        )  # fmt: skip
    await engine.dispose()


_WATCHED: ContextVar[bool] = ContextVar("watched", default=False)


class Statements:
    """The SQL the requests sent from inside the block run — not the app's background work (the audit sealer,
    the catch-up), whose tasks began before the block."""

    def __init__(self, app: Any) -> None:
        self.engine = app.state["session_maker"].kw["bind"].sync_engine
        self.seen: list[str] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _WATCHED.get():
            self.seen.append(statement)

    def __enter__(self) -> Statements:
        self.seen.clear()
        self._token = _WATCHED.set(True)
        event.listen(self.engine, "before_cursor_execute", self)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self)
        _WATCHED.reset(self._token)


_SAMPLES = {"date": "2026-11-02", "number": 2026, "money": "1800.00", "phone": "13912345678",
            "bank_account": "6228480012345678901", "long_text": "详见申请材料。", "text": "示例"}  # fmt: skip


def sample_form(item: str, *, web: bool = False) -> dict[str, Any]:
    """A valid application form (申请表) of a shipped catalogue item: its required fields filled in; as the intake
    page posts it (``form.<name>`` strings) when ``web``."""
    from fuquan.platform.catalog.services import default_catalog

    (spec,) = [spec for spec in default_catalog() if spec.code == item]
    form: dict[str, Any] = {
        field.name: field.options[0] if field.type == "choice" else _SAMPLES[field.type]
        for field in spec.fields
        if field.required
    }
    return {f"form.{name}": str(value) for name, value in form.items()} if web else form


async def use_nonce(maker: async_sessionmaker[AsyncSession], key_id: str, nonce: str) -> bool:
    """One signed call's nonce, used in a transaction of its own (as the data-sharing API does per call)."""
    said = writing(True)  # as a signed POST: SQLite's write lock taken as the transaction begins
    try:
        async with maker() as session, session.begin():
            return await share_services.use_nonce(session, key_id, nonce)
    finally:
        said.var.reset(said)


# --- the data-sharing API (issue 15): a partner's signed call, and a resident Fuquan holds a record of -------------

SHARE_PURPOSE = "dibao_eligibility:MZ2026-0153"


def signed(key: tuple[str, str], path: str, body: Any = None, *, method: str = "POST",
                purpose: str = SHARE_PURPOSE, raw: bytes | None = None, **changes: Any) -> dict[str, Any]:  # fmt: skip
    """A request's keyword arguments as a partner sends it: the body's exact bytes and the headers signing them
    (``timestamp``, ``nonce`` and extra ``headers`` may be given to make a faulty call)."""
    import json
    import time

    from fuquan.integrations.gateway.protocol import new_nonce, sign

    payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    key_id, secret = key
    timestamp = changes.pop("timestamp", int(time.time()))
    nonce = changes.pop("nonce", new_nonce())
    headers = sign(secret, method, path, payload, app_key=key_id, timestamp=timestamp, nonce=nonce,
                   request_id=f"req-{nonce}", purpose=purpose, user_id="mz_zhang").as_dict()  # fmt: skip
    headers.update(changes.pop("headers", {}))
    return {"content": payload, "headers": {"Content-Type": "application/json", **headers}}


async def in_session(database_url: str, work: Any) -> Any:
    """``work(session)`` in a transaction of its own on the test's database (committed)."""
    from fuquan.platform.core.db import create_engine, session_factory, session_scope

    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            return await work(session)
    finally:
        await engine.dispose()


async def issued_unemployment_case(client: Any, database_url: str, id_number: str) -> dict[str, Any]:
    """失业登记 (HRSS-02) decided and issued at 长胜街道 for the resident: Fuquan's own record of the registration."""
    from fuquan.platform.accounts.services import add_staff

    town = "640202001"
    await grant_unit(client, "HRSS-02", town, "accept", "decide")

    async def staff(session: AsyncSession) -> None:
        await add_staff(session, username="cs_onestop", tenant_code="64", unit_code=town,
                        roles=["window_clerk", "approver"], password="one-stop-password")  # fmt: skip

    await in_session(database_url, staff)
    desk = await login(client, "cs_onestop", "one-stop-password")
    case = await open_case(client, desk, "HRSS-02", town, id_number, "王五")
    return await step(client, desk, case, "submit", "accept", "assign", "approve", "issue")
