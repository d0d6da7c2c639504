"""收件 at two replicas at once: one case per Idempotency-Key, one applicant per ID number, distinct receipts."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from racing import ROUNDS, TOWN, at_once, grant, login, no_server_errors, replicas, resident, statuses
from sqlalchemy import func, select

from fuquan.platform.cases.models import Applicant, Case
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from helpers import PASSWORD, enrol

pytestmark = pytest.mark.anyio


def _body(id_number: str) -> dict[str, Any]:
    return {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": id_number, "name": "王五"}}


async def _count(database_url: str, model: Any) -> int:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        found = await session.scalar(select(func.count()).select_from(model))
    await engine.dispose()
    return int(found or 0)


async def test_one_case_per_idempotency_key(settings: Settings, database_url: str) -> None:
    """The same request with the same key at two replicas: both answer the one case, as a replay does."""
    grant(settings, "HRSS-04", "accept")
    with replicas(settings) as (one, two):
        clerk_one, clerk_two = login(one, "cs_clerk"), login(two, "cs_clerk")
        pairs = []
        for attempt in range(ROUNDS):
            body = _body(resident(attempt))
            key = {"Idempotency-Key": f"double-tap-{attempt:04d}"}
            pairs.append(
                await at_once(
                    partial(one.post, "/api/v1/cases", json=body, headers={**clerk_one, **key}),
                    partial(two.post, "/api/v1/cases", json=body, headers={**clerk_two, **key}),
                )
            )
    answers = [answer for pair in pairs for answer in pair]
    no_server_errors(answers)
    assert statuses(answers) == {201: 2 * ROUNDS}  # a replay answers 201 with the case, as the first did
    for first, second in pairs:
        assert first.json()["id"] == second.json()["id"]
        assert first.json()["receipt_no"] == second.json()["receipt_no"]
    assert await _count(database_url, Case) == ROUNDS


async def test_a_reused_key_with_another_body_is_refused(settings: Settings, database_url: str) -> None:
    """Two different requests under one key at once: one case, the other a 422 naming the key."""
    grant(settings, "HRSS-04", "accept")
    with replicas(settings) as (one, two):
        clerk_one, clerk_two = login(one, "cs_clerk"), login(two, "cs_clerk")
        pairs = []
        for attempt in range(ROUNDS):
            key = {"Idempotency-Key": f"reused-key-{attempt:04d}"}
            mine, other = _body(resident(attempt)), _body(resident(500 + attempt))
            pairs.append(
                await at_once(
                    partial(one.post, "/api/v1/cases", json=mine, headers={**clerk_one, **key}),
                    partial(two.post, "/api/v1/cases", json=other, headers={**clerk_two, **key}),
                )
            )
    answers = [answer for pair in pairs for answer in pair]
    no_server_errors(answers)
    assert statuses(answers) == {201: ROUNDS, 422: ROUNDS}
    assert {a.json()["rule"] for a in answers if a.status_code == 422} == {"idempotency_key_reused"}
    assert await _count(database_url, Case) == ROUNDS


async def test_first_time_applicants_share_one_record(settings: Settings, database_url: str) -> None:
    """Two clerks open cases for the same new ID number at once (the first round is also the unit's
    first case of the day, from both): both cases exist, on one applicant, with distinct receipts."""
    await enrol(database_url, "cs_clerk2", "64", TOWN, ["window_clerk"])
    grant(settings, "HRSS-04", "accept")
    with replicas(settings) as (one, two):
        clerk_one, clerk_two = login(one, "cs_clerk"), login(two, "cs_clerk2", PASSWORD)
        pairs = []
        for attempt in range(ROUNDS):
            body = _body(resident(attempt))
            pairs.append(
                await at_once(
                    partial(one.post, "/api/v1/cases", json=body, headers=clerk_one),
                    partial(two.post, "/api/v1/cases", json=body, headers=clerk_two),
                )
            )
    answers = [answer for pair in pairs for answer in pair]
    no_server_errors(answers)
    assert statuses(answers) == {201: 2 * ROUNDS}
    receipts = {answer.json()["receipt_no"] for answer in answers}
    assert {number[-4:] for number in receipts} == {f"{n:04d}" for n in range(1, 2 * ROUNDS + 1)}
    assert await _count(database_url, Case) == 2 * ROUNDS
    assert await _count(database_url, Applicant) == ROUNDS


async def test_two_new_people_named_the_other_way_round(settings: Settings, database_url: str) -> None:
    """One case names P as applicant and R as related person, the other R and P, both new, at once:
    each is added once and neither request waits for the other in a cycle (a deadlock on PostgreSQL)."""
    await enrol(database_url, "cs_clerk2", "64", TOWN, ["window_clerk"])
    grant(settings, "HRSS-04", "accept")
    with replicas(settings) as (one, two):
        clerk_one, clerk_two = login(one, "cs_clerk"), login(two, "cs_clerk2", PASSWORD)
        answers = []
        for attempt in range(ROUNDS):
            p, r = _body(resident(attempt)), _body(resident(500 + attempt))
            one_body = {**p, "related_person": r["applicant"]}
            two_body = {**r, "related_person": p["applicant"]}
            answers += await at_once(
                partial(one.post, "/api/v1/cases", json=one_body, headers=clerk_one),
                partial(two.post, "/api/v1/cases", json=two_body, headers=clerk_two),
            )
    no_server_errors(answers)
    assert statuses(answers) == {201: 2 * ROUNDS}
    assert await _count(database_url, Applicant) == 2 * ROUNDS
