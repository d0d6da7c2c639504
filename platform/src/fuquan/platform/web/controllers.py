"""The web pages: login, logout and the landing page (session-authenticated, CSRF on every form)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import SELF, Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.passwords import MIN_PASSWORD_LENGTH
from fuquan.platform.accounts.services import change_password
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.audit.services import rejections_audited
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.web.auth import (
    CODE_PAGE,
    HOME_PAGE,
    LOGIN_PAGE,
    CodeStep,
    code_step,
    log_in,
    log_out,
    pending_login,
    prove_code,
    safe_next,
    session_actor,
)
from fuquan.platform.web.landing import landing
from fuquan.platform.web.pages import OPEN, PageController, page, render


class LoginForm(msgspec.Struct, kw_only=True):
    # bounded like the API's TokenRequest: no account has a longer name, and a failed login's audit record keeps
    # the name typed (PostgreSQL refused a longer one: the page answered 503)
    username: Annotated[str, msgspec.Meta(max_length=64)] = ""
    password: Annotated[str, msgspec.Meta(max_length=256)] = ""
    next: str = ""


class CodeForm(msgspec.Struct, kw_only=True):
    code: str = ""


class PasswordForm(msgspec.Struct, kw_only=True):
    current_password: str = ""
    new_password: str = ""
    confirm_password: str = ""


PASSWORD_PAGE = "/password"  # noqa: S105 - a path, not a secret
CHANGED = "changed"  # ?changed=1 on the login page: the password was changed, log in again


def _code_page(step: CodeStep, error: str | None = None, status_code: int = 200) -> Template:
    return Template("login_code.html", context={"step": step, "error": error}, status_code=status_code)


class WebController(PageController):
    path = "/"

    @get(LOGIN_PAGE, opt=OPEN)
    async def login_page(
        self,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        next: FromQuery[str] = "",
        changed: FromQuery[str] = "",
    ) -> Template | Redirect:
        if await session_actor(request) is not None:
            return Redirect(safe_next(next), status_code=303)
        context = {"next": safe_next(next), "username": "", "error": None, CHANGED: changed == "1"}
        return Template("login.html", context=context)

    @post(LOGIN_PAGE, opt=OPEN)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        login_throttle: NamedDependency[LoginThrottle],
        key_ring: NamedDependency[KeyRing],
    ) -> Template | Redirect:
        target = safe_next(data.next)
        username = data.username.strip()
        if not username or not data.password:
            context = {"next": target, "username": username, "error": "请输入用户名和密码"}
            return Template("login.html", context=context, status_code=400)
        try:
            step = await log_in(
                request, db_session, username=username, password=data.password, next=target,
                throttle=login_throttle, settings=settings, ring=key_ring,
            )  # fmt: skip
        except FuquanError as error:  # wrong password, locked account: the rejection is already audited
            context = {"next": target, "username": username, "error": error.detail}
            return Template("login.html", context=context, status_code=error.status)
        if step is not None:  # an admin: the code comes next (the answer is 200, so the enrolment is kept)
            return _code_page(step)
        return Redirect(target, status_code=303)

    @post(CODE_PAGE, opt=OPEN)
    async def login_code(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[CodeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        login_throttle: NamedDependency[LoginThrottle],
        key_ring: NamedDependency[KeyRing],
    ) -> Template | Redirect:
        pending = pending_login(request)
        if pending is None:  # no password step, or too long ago
            request.clear_session()
            context = {"next": HOME_PAGE, "username": "", "error": "登录已超时，请重新输入用户名和密码"}
            return Template("login.html", context=context, status_code=401)
        target = safe_next(str(pending.get("next", "")))
        if not data.code.strip():
            return _code_page(await code_step(request, db_session, key_ring, pending), "请输入验证码", 400)
        try:
            codes = await prove_code(
                request, db_session, pending, code=data.code, throttle=login_throttle, settings=settings, ring=key_ring
            )
        except FuquanError as error:  # wrong or used code, throttled: the rejection is already audited
            step = await code_step(request, db_session, key_ring, pending)
            return _code_page(step, error.detail, error.status)
        if codes:  # shown once: the first login after binding
            return Template("recovery_codes.html", context={"codes": codes, "next": target})
        return Redirect(target, status_code=303)

    @get(PASSWORD_PAGE, opt=page(SELF))
    async def password_page(self, page_actor: NamedDependency[Actor]) -> Template:
        return render("password.html", page_actor, error=None, min_length=MIN_PASSWORD_LENGTH)

    @post(PASSWORD_PAGE, opt=page(SELF))
    async def submit_password(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[PasswordForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
        page_actor: NamedDependency[Actor],
        logins: NamedDependency[LoginDirectory],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> Template | Redirect:
        def again(message: str, status_code: int) -> Template:
            return render("password.html", page_actor, status_code, error=message, min_length=MIN_PASSWORD_LENGTH)

        if not data.current_password or not data.new_password:
            return again("请填写当前密码和新密码", 400)
        if data.new_password != data.confirm_password:
            return again("两次输入的新密码不一致", 400)
        request_id = request_id_of(request)
        try:
            async with rejections_audited(
                db_session, page_actor.audit_entry("auth.password_changed", request_id=request_id)
            ):
                await change_password(
                    db_session, actor=page_actor, current_password=data.current_password,
                    new_password=data.new_password, logins=logins, throttle=login_throttle,
                    client=request.client.host if request.client else None, request_id=request_id,
                )  # fmt: skip
        except FuquanError as error:  # wrong current password, weak new one: audited, nothing changed
            return again(error.detail, error.status)
        request.clear_session()  # every login of the person has ended, this one too
        return Redirect(f"{LOGIN_PAGE}?{CHANGED}=1", status_code=303)

    @post("/logout", opt=OPEN)
    async def logout(self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Redirect:
        await log_out(request, db_session)
        return Redirect(LOGIN_PAGE, status_code=303)

    @get(HOME_PAGE, opt=page(SELF))
    async def home(
        self,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
    ) -> Template:
        landing_page = await landing(db_session, authority_registry, page_actor, catalog)
        return render("home.html", page_actor, page=landing_page)
