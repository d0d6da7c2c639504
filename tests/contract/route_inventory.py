"""Every route of the app, from its route table: the operations of its OpenAPI document, and the rest.

Both the contract test (the operations) and the page fuzz test (the rest) are parametrized from here, at
collection, with an app built for the purpose (building one reaches no database), so a route added anywhere is
tested without anyone listing it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.routes import HTTPRoute

from fuquan.platform.core.config import Settings, sqlite_url
from helpers import TEST_MASTER_KEY

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # OPTIONS and HEAD are the framework's own answers
_CONVERTER = re.compile(r"\{(\w+):(\w+)\}")


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str  # as the router has it: /cases/{case_id:int}
    opt: dict[str, Any]

    @property
    def template(self) -> str:
        """The OpenAPI form of the path: /cases/{case_id}."""
        return _CONVERTER.sub(r"{\1}", self.path)

    @property
    def parameters(self) -> dict[str, str]:
        """Path parameter → its type (int, str, path, date …)."""
        return dict(_CONVERTER.findall(self.path))

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


@cache
def inventory_app() -> Litestar:
    from fuquan.platform.app.factory import create_app

    data_dir = Path(tempfile.mkdtemp(prefix="fuquan-inventory-"))
    settings = Settings(
        data_dir=data_dir, database_url=sqlite_url(data_dir / "unused.db"), secret_key="inventory",
        master_key=TEST_MASTER_KEY, gc_freeze=False,
    )  # fmt: skip
    return create_app(settings)


def routes(app: Litestar) -> list[Route]:
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for method, (handler, _kwargs) in sorted(route.route_handler_map.items()):
                if method in METHODS:
                    found.append(Route(method, route.path, dict(handler.opt)))
    # sorted: the router's order differs between processes, and every xdist worker must collect the same tests
    return sorted(found, key=lambda route: (route.path, route.method))


def operations(app: Litestar) -> set[str]:
    """``METHOD /template`` of every operation the app's OpenAPI document lists."""
    schema = app.openapi_schema.to_schema()
    return {
        f"{method.upper()} {path}"
        for path, item in schema["paths"].items()
        for method in item
        if method.upper() in METHODS
    }


def split(app: Litestar) -> tuple[list[Route], list[Route]]:
    """(routes the OpenAPI document lists, routes it does not)."""
    listed = operations(app)
    every = routes(app)
    return [r for r in every if r.label in listed], [r for r in every if r.label not in listed]
