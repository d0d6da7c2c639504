"""POST /api/v1/auth/token (login), DELETE /api/v1/auth/token (logout), GET /api/v1/auth/me."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.schemas import MeRead, TokenRead, TokenRequest
from fuquan.platform.accounts.services import LoginThrottle, issue_token, revoke_token, token_digest
from fuquan.platform.core.audit.services import AuditEntry, rejections_audited
from fuquan.platform.core.config import Settings
from fuquan.platform.core.request_context import request_id_of


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth 登录"]

    @post("/token", summary="登录，换取访问令牌", status_code=200, opt={"public": True, "exclude_from_auth": True})
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenRequest],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> TokenRead:
        request_id = request_id_of(request)
        client = request.client.host if request.client else None
        entry = AuditEntry(
            action="auth.login", actor=data.username, request_id=request_id, detail={"client": client or ""}
        )
        async with rejections_audited(db_session, entry):
            token, ttl = await issue_token(
                db_session, username=data.username, password=data.password, throttle=login_throttle,
                ttl_seconds=settings.token_ttl_seconds, request_id=request_id, client=client,
            )  # fmt: skip
        return TokenRead(access_token=token, expires_in=ttl)

    @delete("/token", summary="退出登录（吊销当前令牌）", opt={"permission": "self"})
    async def logout(
        self,
        request: Request[Actor, str, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> None:
        await revoke_token(db_session, actor, token_digest(request.auth), logins, request_id_of(request))

    @get("/me", summary="当前登录人员", opt={"permission": "self"})
    async def me(self, actor: NamedDependency[Actor]) -> MeRead:
        return MeRead(
            username=actor.username, display_name=actor.display_name, tenant=actor.scope.tenant_code,
            unit=actor.unit_code, roles=sorted(actor.roles), permissions=sorted(actor.permissions),
        )  # fmt: skip
