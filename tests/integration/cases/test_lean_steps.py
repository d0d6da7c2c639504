"""What a step on a case sends to the database: the case read once, its trace event and audit record in one
statement on PostgreSQL (a data-modifying CTE; SQLite has none, and no network to save), and no pauses for a
clock that has not run a day."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from fuquan.platform.core.personal import id_check_char
from helpers import Statements, grant_unit, login, open_case

pytestmark = pytest.mark.anyio

TOWN = "640202001"
BODY = "64020219850505123"
RESIDENT = BODY + id_check_char(BODY)


def _writes_of_one_step(seen: list[str], backend: str) -> None:
    """The step's event and audit record: together on PostgreSQL, one after the other on SQLite."""
    event = [s for s in seen if "INSERT INTO case_event" in s]
    audit = [s for s in seen if "INSERT INTO audit_log" in s]
    if backend == "postgresql":
        assert len(event) == 1 and event == audit, seen
        assert event[0].lstrip().startswith("WITH"), event
    else:
        assert len(event) == 1 and len(audit) == 1 and event != audit, seen


async def test_a_submit_without_partners_reads_the_case_once_and_writes_its_trace_in_one_go(
    settings: Settings, backend: str
) -> None:
    app: Litestar = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
        clerk = await login(client, "cs_clerk")
        case = await open_case(client, clerk, "HRSS-04", TOWN, RESIDENT, "赵六")
        for action in ("submit", "accept"):
            body = {"action": action, "version": case["version"]}
            with Statements(app) as statements:
                answer = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=clerk)
            assert answer.status_code == 200, answer.text
            case = answer.json()
            reads = [s for s in statements.seen if s.lstrip().startswith("SELECT") and "FROM case_file" in s]
            assert len(reads) == 1, statements.seen  # no partner configured: nothing to ask, one (locked) read
            if backend == "postgresql":
                assert "FOR UPDATE" in reads[0], reads
            _writes_of_one_step(statements.seen, backend)
            # the clock starts today: no pause can change its figures yet (see reads._clock_has_run)
            assert not [s for s in statements.seen if "FROM case_pause" in s], statements.seen
        assert case["status"] == "accepted"

        events = await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)
        assert events.status_code == 200, events.text
        assert [e["action"] for e in events.json()][-2:] == ["submit", "accept"]
