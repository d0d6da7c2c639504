"""Bearer-token authentication (middleware), the permission guard and the request-scoped providers."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.services import token_digest
from fuquan.platform.core.errors import Unauthenticated
from fuquan.tenants.scope import TenantScope

PUBLIC = "public"  # route opt key: no login needed


class BearerTokenMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("请先登录（请求缺少 Authorization: Bearer 访问令牌）", rule="token")
        logins: LoginDirectory = connection.app.state.logins
        login = await logins.resolve(token_digest(token.strip()))
        if login is None:
            raise Unauthenticated("登录已失效，请重新登录", rule="token")
        return AuthenticationResult(user=login.actor(), auth=token.strip())


async def permission_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Each protected handler names the permission it needs in ``opt``; none means misconfigured.

    A connection without a user was let through by the authentication middleware's exclusions
    (public routes, the OpenAPI pages, static assets), so there is nothing to check.
    """
    if handler.opt.get(PUBLIC) or "user" not in connection.scope:
        return
    permission = handler.opt.get("permission")
    if permission is None:  # pragma: no cover - caught by the route inventory test
        raise RuntimeError(f"route {handler} declares no permission")
    actor: Actor = connection.user
    actor.require(permission)


async def provide_actor(request: Request[Actor, str, Any]) -> Actor:
    return request.user


async def provide_scope(request: Request[Actor, str, Any]) -> TenantScope:
    return request.user.scope
