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
from fuquan.platform.accounts.services import LoginThrottle
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.web.auth import (
    HOME_PAGE,
    LOGIN_PAGE,
    log_in,
    log_out,
    safe_next,
    session_actor,
)
from fuquan.platform.web.landing import landing
from fuquan.platform.web.pages import OPEN, PageController, page, render


class LoginForm(msgspec.Struct, kw_only=True):
    username: str = ""
    password: str = ""
    next: str = ""


class WebController(PageController):
    path = "/"

    @get(LOGIN_PAGE, opt=OPEN)
    async def login_page(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], next: FromQuery[str] = ""
    ) -> Template | Redirect:
        if await session_actor(request) is not None:
            return Redirect(safe_next(next), status_code=303)
        return Template("login.html", context={"next": safe_next(next), "username": "", "error": None})

    @post(LOGIN_PAGE, opt=OPEN)
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
        return Redirect(target, status_code=303)

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
