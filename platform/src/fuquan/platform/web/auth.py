"""Session login for the web pages: the session holds the staff id and the digest of a login token.

Logging in issues the same audited login token as the API (``issue_token``); the session keeps only
its SM3 digest, never the token or the password. Each page request checks that token again (revoked,
expired or a deactivated account ends the session), and logging out revokes it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request
from litestar.di import NamedDependency
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.services import LoginThrottle, issue_token, revoke_token, token_digest, token_staff
from fuquan.platform.core.audit.services import AuditEntry, rejections_audited
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import Unauthenticated
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.web.sessions import regenerate_session
from fuquan.tenants.scope import TenantScope

LOGIN_PAGE = "/login"
HOME_PAGE = "/"
PUBLIC_PAGES = "/progress"  # 办件进度查询 and rating: citizens, no login
_STAFF = "staff_id"
_TOKEN = "token_digest"  # noqa: S105 - a session key, not a secret


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


async def log_in(
    request: Request[Any, Any, Any],
    db_session: AsyncSession,
    *,
    username: str,
    password: str,
    throttle: LoginThrottle,
    settings: Settings,
) -> None:
    """Check the credentials (throttled and audited as for the API) and start a fresh session."""
    request_id = request_id_of(request)
    client = request.client.host if request.client else None
    entry = AuditEntry(action="auth.login", actor=username, request_id=request_id, detail={"client": client or ""})
    async with rejections_audited(db_session, entry):
        token, _ttl = await issue_token(
            db_session, username=username, password=password, throttle=throttle,
            ttl_seconds=settings.token_ttl_seconds, request_id=request_id, client=client,
        )  # fmt: skip
    staff = await token_staff(db_session, token)
    assert staff is not None  # just issued
    regenerate_session(request)
    request.set_session({_STAFF: staff.id, _TOKEN: token_digest(token)})


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
