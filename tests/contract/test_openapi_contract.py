"""Every operation of the app's own ``/schema/openapi.json`` keeps its contract (schemathesis, in-process).

One test per operation (pytest-xdist spreads them) on SQLite, and one sweep over every operation on PostgreSQL
(each operation per backend in a nightly-style run): the app is built on a copy of the seeded
database with a grant and a case in it, the document is read from the running app, and schemathesis sends
``examples`` generated requests — valid ones, invalid ones, and valid ones aimed at the records that exist —
with the bearer token of a demo staff member whose role may call the operation (so the operation runs, not
only its 401). Any 5xx, any status the document does not list for the operation, any body, content type or
header that contradicts it fails; a problem document must also carry only the members ``Problem`` declares.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import msgspec
import pytest
import schemathesis
from hypothesis import strategies as st
from route_inventory import Route, inventory_app, split
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import BACKENDS
from fuquan.platform.accounts.actor import SELF
from fuquan.platform.accounts.roles import PERMISSIONS
from fuquan.platform.app.factory import create_app
from fuquan.platform.app.problems import PROBLEM_JSON, Problem
from fuquan.platform.core.config import Settings
from fuquan.platform.setup.demo import DEMO_STAFF
from helpers import grant_unit, login, open_case

# CI gives every operation its full budget on SQLite: each test builds an app on a fresh database, which on
# PostgreSQL costs more than its examples. A nightly-style run (FUQUAN_CONTRACT_EXAMPLES set, -m slow) gives it on
# every backend.
CONTRACT_BACKENDS = BACKENDS if os.environ.get("FUQUAN_CONTRACT_EXAMPLES") else ["sqlite"]
# The other backends (PostgreSQL in CI) take every operation in one sweep over one app, a few examples each.
SWEPT_BACKENDS = [backend for backend in BACKENDS if backend not in CONTRACT_BACKENDS]
SWEEP_EXAMPLES = 4

# the app's background work (another thread) draws on `random` while Hypothesis generates: harmless here
pytestmark = pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies")
LISTED, _UNLISTED = split(inventory_app())
FRONT_DESK = "640202001"  # 长胜街道: cs_clerk's unit, where the seeded case is received
EVERYONE = "cs_clerk"  # a role without a second factor, for the routes about the caller's own session


def problem_members(_ctx: Any, response: schemathesis.Response, _case: schemathesis.Case) -> bool | None:
    """An error answer is a problem document with no member its schema does not declare."""
    if response.headers.get("content-type", [""])[0].startswith(PROBLEM_JSON):
        try:
            msgspec.json.decode(response.content, type=Problem)
        except msgspec.ValidationError as error:
            raise AssertionError(f"problem document not as documented: {error}: {response.text[:500]}") from None
    return None


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    problem_members,
]


def caller_for(route: Route) -> str:
    """A demo staff member whose role holds the permission the route asks for: the front-desk clerk for casework
    (the seeded case is theirs), else the widest scope."""
    permission = route.opt.get("permission")
    if permission in (None, SELF):
        return EVERYONE
    for staff in sorted(DEMO_STAFF, key=lambda s: s.username != EVERYONE):
        if permission in PERMISSIONS.get(staff.role, frozenset()):
            return staff.username
    raise AssertionError(f"no demo staff member may call {route.label} ({permission})")


class _Client:
    """The awaitable face the test helpers expect, over schemathesis's in-process client of the same app."""

    def __init__(self, app: Any) -> None:
        self.http = asgi.get_client(app)

    async def get(self, url: str, **kwargs: Any) -> Any:
        return self.http.get(url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return self.http.post(url, **kwargs)


def _find(document: Any, username: str) -> int | None:
    """The id of ``username`` anywhere in a JSON answer (a list or a page of staff)."""
    if isinstance(document, dict):
        if document.get("username") == username and isinstance(document.get("id"), int):
            return int(document["id"])
        document = list(document.values())
    if isinstance(document, list):
        return next((found for item in document if (found := _find(item, username)) is not None), None)
    return None


async def _prepare(client: _Client, route: Route) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
    """The caller's Authorization header, and values of the path and query parameters that name real records —
    once the app is ready (its policies loaded: until then ``/ready`` rightly answers 503)."""
    for _attempt in range(100):
        if (await client.get("/ready")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    auth = await login(client, caller_for(route))
    path: dict[str, Any] = {"index": 1, "document": "receipt.pdf", "day": "2026-05-06", "role": "approver"}
    path["code"] = FRONT_DESK if "/units/" in route.path else "HRSS-06"
    query: dict[str, Any] = {"unit": FRONT_DESK, "item": "HRSS-06", "year": 2026, "action": "accept"}
    needs = set(route.parameters)
    if needs & {"case_id", "receipt_no", "grant_id"}:
        await grant_unit(client, "HRSS-06", FRONT_DESK, "accept")
        grants = (await client.get("/api/v1/grants", headers=await login(client, "nx_admin"))).json()
        path["grant_id"] = grants["items"][0]["id"] if isinstance(grants, dict) else grants[0]["id"]
        clerk = await login(client, "cs_clerk")
        case = await open_case(client, clerk, "HRSS-06", FRONT_DESK, "11010519491231002X", "张三")
        path |= {"case_id": case["id"], "receipt_no": case["receipt_no"]}
        query["code"] = case["query_code"]
    if "staff_id" in needs:
        listed = (await client.get("/api/v1/staff", headers=auth)).json()
        path["staff_id"] = _find(listed, "cs_approver")
    return auth, {k: v for k, v in path.items() if k in needs and v is not None}, query


def test_every_operation_documents_its_problems() -> None:
    """Issue 14, finding 9: each operation lists its error answers as RFC 9457 problem documents — 401 where a
    token is needed, 403 where a permission is, 404 where the path names a record — and one anyone may call
    says so (``security: []``)."""
    document = inventory_app().openapi_schema.to_schema()
    problem = {"$ref": "#/components/schemas/Problem"}
    assert {"rule", "type", "title", "status", "detail"} <= set(
        document["components"]["schemas"]["Problem"]["properties"]
    )
    for route in LISTED:
        answers = document["paths"][route.template][route.method.lower()]["responses"]
        errors = {int(status): answer for status, answer in answers.items() if int(status) >= 400}
        assert 400 in errors, route.label
        for status, answer in errors.items():
            if (route.label, status) != ("GET /ready", 503):  # the probe answers with its own status object
                assert answer["content"] == {PROBLEM_JSON: {"schema": problem}}, (route.label, status)
        public = bool(route.opt.get("public"))
        operation = document["paths"][route.template][route.method.lower()]
        assert (operation.get("security") == []) is public, route.label
        assert public or 401 in errors, route.label  # public: only where a password is checked
        assert (403 in errors) is (route.opt.get("permission") not in (None, SELF)), route.label
        if route.parameters:
            assert 404 in errors, route.label


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    """The residents' lookups are limited per client; the generated requests all come from one."""
    return msgspec.structs.replace(settings, public_lookups_per_minute=100_000)


@pytest.fixture
def served(app_settings: Settings) -> Iterator[Any]:
    app = create_app(app_settings)
    yield app
    asgi.shutdown_lifespans()  # the app's background work stops before its database is dropped


@pytest.mark.slow
@pytest.mark.parametrize("backend", CONTRACT_BACKENDS)
@pytest.mark.parametrize("route", LISTED, ids=[route.label for route in LISTED])
def test_operation_keeps_its_contract(route: Route, served: Any, backend: str, examples: int) -> None:
    exercise(route, served, examples)


@pytest.mark.parametrize("backend", SWEPT_BACKENDS)
def test_every_operation_keeps_its_contract_in_one_sweep(served: Any, backend: str) -> None:
    """Where the full sweep runs nightly only (PostgreSQL in CI), one app on one database takes every operation
    in turn, with the examples that show what differs between backends (types, NUL, lengths): the routes that
    change staff accounts go last, so the callers of the others are still who they were."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", served)
    failures: list[str] = []
    for route in sorted(LISTED, key=lambda route: route.path.startswith("/api/v1/staff")):
        try:
            exercise(route, served, SWEEP_EXAMPLES, schema)
        except Exception as error:  # every operation is tried; all that broke are reported together
            failures.append(f"{route.label}: {str(error)[:2000]}")
    assert not failures, "\n\n".join(failures)


if not SWEPT_BACKENDS:  # every backend gets the full sweep: this one would have nothing to run on
    del test_every_operation_keeps_its_contract_in_one_sweep


def exercise(route: Route, served: Any, examples: int, schema: Any = None) -> None:
    """Send ``examples`` generated requests to the operation — valid, invalid, and valid ones aimed at the records
    that exist — and check every answer against the document (read from the app unless given)."""
    schema = schema or schemathesis.openapi.from_asgi("/schema/openapi.json", served)
    operation = schema[route.template][route.method]
    client = _Client(served)
    auth, known_path, known_query = asyncio.run(_prepare(client, route))
    query_names = {parameter.name for parameter in operation.query}
    aimed = {k: v for k, v in known_query.items() if k in query_names}
    strategies = [
        operation.as_strategy(schemathesis.GenerationMode.POSITIVE),
        operation.as_strategy(schemathesis.GenerationMode.NEGATIVE),
    ]
    if known_path or aimed:
        strategies.append(operation.as_strategy(path_parameters=known_path or None, query=aimed or None))
    # a route about the caller's own session may end it (logout, a password change): a new one after each success
    ends_session = route.opt.get("permission") == SELF and route.method != "GET"
    sent: list[int] = []

    @hypothesis.settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=examples <= 50,  # the suite's run is the same every time; a nightly run explores
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    @hypothesis.given(case=st.one_of(*strategies))
    def run(case: schemathesis.Case) -> None:
        nonlocal auth
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        sent.append(response.status_code)
        if ends_session and response.status_code < 300:
            auth = asyncio.run(login(client, EVERYONE))

    started = time.perf_counter()
    run()
    assert sent, route.label
    answers = ", ".join(f"{status}×{count}" for status, count in sorted(Counter(sent).items()))
    print(f"{route.label}: {len(sent)} requests in {time.perf_counter() - started:.1f} s ({answers})")
