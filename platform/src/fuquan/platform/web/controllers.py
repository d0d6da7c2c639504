"""The web pages: login, logout and the landing page (session-authenticated, CSRF on every form)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.actor import SELF, Actor
from fuquan.platform.accounts.services import LoginThrottle
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.web.auth import (
    HOME_PAGE,
    LOGIN_PAGE,
    LoginRequired,
    log_in,
    log_out,
    login_redirect,
    provide_page_actor,
    safe_next,
    session_actor,
)
from fuquan.platform.web.landing import landing

# route opt of the pages: the bearer middleware leaves them alone, the session authenticates them
PAGE = "web_page"
_OPEN = {"public": True, "exclude_from_auth": True, PAGE: True}


class LoginForm(msgspec.Struct, kw_only=True):
    username: str = ""
    password: str = ""
    next: str = ""


class WebController(Controller):
    path = "/"
    include_in_schema = False
    exception_handlers = {LoginRequired: login_redirect}
    dependencies = {"page_actor": Provide(provide_page_actor)}

    @get(LOGIN_PAGE, opt=_OPEN)
    async def login_page(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], next: FromQuery[str] = ""
    ) -> Template | Redirect:
        if await session_actor(request, db_session) is not None:
            return Redirect(safe_next(next), status_code=303)
        return Template("login.html", context={"next": safe_next(next), "username": "", "error": None})

    @post(LOGIN_PAGE, opt=_OPEN)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
        db_session: NamedDependency[AsyncSession],
        settings: NamedDependency[Settings],
        login_throttle: NamedDependency[LoginThrottle],
    ) -> Template | Redirect:
        target = safe_next(data.next)
        username = data.username.strip()
        if not username or not data.password:
            context = {"next": target, "username": username, "error": "请输入用户名和密码"}
            return Template("login.html", context=context, status_code=400)
        try:
            await log_in(
                request, db_session, username=username, password=data.password, throttle=login_throttle,
                settings=settings,
            )  # fmt: skip
        except FuquanError as error:  # wrong password, locked account: the rejection is already audited
            context = {"next": target, "username": username, "error": error.detail}
            return Template("login.html", context=context, status_code=error.status)
        await db_session.commit()  # a redirect is not committed by the autocommit handler
        return Redirect(target, status_code=303)

    @post("/logout", opt=_OPEN)
    async def logout(self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession]) -> Redirect:
        await log_out(request, db_session)
        await db_session.commit()
        return Redirect(LOGIN_PAGE, status_code=303)

    @get(HOME_PAGE, opt={"exclude_from_auth": True, PAGE: True, "permission": SELF})
    async def home(
        self,
        db_session: NamedDependency[AsyncSession],
        authority_registry: NamedDependency[AuthorityRegistry],
        page_actor: NamedDependency[Actor],
    ) -> Template:
        page = await landing(db_session, authority_registry, page_actor)
        return Template("home.html", context={"page": page, "user": page_actor})
