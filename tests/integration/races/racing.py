"""Two app replicas on one database, and requests fired at them at the same moment (DESIGN §14).

Litestar's test clients run the app on an event loop of their own (a thread) and block their caller
until the answer is in, so two requests are in flight at once only when each is sent from its own
thread: ``at_once`` does that, released together by a barrier. Each replica is a separate
``create_app(settings)`` with its own engine and connection pool, as two ``fuquan serve`` processes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack, asynccontextmanager, contextmanager
from typing import Any, TypeVar

import anyio
import httpx
from litestar.testing import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.setup.demo import DEMO_PASSWORD
from fuquan.platform.setup.known_factors import KNOWN_CODES
from helpers import PNG

ROUNDS = 6  # each race is run this many times: one lucky interleaving proves little
HOLD_SECONDS = 0.3  # how long ``staggered`` work keeps its first transaction open before the second starts
TOWN = "640202001"  # 长胜街道: cs_clerk's front desk, cs_approver's back office


T = TypeVar("T")


@contextmanager
def replicas(settings: Settings, count: int = 2) -> Iterator[list[TestClient[Any]]]:
    with ExitStack() as stack:
        yield [stack.enter_context(TestClient(app=create_app(settings))) for _ in range(count)]


async def at_once(*calls: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """Every call from its own thread, all released together; the answers in the order given."""
    barrier = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def released(call: Callable[[], httpx.Response]) -> httpx.Response:
        barrier.wait(timeout=30)
        return call()

    async def send(index: int, call: Callable[[], httpx.Response]) -> None:
        answers[index] = await anyio.to_thread.run_sync(released, call)

    async with anyio.create_task_group() as tasks:
        for index, call in enumerate(calls):
            tasks.start_soon(send, index, call)
    return [answer for answer in answers if answer is not None]


@asynccontextmanager
async def two_connections(database_url: str) -> AsyncIterator[list[async_sessionmaker[AsyncSession]]]:
    """Two engines with their own pools, as two processes (or two commands) would have."""
    engines = [create_engine(database_url), create_engine(database_url)]
    try:
        yield [session_factory(engine) for engine in engines]
    finally:
        for engine in engines:
            await engine.dispose()


async def staggered(first: Awaitable[T], second: Awaitable[T]) -> list[T | Exception]:
    """Both, the second started while the first is still in its transaction (the work holds it for
    ``HOLD_SECONDS``): on PostgreSQL the second then really waits on the first's uncommitted row.
    What each returned or raised, in order."""
    outcomes: dict[int, T | Exception] = {}

    async def keep(index: int, work: Awaitable[T]) -> None:
        try:
            outcomes[index] = await work
        except Exception as error:
            outcomes[index] = error

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(keep, 0, first)
        await anyio.sleep(HOLD_SECONDS / 3)
        tasks.start_soon(keep, 1, second)
    return [outcomes[0], outcomes[1]]


def statuses(answers: list[httpx.Response]) -> Counter[int]:
    return Counter(answer.status_code for answer in answers)


def no_server_errors(answers: list[httpx.Response]) -> None:
    failed = [a.json().get("request_id") for a in answers if a.status_code >= 500]
    assert not failed, f"{len(failed)} of {len(answers)} answers were server errors (request ids {failed})"


def login(client: TestClient[Any], username: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
    body = {"username": username, "password": password}
    if KNOWN_CODES.needed(username):  # an admin of the seeded template: the code of their known secret
        body["code"] = KNOWN_CODES.code(username)
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def grant(settings: Settings, item: str, *actions: str, unit: str = TOWN) -> None:
    """Grants made before the replicas start, so each loads them with its policy (whatever the
    propagation between replicas, which tests/integration/authority covers)."""
    with TestClient(app=create_app(settings)) as client:
        admin = login(client, "nx_admin")
        for action in actions:
            body = {"item": item, "action": action, "unit": unit, "scope": "unit", "valid_from": "2026-01-01",
                    "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
            response = client.post("/api/v1/grants", json=body, headers=admin)
            assert response.status_code == 201, response.text


def resident(serial: int) -> str:
    """A valid 18-digit ID number of someone born in 大武口区 on 1985-06-15, distinct per ``serial``."""
    body = f"64020219850615{serial:03d}"
    return body + id_check_char(body)


def open_case(client: TestClient[Any], clerk: dict[str, str], id_number: str, item: str = "HRSS-04") -> dict[str, Any]:
    """收件 with a photo for each required material still missing."""
    body = {"item": item, "unit": TOWN, "applicant": {"id_number": id_number, "name": "王五"}}
    response = client.post("/api/v1/cases", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    case = dict(response.json())
    for material in case["materials"]:
        if material["required"] and material["state"] == "missing":
            case = upload(client, clerk, case["id"], material["index"])
    return case


def upload(client: TestClient[Any], clerk: dict[str, str], case_id: int, index: int) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/cases/{case_id}/materials/{index}", files={"file": ("photo.png", PNG, "image/png")}, headers=clerk
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def step(client: TestClient[Any], who: dict[str, str], case: dict[str, Any], *actions: str) -> dict[str, Any]:
    for action in actions:
        body = {"action": action, "version": case["version"]}
        response = client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)
        assert response.status_code == 200, (action, response.text)
        case = dict(response.json())
    return case
