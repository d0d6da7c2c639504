"""What every web page shares: the page controller base, route options and errors rendered as pages.

A page names its permission in ``opt`` like an API route; ``page_actor`` (a dependency) sends an
anonymous visitor to the login page and answers a missing permission with a 403 page. Domain errors
(``NotFound`` for another tenant's or another subtree's record included) become Chinese pages with the
same status codes as the API; framework errors on pages are rendered by ``web.errors``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.di import Provide
from litestar.response import Template

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import FuquanError, ValidationFailed
from fuquan.platform.web.auth import LoginRequired, login_redirect, provide_page_actor, provide_page_scope, same_actor

PAGE = "web_page"  # route opt: the bearer middleware leaves the route alone, the session authenticates it
OPEN = {"public": True, "exclude_from_auth": True, PAGE: True}


def page(permission: str) -> dict[str, Any]:
    """Route options of a session-authenticated page needing ``permission``."""
    return {"exclude_from_auth": True, PAGE: True, "permission": permission}


def render(template: str, actor: Actor | None, status_code: int = 200, **context: Any) -> Template:
    """A page for ``actor`` (the site header shows who is logged in and what they may open)."""
    return Template(template, context={"user": actor, **context}, status_code=status_code)


def refusal(error: Exception) -> FuquanError:
    """Why a form was refused: the service's own error, or the form's fields not fitting the request schema."""
    return error if isinstance(error, FuquanError) else ValidationFailed(f"表单内容不符合要求：{error}")


def error_page(_request: Request[Any, Any, Any], error: FuquanError) -> Response[Any]:
    """A domain error as a page: the clerk reads what went wrong and how to go on.

    Framework errors (unknown page, malformed form, rate limit) become pages in ``web.errors``."""
    context = {"title": error.title, "message": error.detail, "user": None}
    return Template("error.html", context=context, status_code=error.status)


class PageController(Controller):
    """Base of the page controllers: not in the OpenAPI schema, errors as pages, the page actor."""

    include_in_schema = False
    exception_handlers = {LoginRequired: login_redirect, FuquanError: error_page}
    # "actor" is the page actor here, so what the app provides from it (the case context) is the session's
    dependencies = {
        "page_actor": Provide(provide_page_actor),
        "actor": Provide(same_actor),
        "tenant_scope": Provide(provide_page_scope),
    }
