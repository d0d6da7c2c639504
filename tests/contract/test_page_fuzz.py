"""Every route the OpenAPI document does not list — the web pages and their forms, the probes, assets and the
document itself — takes hostile text without a 5xx (issue 14, finding 2: NUL, lone surrogates, over-long and odd
text, in the path, the query string and the form, with a live session and its CSRF token).

The routes come from the app's route table (``route_inventory``): a new page is fuzzed without being listed here,
and ``test_every_route_is_exercised`` fails when a route is neither an operation of the document (the schemathesis
contract test) nor one this test knows how to reach.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any
from urllib.parse import quote

import hypothesis
import msgspec
import pytest
from hypothesis import strategies as st
from litestar import Litestar
from litestar.enums import RequestEncodingType
from litestar.testing import TestClient
from route_inventory import Route, inventory_app, operations, routes, split

from conftest import BACKENDS
from fuquan.platform.accounts.actor import SELF
from fuquan.platform.accounts.roles import PERMISSIONS
from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from fuquan.platform.setup.demo import DEMO_STAFF
from fuquan.platform.web.sessions import CSRF_COOKIE
from helpers import grant_unit, login, open_case, web_login

# CI gives every route its full budget on SQLite: each test builds an app on a fresh database, which on PostgreSQL
# costs more than its examples. A nightly-style run (FUQUAN_CONTRACT_EXAMPLES set, -m slow) gives it on every backend;
# CI's other backends (PostgreSQL) take every route in one sweep over one app, a few examples each.
CONTRACT_BACKENDS = BACKENDS if os.environ.get("FUQUAN_CONTRACT_EXAMPLES") else ["sqlite"]
SWEPT_BACKENDS = [backend for backend in BACKENDS if backend not in CONTRACT_BACKENDS]
SWEEP_EXAMPLES = 3

# the app's background work (another thread) draws on `random` while Hypothesis generates: harmless here
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
LISTED, UNLISTED = split(inventory_app())
FRONT_DESK = "640202001"

# text the database cannot store, text that is too long, and text that is merely odd
HOSTILE_WORDS = [
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d", "\u202eevil", "\ufeff", "\u0000" * 3, "%00", "%ff%fe", "\\x00",
    "ＨＲＳＳ－０６", "𠀀𪚥", "🙂" * 10, "e\u0301" * 50, "\r\n\t", "../../etc/passwd", "<script>alert(1)</script>",
    "' OR 1=1 --", "-1", "0", "99999999999999999999999", "1e309", "NaN", "2026-02-30", "", " ",
]  # fmt: skip
PLAUSIBLE = ["HRSS-06", FRONT_DESK, "640202", "accept", "decide", "2026-05-06", "1", "张三", "11010519491231002X"]


def hostile(longest: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_WORDS),
        st.text(st.characters(exclude_categories=()), max_size=40),  # every code point, lone surrogates included
        st.builds(lambda char, n: char * n, st.characters(exclude_categories=()), st.integers(200, longest)),
    )


HOSTILE = hostile(20_000)
IN_URL = hostile(800)  # a URL stays under the client's 64 KiB (servers refuse far less)
VALUE = st.one_of(HOSTILE, st.sampled_from(PLAUSIBLE))
URL_VALUE = st.one_of(IN_URL, st.sampled_from(PLAUSIBLE))
_RAW_INT = st.one_of(st.integers(0, 10), st.integers(0, 2**80))


def encode(text: str) -> str:
    """Percent-encoded as a careless client would send it: a lone surrogate as its (invalid) UTF-8 bytes."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _names(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return list(annotation.__struct_fields__)
    if is_dataclass(annotation):
        return [f.name for f in fields(annotation)]
    return []


def inputs(app: Litestar, route: Route) -> tuple[list[str], list[str], bool]:
    """(query parameter names, form field names, multipart?) of the route, as the framework reads them."""
    for candidate in app.routes:
        handlers = getattr(candidate, "route_handler_map", {})
        if candidate.path == route.path and route.method in handlers:
            _handler, kwargs = handlers[route.method]
            query = sorted(p.field_alias for p in kwargs.expected_query_params)
            form = kwargs.expected_form_data
            if form is None:
                return query, [], False
            encoding, definition = form
            return query, _names(definition.annotation), encoding == RequestEncodingType.MULTI_PART
    raise AssertionError(f"{route.label} is not in the app's route table")


def caller_for(route: Route) -> str | None:
    """A demo staff member who may open the page (None: a public page, or not a page: a probe, an asset)."""
    permission = route.opt.get("permission")
    if route.opt.get("public") or "web_page" not in route.opt:
        return None
    if permission in (None, SELF):
        return "cs_clerk"
    for staff in DEMO_STAFF:
        if permission in PERMISSIONS.get(staff.role, frozenset()):
            return staff.username
    raise AssertionError(f"no demo staff member may open {route.label} ({permission})")


def path_strategy(route: Route, known: dict[str, Any]) -> st.SearchStrategy[str]:
    """The route's path with each parameter hostile, out of range, or naming a record that exists."""
    parts: dict[str, st.SearchStrategy[str]] = {}
    for name, kind in route.parameters.items():
        if kind == "int":
            raw = _RAW_INT.map(str)
        elif kind in ("str", "path"):
            raw = IN_URL.map(encode)
        else:
            raise AssertionError(f"{route.label}: no fuzz values for a {kind} path parameter (add them here)")
        parts[name] = st.one_of(raw, st.just(str(known[name]))) if name in known else raw
    template = route.template
    return st.fixed_dictionaries(parts).map(lambda values: template.format(**values))


