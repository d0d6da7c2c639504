"""POST /api/v1/auth/token (login), DELETE /api/v1/auth/token (logout), POST /api/v1/auth/enrolment (bind a second
factor), POST /api/v1/auth/password (change one's password), GET /api/v1/auth/me."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts import factors
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.schemas import (
    EnrolmentRead,
    EnrolmentRequest,
    MeRead,
    PasswordChange,
    TokenRead,
    TokenRequest,
)
from fuquan.platform.accounts.services import (
    change_password,
    check_credentials,
    issue_token,
    revoke_token,
    token_digest,
)
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.audit.services import AuditEntry, rejections_audited
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import Conflict
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.request_context import request_id_of

LOGIN_DESCRIPTION = """用户名和密码换取访问令牌（Bearer）。

**管理员岗位**（系统管理员 tenant_admin、单位管理员 unit_admin、安全保密管理员 security_admin、安全审计员 auditor）
还须提供第二重身份验证：身份验证器 App（RFC 6238 TOTP，30 秒、6 位）上的动态验证码，或一个一次性恢复码。
脚本可以这样登录：

1. `POST /api/v1/auth/token {"username", "password"}`：管理员得到 401，`rule` 说明下一步：
   - `second_factor_required`：已绑定，带上 `code` 重新提交；
   - `second_factor_enrolment_required`：尚未绑定，先做第 2 步。
2. 绑定（仅首次）：`POST /api/v1/auth/enrolment {"username", "password"}` 返回新密钥 `secret` 与 `otpauth_uri`
   （二维码 `qr_svg`）；把它加入身份验证器（或用 pyotp 等库按 RFC 6238 计算）。
3. `POST /api/v1/auth/token {"username", "password", "code"}`：200 返回令牌。绑定后的第一次登录同时返回
   `recovery_codes`（10 个一次性恢复码，只出现这一次，请妥善保存）。

每个验证码只能使用一次（同一 30 秒内再次登录请等待下一个验证码），允许前后各一步（±30 秒）的时钟误差。
错误的验证码与错误的密码一样计入该用户名在该客户端上的失败次数（`rule` 为 `second_factor_invalid`，
多次失败后 429 `login_throttled`）。其他岗位无需 `code`（提供了也会被忽略）。"""

ENROLMENT_DESCRIPTION = """管理员首次登录前绑定动态验证码：凭用户名和密码取得一个新的 TOTP 密钥（再次调用会换一个新的，
之前未确认的作废）。随后用该密钥生成的验证码调用 `POST /api/v1/auth/token` 即完成绑定并登录。
已绑定的账号得到 409 `second_factor_enrolled`（更换手机请联系安全保密管理员重置）；不需要动态验证码的岗位得到 409
`second_factor_not_required`。"""


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth 登录"]

    @post(
        "/token", summary="登录，换取访问令牌", description=LOGIN_DESCRIPTION, status_code=200,
        opt={"public": True, "exclude_from_auth": True},
    )  # fmt: skip
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[TokenRequest],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        login_throttle: NamedDependency[LoginThrottle],
        key_ring: NamedDependency[KeyRing],
    ) -> TokenRead:
        request_id = request_id_of(request)
        client = request.client.host if request.client else None
        entry = AuditEntry(
            action="auth.login", actor=data.username, request_id=request_id, detail={"client": client or ""}
        )
        async with rejections_audited(db_session, entry):
            issued = await issue_token(
                db_session, username=data.username, password=data.password, code=data.code, ring=key_ring,
                throttle=login_throttle, ttl_seconds=settings.token_ttl_seconds, request_id=request_id, client=client,
            )  # fmt: skip
        return TokenRead(
            access_token=issued.token, expires_in=issued.expires_in, recovery_codes=issued.recovery_codes or None
        )

    @post(
        "/enrolment", summary="绑定动态验证码（管理员首次登录）", description=ENROLMENT_DESCRIPTION, status_code=201,
        opt={"public": True, "exclude_from_auth": True},
    )  # fmt: skip
    async def enrol(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[EnrolmentRequest],
        db_session: NamedDependency[AsyncSession],
        login_throttle: NamedDependency[LoginThrottle],
        key_ring: NamedDependency[KeyRing],
    ) -> EnrolmentRead:
        request_id = request_id_of(request)
        client = request.client.host if request.client else None
        entry = AuditEntry(
            action="auth.second_factor.enrolment_started", actor=data.username, request_id=request_id,
            detail={"client": client or ""},
        )  # fmt: skip
        async with rejections_audited(db_session, entry):
            staff = await check_credentials(
                db_session, username=data.username, password=data.password, throttle=login_throttle, client=client
            )
            if not factors.needs_second_factor(staff):
                raise Conflict(
                    "该账号的岗位无需绑定动态验证码", rule="second_factor_not_required", audit_tenant_id=staff.tenant_id
                )
            enrolment = await factors.start_enrolment(db_session, key_ring, staff, request_id=request_id)
        return EnrolmentRead(
            secret=enrolment.secret, otpauth_uri=enrolment.uri, qr_svg=enrolment.qr_svg(), digits=factors.DIGITS,
            period=factors.STEP_SECONDS, issuer=factors.ISSUER,
        )  # fmt: skip

    @delete("/token", summary="退出登录（吊销当前令牌）", opt={"permission": "self"})
    async def logout(
        self,
        request: Request[Actor, str, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
    ) -> None:
        await revoke_token(db_session, actor, token_digest(request.auth), logins, request_id_of(request))

    @post(
        "/password", summary="修改本人密码（随后所有令牌和网页登录失效）", status_code=204,
        description="核对当前密码，检查新密码强度；成功后本人的全部访问令牌和网页会话（包括本次使用的令牌）立即失效，"
        "需用新密码重新登录。当前密码错误计入登录失败次数。",
        opt={"permission": "self"},
    )  # fmt: skip
    async def password(
        self,
        request: Request[Actor, str, Any],
        data: JSONBody[PasswordChange],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> None:
        request_id = request_id_of(request)
        client = request.client.host if request.client else None
        async with rejections_audited(db_session, actor.audit_entry("auth.password_changed", request_id=request_id)):
            await change_password(
                db_session, actor=actor, current_password=data.current_password, new_password=data.new_password,
                logins=logins, throttle=login_throttle, client=client, request_id=request_id,
            )  # fmt: skip

    @get("/me", summary="当前登录人员", opt={"permission": "self"})
    async def me(self, actor: NamedDependency[Actor]) -> MeRead:
        return MeRead(
            username=actor.username, display_name=actor.display_name, tenant=actor.scope.tenant_code,
            unit=actor.unit_code, roles=sorted(actor.roles), permissions=sorted(actor.permissions),
        )  # fmt: skip
