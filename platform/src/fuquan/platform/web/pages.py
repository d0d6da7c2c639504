"""What every web page shares: the page controller base, route options and errors rendered as pages.

A page names its permission in ``opt`` like an API route; ``page_actor`` (a dependency) sends an
anonymous visitor to the login page and answers a missing permission with a 403 page. Domain errors
(``NotFound`` for another tenant's or another subtree's record included) become Chinese pages with the
same status codes as the API.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import Provide
from litestar.exceptions import NotFoundException, ValidationException
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.web.auth import LoginRequired, login_redirect, provide_page_actor

PAGE = "web_page"  # route opt: the bearer middleware leaves the route alone, the session authenticates it
OPEN = {"public": True, "exclude_from_auth": True, PAGE: True}


def page(permission: str) -> dict[str, Any]:
    """Route options of a session-authenticated page needing ``permission``."""
    return {"exclude_from_auth": True, PAGE: True, "permission": permission}


def render(template: str, actor: Actor | None, status_code: int = 200, **context: Any) -> Template:
    """A page for ``actor`` (the site header shows who is logged in and what they may open)."""
    return Template(template, context={"user": actor, **context}, status_code=status_code)


def error_page(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    """A domain or form error as a page: the clerk reads what went wrong and how to go on."""
    if isinstance(error, FuquanError):
        status, title, message = error.status, error.title, error.detail
    elif isinstance(error, NotFoundException):
        status, title, message = 404, "未找到", "没有找到这个页面或记录，或者它不在您的管辖范围内。"
    elif isinstance(error, ValidationException):
        status, title, message = 400, "填写有误", "提交的内容不完整或格式不对，请返回检查后重新提交。"
    else:  # pragma: no cover - only the types above are routed here
        raise error
    return Template("error.html", context={"title": title, "message": message, "user": None}, status_code=status)


class PageController(Controller):
    """Base of the page controllers: not in the OpenAPI schema, errors as pages, the page actor."""

    include_in_schema = False
    exception_handlers = {
        LoginRequired: login_redirect,
        FuquanError: error_page,
        NotFoundException: error_page,
        ValidationException: error_page,
    }
    dependencies = {"page_actor": Provide(provide_page_actor)}
