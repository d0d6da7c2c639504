"""Session login for the web pages: the session holds the staff id and the digest of a login token.

Logging in issues the same audited login token as the API; the session keeps only its SM3 digest, never the
token or the password. Each page request checks that token again (revoked, expired, a changed password or a
deactivated account ends the session), and logging out revokes it.

An admin (``factors.FACTOR_ROLES``) logs in in two steps: the password, after which the session holds only
that the password was right for this person (for ``PENDING_SECONDS``, no login token), then the code on
``CODE_PAGE`` — the first time with the enrolment: the QR code and secret of a new TOTP secret, and after the
first proof the recovery codes, shown once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts import factors
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import Staff
from fuquan.platform.accounts.services import (
    active_staff,
    check_credentials,
    open_login,
    prove_second_factor,
    revoke_token,
    token_digest,
)
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.audit.services import AuditEntry, rejections_audited
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import Unauthenticated
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.web.sessions import regenerate_session
from fuquan.tenants.scope import TenantScope

LOGIN_PAGE = "/login"
CODE_PAGE = "/login/code"  # the second step of an admin's login
HOME_PAGE = "/"
PUBLIC_PAGES = ("/progress", "/verify")  # 办件进度查询 and rating, 电子证照核验: citizens, no login
_STAFF = "staff_id"
_TOKEN = "token_digest"  # noqa: S105 - a session key, not a secret
_PENDING = "password_checked"  # an admin between the password and the code: {staff_id, username, at, next}
PENDING_SECONDS = 300  # how long the code may follow the password


class LoginRequired(Unauthenticated):
    """A page asked for without a live session: answered with a redirect to the login page."""


def safe_next(target: str | None) -> str:
    """Only a path on this site may follow a login (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return HOME_PAGE
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(char) < 32 for char in target):
        return HOME_PAGE
    return target


def login_redirect(request: Request[Any, Any, Any], _error: LoginRequired) -> Redirect:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    suffix = "" if target == HOME_PAGE else "?next=" + quote(target, safe="/")
    request.clear_session()
    return Redirect(LOGIN_PAGE + suffix, status_code=303)


@dataclass(frozen=True, slots=True)
class CodeStep:
    """What the second step of a login shows: the code form, with the enrolment when the person binds first."""

    username: str
    next: str
    enrolment: factors.Enrolment | None


def _client(request: Request[Any, Any, Any]) -> str | None:
    return request.client.host if request.client else None


def _login_entry(request: Request[Any, Any, Any], username: str) -> AuditEntry:
    return AuditEntry(
        action="auth.login",
        actor=username,
        request_id=request_id_of(request),
        detail={"client": _client(request) or ""},
    )


def _start_session(request: Request[Any, Any, Any], staff: Staff, token: str) -> None:
    regenerate_session(request)
    request.set_session({_STAFF: staff.id, _TOKEN: token_digest(token)})


async def log_in(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    *,
    username: str,
    password: str,
    next: str,
    throttle: LoginThrottle,
    settings: Settings,
    ring: KeyRing,
) -> CodeStep | None:
    """Check the credentials (throttled and audited as for the API) and start a fresh session — or, for an
    admin, remember the checked password for the code step and say what it shows (a new secret to bind when
    the person has none yet)."""
    request_id = request_id_of(request)
    client = _client(request)
    async with rejections_audited(db_session, _login_entry(request, username)):
        staff = await check_credentials(
            db_session, username=username, password=password, throttle=throttle, client=client
        )
        if factors.needs_second_factor(staff):
            enrolled = await factors.is_enrolled(db_session, staff)
            enrolment = (
                None if enrolled else await factors.start_enrolment(db_session, ring, staff, request_id=request_id)
            )
            regenerate_session(request)
            pending = {"staff_id": staff.id, "username": username, "at": int(time.time()), "next": next}
            request.set_session({_PENDING: pending})
            return CodeStep(username, next, enrolment)
        token = await open_login(
            db_session, staff, username=username, throttle=throttle, ttl_seconds=settings.token_ttl_seconds,
            request_id=request_id, client=client,
        )  # fmt: skip
    _start_session(request, staff, token)
    return None


def pending_login(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """The password step this session passed, while the code may still follow it."""
    session = request.session if "session" in request.scope else {}
    pending = session.get(_PENDING)
    if not isinstance(pending, dict) or not isinstance(pending.get("staff_id"), int):
        return None
    if not isinstance(pending.get("at"), int) or time.time() - pending["at"] > PENDING_SECONDS:
        return None
    return pending


async def code_step(
    request: Request[Any, Any, Any], db_session: AsyncSession, ring: KeyRing, pending: dict[str, Any]
) -> CodeStep:
    """The code step again (after a wrong code): with the pending enrolment's QR code while not bound yet."""
    staff = await active_staff(db_session, pending["staff_id"])
    enrolment = None if staff is None else await factors.pending_enrolment(db_session, ring, staff)
    return CodeStep(str(pending.get("username", "")), str(pending.get("next", "")), enrolment)


async def prove_code(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    pending: dict[str, Any],
    *,
    code: str,
    throttle: LoginThrottle,
    settings: Settings,
    ring: KeyRing,
) -> list[str]:
    """The code step: prove the second factor (a wrong code counts as a failed login, audited) and start the
    session. Returns the recovery codes when this proof completed the enrolment."""
    request_id = request_id_of(request)
    client = _client(request)
    username = str(pending.get("username", ""))
    async with rejections_audited(db_session, _login_entry(request, username)):
        staff = await active_staff(db_session, pending["staff_id"])
        if staff is None:  # disabled meanwhile
            raise Unauthenticated("用户名或密码不正确", rule="credentials")
        codes = await prove_second_factor(
            db_session, ring, staff, code, username=username, throttle=throttle, client=client, request_id=request_id
        )
        token = await open_login(
            db_session, staff, username=username, throttle=throttle, ttl_seconds=settings.token_ttl_seconds,
            request_id=request_id, client=client,
        )  # fmt: skip
    _start_session(request, staff, token)
    return codes


async def session_actor(request: Request[Any, Any, Any]) -> Actor | None:
    """The staff member of the request's session, if its login is still live (resolved as for the API)."""
    session = request.session if "session" in request.scope else {}
    digest, staff_id = session.get(_TOKEN), session.get(_STAFF)
    if not isinstance(digest, str) or not isinstance(staff_id, int):
        return None
    logins: LoginDirectory = request.app.state.logins
    login = await logins.resolve(digest)
    if login is None or login.staff_id != staff_id:
        return None
    request.state.tenant_name = login.tenant_name  # the site footer names the department the person works for
    return login.actor()


async def log_out(request: Request[Any, Any, Any], db_session: AsyncSession) -> None:
    """Revoke the session's login token (audited) and clear the session."""
    actor = await session_actor(request)
    if actor is not None:
        digest = request.session[_TOKEN]
        await revoke_token(db_session, actor, digest, request.app.state.logins, request_id_of(request))
    request.clear_session()


async def provide_page_actor(request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Actor:
    """The page's actor (a dependency): anonymous visitors are sent to log in; the route's permission is checked."""
    actor = await session_actor(request)
    if actor is None:
        raise LoginRequired("请先登录", rule="session")
    actor.require(request.route_handler.opt["permission"])
    return actor


async def same_actor(page_actor: NamedDependency[Actor]) -> Actor:
    return page_actor


async def provide_page_scope(page_actor: NamedDependency[Actor]) -> TenantScope:
    """The page actor's scope, under the name the API's dependencies use (so ``catalog`` serves both)."""
    return page_actor.scope
