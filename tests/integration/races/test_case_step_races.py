"""Steps on one case at two replicas at once: one transition wins, materials and events stay whole,
and a resident's rating is taken once."""

from __future__ import annotations

from functools import partial

import pytest
from racing import (
    ROUNDS,
    TOWN,
    at_once,
    grant,
    login,
    no_server_errors,
    open_case,
    replicas,
    resident,
    statuses,
    step,
    upload,
)
from sqlalchemy import update

from fuquan.platform.cases.models import Case, CaseFile
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.services import workflow
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from helpers import PNG

pytestmark = pytest.mark.anyio


async def test_one_of_two_identical_steps_wins(settings: Settings) -> None:
    """The same step with the same version, twice at once: one 200, the other 409 (stale version)."""
    grant(settings, "HRSS-04", "accept")
    with replicas(settings) as (one, two):
        clerk_one, clerk_two = login(one, "cs_clerk"), login(two, "cs_clerk")
        answers = []
        for attempt in range(ROUNDS):
            case = open_case(one, clerk_one, resident(attempt))
            path, body = f"/api/v1/cases/{case['id']}/transitions", {"action": "submit", "version": case["version"]}
            pair = await at_once(
                partial(one.post, path, json=body, headers=clerk_one),
                partial(two.post, path, json=body, headers=clerk_two),
            )
            answers += pair
            trace = one.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk_one).json()
            assert [event["action"] for event in trace].count("submit") == 1
    no_server_errors(answers)
    assert statuses(answers) == {200: ROUNDS, 409: ROUNDS}
    assert {a.json()["rule"] for a in answers if a.status_code == 409} == {"stale_version"}


async def test_materials_changed_at_once_keep_every_event(settings: Settings, backend: str) -> None:
    """Two materials of one case uploaded at the same moment: each kept upload has its trace event, numbered
    without gaps. PostgreSQL queues them on the case's row lock (both 200); on SQLite the later may find
    the case's version moved on (409, "refresh and retry")."""
    grant(settings, "HRSS-04", "accept")
    with replicas(settings) as (one, two):
        clerk_one, clerk_two = login(one, "cs_clerk"), login(two, "cs_clerk")
        answers = []
        for attempt in range(ROUNDS):
            body = {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": resident(attempt), "name": "王五"}}
            case = one.post("/api/v1/cases", json=body, headers=clerk_one).json()
            first, second = (f"/api/v1/cases/{case['id']}/materials/{m['index']}" for m in case["materials"][:2])
            photo = {"file": ("photo.png", PNG, "image/png")}
            pair = await at_once(
                partial(one.post, first, files=photo, headers=clerk_one),
                partial(two.post, second, files=photo, headers=clerk_two),
            )
            answers += pair
            trace = one.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk_one).json()
            assert [event["seq"] for event in trace] == list(range(1, len(trace) + 1))
            assert len(trace) == 1 + sum(answer.status_code == 200 for answer in pair)  # create + each upload
    no_server_errors(answers)
    assert set(statuses(answers)) <= ({200} if backend == "postgresql" else {200, 409})


async def test_a_case_is_rated_once(settings: Settings) -> None:
    """Two ratings of one issued case at once (a resident tapping twice, or two of the family): one is
    taken, the other answers 409 "already rated"."""
    grant(settings, "HRSS-04", "accept", "decide")
    with replicas(settings) as (one, two):
        clerk, approver = login(one, "cs_clerk"), login(one, "cs_approver")
        answers = []
        for attempt in range(ROUNDS):
            case = step(one, clerk, open_case(one, clerk, resident(attempt)), "submit", "accept")
            case = step(one, clerk, step(one, approver, case, "assign", "approve"), "issue")
            path = f"/api/v1/public/cases/{case['receipt_no']}/rating"
            pair = await at_once(
                partial(one.post, path, json={"code": case["query_code"], "level": 5}),
                partial(two.post, path, json={"code": case["query_code"], "level": 1, "comment": "太慢"}),
            )
            answers += pair
    no_server_errors(answers)
    assert statuses(answers) == {201: ROUNDS, 409: ROUNDS}
    assert {a.json()["rule"] for a in answers if a.status_code == 409} == {"already_rated"}


async def test_a_submit_whose_case_changed_before_its_lock_reads_it_again(
    settings: Settings, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where some partner is configured, a submit reads the case unlocked (to decide whether to ask partners
    again), then locks it. On PostgreSQL it keeps that first read only if the locked row still has the same
    version: a change committed in between is seen, and the submit answers 409 (stale version) instead of
    acting on what it read before. (Every material is uploaded: nothing is left to ask for.)"""
    grant(settings, "HRSS-04", "accept")
    monkeypatch.setattr(workflow.partners, "calls_out", lambda _provider: True)  # as if a partner were configured
    changed_between: list[int] = []
    keep_if_current = CaseRepository.still_current

    async def change_first(self: CaseRepository, file: CaseFile) -> bool:
        engine = create_engine(settings.database_url)
        async with session_scope(session_factory(engine)) as other:  # another request's step, committed
            await other.execute(update(Case).where(Case.id == file.case.id).values(version=Case.version + 1))
        await engine.dispose()
        changed_between.append(file.case.id)
        return await keep_if_current(self, file)

    monkeypatch.setattr(CaseRepository, "still_current", change_first)
    with replicas(settings, count=1) as [one]:
        clerk = login(one, "cs_clerk")
        case = open_case(one, clerk, resident(0))
        for material in case["materials"]:
            if material["state"] == "missing":
                case = upload(one, clerk, case["id"], material["index"])
        body = {"action": "submit", "version": case["version"]}
        answer = one.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=clerk)
    if backend == "postgresql":
        assert changed_between == [case["id"]]
        assert answer.status_code == 409 and answer.json()["rule"] == "stale_version", answer.text
    else:  # SQLite reads before the step in a snapshot of its own: the step always reads the case again
        assert changed_between == [] and answer.status_code == 200, answer.text