class _Awaitable:
    """The awaitable face the helpers expect, over a synchronous test client."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client

    async def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return self.client.post(url, **kwargs)


async def _known_records(client: _Awaitable) -> dict[str, Any]:
    """A grant and a case at the front desk, so that fuzzed pages also reach records that exist."""
    await grant_unit(client, "HRSS-06", FRONT_DESK, "accept")
    case = await open_case(client, await login(client, "cs_clerk"), "HRSS-06", FRONT_DESK, "11010519491231002X", "张三")
    grants = (await client.get("/api/v1/grants", headers=await login(client, "nx_admin"))).json()
    grant = grants["items"][0]["id"] if isinstance(grants, dict) else grants[0]["id"]
    return {"case_id": case["id"], "grant_id": grant, "index": 1, "item": "HRSS-06", "document": "receipt.pdf"}


@pytest.fixture
def page_client(settings: Settings) -> Iterator[TestClient[Any]]:
    # one client logs in before each route and looks up progress often: the per-client limits would stop it
    app = create_app(
        msgspec.structs.replace(settings, public_lookups_per_minute=100_000, login_attempts_per_minute=100_000)
    )
    with TestClient(app=app) as client:
        yield client


def test_every_route_is_exercised() -> None:
    """Each route of the app is an operation of the OpenAPI document or a route fuzzed here — and the document
    lists nothing the app does not serve."""
    app = inventory_app()
    every = {route.label for route in routes(app)}
    assert every == {route.label for route in LISTED} | {route.label for route in UNLISTED}
    assert operations(app) <= every
    for route in UNLISTED:  # every parameter has fuzz values, every form is read the framework's way, every
        path_strategy(route, {})  # page has someone to open it
        inputs(app, route)
        caller_for(route)


@pytest.mark.slow
@pytest.mark.parametrize("backend", CONTRACT_BACKENDS)
@pytest.mark.parametrize("route", UNLISTED, ids=[route.label for route in UNLISTED])
def test_page_takes_hostile_text(route: Route, page_client: TestClient[Any], backend: str, examples: int) -> None:
    # pages render templates, heavier than the API's JSON: fewer examples each
    fuzz(route, page_client, max(examples * 2 // 5, 5))


@pytest.mark.parametrize("backend", SWEPT_BACKENDS)
def test_every_page_takes_hostile_text_in_one_sweep(page_client: TestClient[Any], backend: str) -> None:
    """Where the full fuzz runs nightly only (PostgreSQL in CI), one app takes every route in turn, with the
    examples that show what differs between backends (NUL, lengths, types)."""
    failures: list[str] = []
    for route in UNLISTED:
        try:
            fuzz(route, page_client, SWEEP_EXAMPLES)
        except Exception as error:  # every route is tried; all that broke are reported together
            failures.append(f"{route.label}: {str(error)[:2000]}")
    assert not failures, "\n\n".join(failures)


if not SWEPT_BACKENDS:  # every backend gets the full fuzz: this one would have nothing to run on
    del test_every_page_takes_hostile_text_in_one_sweep


def fuzz(route: Route, page_client: TestClient[Any], budget: int) -> None:
    """Send ``budget`` hostile requests to the route (as someone who may open it, with the CSRF token): no 5xx."""
    page_client.cookies.clear()  # a fresh browser: whoever the last route's caller was is logged out
    client = _Awaitable(page_client)
    caller = caller_for(route)
    known = asyncio.run(_known_records(client)) if route.parameters else {}
    if caller is not None:
        asyncio.run(web_login(client, caller))
    page_client.get("/login", follow_redirects=False)  # sets the CSRF cookie the forms are checked against
    csrf = page_client.cookies.get(CSRF_COOKIE)
    assert csrf, "no CSRF cookie"
    query_names, form_names, multipart = inputs(page_client.app, route)
    extra = st.sampled_from(["q", "next", "x\x00", "\ud800"])
    query = st.dictionaries(st.sampled_from(query_names) | extra if query_names else extra, URL_VALUE, max_size=3)
    form = st.fixed_dictionaries({}, optional=dict.fromkeys(form_names, VALUE))
    seen: list[int] = []

    @hypothesis.settings(
        max_examples=budget, deadline=None, database=None, derandomize=budget <= 50,
        suppress_health_check=list(hypothesis.HealthCheck),
    )  # fmt: skip
    @hypothesis.given(path=path_strategy(route, known), query=query, form=form, filename=HOSTILE)
    def run(path: str, query: dict[str, str], form: dict[str, str], filename: str) -> None:
        url = path + ("?" + "&".join(f"{encode(k)}={encode(v)}" for k, v in query.items()) if query else "")
        headers = {"x-csrftoken": csrf}
        if route.method == "GET":
            response = page_client.get(url, headers=headers, follow_redirects=False)
        elif multipart:
            name = filename.encode("utf-8", "surrogatepass").decode("latin-1")  # the header's bytes, as sent
            upload = {"file": (name, b"%PDF-1.4\n", "application/pdf")}
            data = {k: v.encode("utf-8", "surrogatepass") for k, v in form.items()}
            response = page_client.request(route.method, url, data=data, files=upload, headers=headers,
                                           follow_redirects=False)  # fmt: skip
        else:
            body = "&".join(f"{encode(k)}={encode(v)}" for k, v in form.items())
            headers["content-type"] = "application/x-www-form-urlencoded"
            response = page_client.request(route.method, url, content=body.encode(), headers=headers,
                                           follow_redirects=False)  # fmt: skip
        assert response.status_code < 500, (route.label, url[:300], form, response.status_code, response.text[:500])
        seen.append(response.status_code)

    run()
    assert seen
