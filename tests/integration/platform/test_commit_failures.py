"""A commit that fails never answers success: the case is not saved, and the clerk is told so (503 when the
database is unreachable, 409 when the data changed under the request) — never a 201 for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import TextClause

from fuquan.platform.cases.models import Case
from fuquan.platform.core.db import create_engine, session_factory
from helpers import login

pytestmark = pytest.mark.anyio

GRANT = {
    "item": "HRSS-06", "action": "accept", "unit": "640202001", "scope": "unit", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": False, "basis": "devolved", "instrument": "宁人社发〔2026〕5号",
}  # fmt: skip
CASE = {"item": "HRSS-06", "unit": "640202001", "applicant": {"id_number": "110101199003078515", "name": "李四"}}


@pytest.fixture
def failing_commits() -> Iterator[list[Exception]]:
    """The commit of a transaction that wrote a case raises the next error in the list (as many as there are)."""
    errors: list[Exception] = []

    def note_cases(state: ORMExecuteState) -> None:
        # the case is inserted by a statement compiled once: select(Case).from_statement(text(INSERT … RETURNING))
        textual = getattr(getattr(state.statement, "element", None), "element", None)
        if isinstance(textual, TextClause) and textual.text.startswith(f"INSERT INTO {Case.__tablename__} "):
            state.session.info["wrote_a_case"] = True

    def fail(session: Session) -> None:
        if errors and session.info.pop("wrote_a_case", False):
            raise errors.pop(0)

    event.listen(Session, "do_orm_execute", note_cases)
    event.listen(Session, "before_commit", fail)
    yield errors
    event.remove(Session, "before_commit", fail)
    event.remove(Session, "do_orm_execute", note_cases)


async def _cases(database_url: str) -> int:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(Case))
    await engine.dispose()
    return int(count or 0)


@pytest.mark.parametrize(
    ("error", "status", "slug"),
    [
        (OperationalError("COMMIT", {}, Exception("server closed the connection")), 503, "database-unavailable"),
        (IntegrityError("INSERT", {}, Exception("duplicate key")), 409, "commit-conflict"),
    ],
)
async def test_a_failed_commit_is_no_success(
    client: Any, database_url: str, failing_commits: list[Exception], error: Exception, status: int, slug: str
) -> None:
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    assert (await client.post("/api/v1/grants", json=GRANT, headers=admin)).status_code == 201
    failing_commits.append(error)
    answer = await client.post("/api/v1/cases", json=CASE, headers=clerk)
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert problem["type"].endswith(slug) and "未保存" in problem["detail"] and problem["request_id"]
    assert answer.headers["content-type"] == "application/problem+json"
    assert await _cases(database_url) == 0
    # the next attempt is saved as usual
    again = await client.post("/api/v1/cases", json=CASE, headers=clerk)
    assert again.status_code == 201, again.text
    assert await _cases(database_url) == 1


async def test_a_write_lock_taken_mid_request_answers_409(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes on one SQLite file: the second writer of a calendar day found the write lock taken after it
    had read ("database is locked") and answered 500. A database error while a request runs answers 409 (it
    raced another writer: send again) or 503 (unreachable), with nothing saved."""
    from fuquan.platform.calendar.repositories import CalendarRepository

    admin = await login(client, "nx_admin")
    day = "/api/v1/calendar/days/2027-03-05"
    assert (await client.put(day, json={"workday": False, "note": "本地放假"}, headers=admin)).status_code == 200

    async def locked(_self: object, _row: object) -> bool:
        raise OperationalError("DELETE FROM calendar_override", {}, Exception("database is locked"))

    monkeypatch.setattr(CalendarRepository, "delete", locked)
    refused = await client.delete(day, headers=admin)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "同时修改" in refused.json()["detail"] and refused.json()["rule"] == "concurrent_change"
    monkeypatch.undo()
    days = (await client.get("/api/v1/calendar/days", params={"year": 2027}, headers=admin)).json()["days"]
    assert any(d["day"] == "2027-03-05" and d["source"] == "tenant" for d in days)  # nothing of it was kept
