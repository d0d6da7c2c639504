"""Server-side sessions and CSRF for the web pages (the bearer-token API keeps neither)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import Empty, Message, ScopeSession

from fuquan.platform.core.config import Settings

TEMPLATE_DIR = Path(__file__).parent / "templates"
SESSION_STORE = "sessions"
SESSION_COOKIE = "fuquan_session"
CSRF_COOKIE = "fuquan_csrf"
# neither sessions nor CSRF apply to the bearer-token API, the OpenAPI pages, assets and probes
NOT_WEB = ["^/api/", "^/static", "^/schema", "^/health", "^/ready"]
# the public information pages are cached whole and handed to every visitor: no session, no CSRF cookie in them
CACHED_PAGES = ["^/guide/", "^/lists/", "^/policies/"]
_REGENERATE = "fuquan_session_regenerate"
_NEW_ID = "fuquan_session_new_id"


def regenerate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """Give the session a fresh id when the response is sent (and drop the old one): no session fixation."""
    connection.scope.setdefault("state", {})[_REGENERATE] = True


class _RegeneratingBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        state = connection.scope.setdefault("state", {})
        if not state.get(_REGENERATE):
            return super().get_session_id(connection)
        if _NEW_ID not in state:
            state[_NEW_ID] = self.generate_session_id()
        return str(state[_NEW_ID])

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        old = connection.cookies.get(self.config.key)
        if scope_session is Empty or scope_session is None or scope_session == {}:
            if not old or old == "null":
                return  # an anonymous visit stores nothing and sets no cookie
            scope_session = Empty  # an emptied session is deleted and its cookie expired
        if connection.scope.get("state", {}).get(_REGENERATE) and old:
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class _SessionConfig(ServerSideSessionConfig):
    _backend_class = _RegeneratingBackend


def session_config(settings: Settings, *, secure: bool) -> ServerSideSessionConfig:
    return _SessionConfig(
        store=SESSION_STORE,
        key=SESSION_COOKIE,
        # idle timeout: the session (and its cookie) lasts this long past its last use; the login behind it ends
        # at its token's absolute expiry whatever the use
        max_age=settings.session_idle_seconds,
        renew_on_access=True,
        httponly=True,
        samesite="lax",
        secure=secure,
        exclude=[*NOT_WEB, *CACHED_PAGES],
    )


def csrf_config(settings: Settings, *, secure: bool) -> CSRFConfig:
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        cookie_secure=secure,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=[*NOT_WEB, *CACHED_PAGES],
    )


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(directory=TEMPLATE_DIR, engine=JinjaTemplateEngine)
