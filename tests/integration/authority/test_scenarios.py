"""Runs the consolidated authority scenarios (tests/fixtures/authority_*.yaml) through the HTTP API.

Each scenario starts from a freshly seeded database (tenants, units, catalogue, roles, no grants).
The admin acting at unit ``by`` is the demo staff member working there, or one created for the run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from fuquan.authority.models import Grant, PolicyRule
from fuquan.platform.core.db import create_engine, session_factory
from helpers import PASSWORD, enrol, login

pytestmark = pytest.mark.anyio

FIXTURES = Path(__file__).parents[2] / "fixtures"
SCENARIOS = sorted(FIXTURES.glob("authority_*.yaml"))


async def _admins(database_url: str, tenant: str, units: set[str]) -> dict[str, str]:
    """A grant-managing account at every unit a scenario acts from (with its second factor)."""
    usernames = {}
    for unit in sorted(units):
        username = f"scenario_admin_{unit}"
        await enrol(database_url, username, tenant, unit, ["tenant_admin" if unit == tenant else "unit_admin"])
        usernames[unit] = username
    return usernames


async def _counts(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        grants = await session.scalar(select(func.count()).select_from(Grant))
        lines = await session.scalar(select(func.count()).select_from(PolicyRule))
    await engine.dispose()
    return int(grants or 0), int(lines or 0)


@pytest.mark.parametrize(
    "scenario", [yaml.safe_load(p.read_text(encoding="utf-8")) for p in SCENARIOS], ids=[p.stem for p in SCENARIOS]
)
async def test_scenario(scenario: dict[str, Any], client: Any, database_url: str) -> None:
    path = Path(scenario.get("name", "scenario"))
    tenant = scenario["tenant"]
    steps: list[dict[str, Any]] = scenario["steps"]
    acting_units = {step[kind]["by"] for step in steps for kind in ("grant", "revoke") if kind in step}
    admins = await _admins(database_url, tenant, acting_units)
    headers = {unit: await login(client, username, PASSWORD) for unit, username in admins.items()}
    checker = headers[tenant]
    names: dict[str, int] = {}

    for number, step in enumerate(steps, start=1):
        where = f"{path.name} step {number}: {step}"
        if "grant" in step:
            spec = dict(step["grant"])
            name, by = spec.pop("name"), spec.pop("by")
            before = await _counts(database_url)
            response = await client.post("/api/v1/grants", json=spec, headers=headers[by])
            if step["expect"] == "created":
                assert response.status_code == 201, f"{where} → {response.status_code} {response.text}"
                names[name] = response.json()["id"]
            else:
                assert 400 <= response.status_code < 500, f"{where} → {response.status_code} {response.text}"
                problem = response.json()
                assert problem["detail"] and problem["status"] == response.status_code, where
                if "rule" in step:
                    assert problem.get("rule") == step["rule"], f"{where} → {problem}"
                assert await _counts(database_url) == before, f"{where}: a rejected grant wrote something"
        elif "revoke" in step:
            spec = step["revoke"]
            response = await client.post(
                f"/api/v1/grants/{names[spec['target']]}/revoke",
                json={"reason": spec["reason"]},
                headers=headers[spec["by"]],
            )
            assert response.status_code == 200, f"{where} → {response.status_code} {response.text}"
            expected = sorted(names[n] for n in step["expect_revoked"])
            assert sorted(response.json()["revoked"]) == expected, where
        elif "check" in step:
            response = await client.get("/api/v1/authority/check", params=step["check"], headers=checker)
            assert response.status_code == 200, f"{where} → {response.status_code} {response.text}"
            body = response.json()
            assert body["allowed"] is (step["expect"] == "allow"), f"{where} → {body}"
            assert body["reason"], where
            if "rule" in step:
                assert body.get("rule") == step["rule"], f"{where} → {body}"
            # the matrix agrees with the check, cell by cell
            matrix = await client.get(
                "/api/v1/authority/matrix",
                params={"unit": step["check"]["unit"], "depth": 0, "at": step["check"]["at"]},
                headers=checker,
            )
            assert matrix.status_code == 200, f"{where}: matrix → {matrix.status_code} {matrix.text}"
            [row] = [row for row in matrix.json()["units"] if row["code"] == step["check"]["unit"]]
            in_matrix = step["check"]["action"] in row["allowed"].get(step["check"]["item"], [])
            assert in_matrix is body["allowed"], f"{where}: the matrix says {in_matrix}"
            if body["allowed"]:
                assert body["chain"] or body["unit"] == tenant, f"{where}: an allowed decision names its chain"
        else:  # pragma: no cover - a malformed scenario
            pytest.fail(f"unknown step kind in {where}")
