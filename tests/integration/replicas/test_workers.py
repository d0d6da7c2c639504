"""``fuquan serve --workers 2``: two processes on one port share sessions, throttling, idempotency and policy
(PostgreSQL + Redis); on SQLite more than one worker is refused with a message that says why."""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner

from fuquan.platform.cli.main import cli
from fuquan.platform.core.personal import id_check_char
from helpers import login
from processes import replicas

pytestmark = pytest.mark.anyio

REDIS_URL = os.environ.get("FUQUAN_TEST_REDIS_URL") or None
RESIDENT = "64020219900101123" + id_check_char("64020219900101123")
GRANT = {
    "item": "HRSS-06", "action": "accept", "unit": "640202100", "scope": "unit", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": False, "basis": "devolved", "instrument": "宁人社发〔2026〕5号",
}  # fmt: skip
CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _cpu_by_child(parent: int) -> dict[int, float]:
    """CPU seconds of each child process of ``parent`` (Linux /proc)."""
    found: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return found


async def test_connections_are_spread_over_the_workers(backend: str, database_url: str, tmp_path: Path) -> None:
    """Each worker listens on its own SO_REUSEPORT socket: a burst of keep-alive connections (as a load
    balancer opens them) is spread over both, instead of all landing on whichever worker woke first."""
    if backend != "postgresql":
        return
    with replicas(database_url, REDIS_URL, tmp_path, count=1, serve_options=("--workers", "2")) as [server]:
        assert server.process is not None
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
            admin = await login(api, "nx_admin")
        before = _cpu_by_child(server.process.pid)
        clients = [httpx.AsyncClient(base_url=server.url, timeout=30) for _ in range(64)]
        try:

            async def ask(client: httpx.AsyncClient) -> None:
                for _ in range(10):
                    assert (await client.get("/api/v1/auth/me", headers=admin)).status_code == 200

            async with anyio.create_task_group() as tasks:
                for client in clients:
                    tasks.start_soon(ask, client)
        finally:
            for client in clients:
                await client.aclose()
        after = _cpu_by_child(server.process.pid)
    used = sorted((after[pid] - before.get(pid, 0.0) for pid in after), reverse=True)
    assert len(used) >= 2 and sum(used) > 0
    # both workers did a real share of the work (a binomial split of 64 connections: 25 % is ~4 sigma away)
    assert used[1] >= 0.25 * (used[0] + used[1]), used


def test_more_than_one_worker_needs_postgresql_and_redis(tmp_path: Path) -> None:
    runner = CliRunner()
    sqlite = {"FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}
    refused = runner.invoke(cli, ["serve", "--workers", "2"], env=sqlite)
    assert refused.exit_code == 2 and "SQLite" in refused.output and "PostgreSQL" in refused.output
    no_redis = {"FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1/none"}
    refused = runner.invoke(cli, ["serve", "--workers", "2"], env=no_redis)
    assert refused.exit_code == 2 and "FUQUAN_REDIS_URL" in refused.output


async def test_two_workers_share_everything(backend: str, database_url: str, tmp_path: Path) -> None:
    if backend != "postgresql":  # SQLite refuses (above); the workers' shared state is the point here
        return
    with replicas(database_url, REDIS_URL, tmp_path, count=1, serve_options=("--workers", "2")) as [server]:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as api:
            admin = await login(api, "nx_admin")
            for _ in range(40):  # a token issued through one worker is honoured by both
                me = await api.get("/api/v1/auth/me", headers=admin)
                assert me.status_code == 200 and "server" not in me.headers
            # policy: a grant made through one worker is decided alike by both, within moments
            assert (await api.post("/api/v1/grants", json=GRANT, headers=admin)).status_code == 201
            deadline = time.monotonic() + 5
            answers: list[bool] = []
            while time.monotonic() < deadline:
                check = await api.get(
                    "/api/v1/authority/check",
                    params={"unit": "640202100", "item": "HRSS-06", "action": "accept"},
                    headers=admin,
                )
                answers.append(check.json()["allowed"])
                if len(answers) >= 40 and all(answers[-40:]):
                    break
            assert all(answers[-40:])
            # idempotency: the same key through either worker gives the same case
            clerk = await login(api, "cs_clerk")
            key = uuid.uuid4().hex
            applicant = {"id_number": RESIDENT, "name": "李四"}
            body = {"item": "HRSS-06", "unit": "640202001", "applicant": applicant}
            grant = {**GRANT, "unit": "640202001"}
            assert (await api.post("/api/v1/grants", json=grant, headers=admin)).status_code == 201
            await anyio.sleep(0.3)  # both workers have applied it (announced within milliseconds)
            ids = set()
            for _ in range(6):
                created = await api.post("/api/v1/cases", json=body, headers={**clerk, "Idempotency-Key": key})
                assert created.status_code in (200, 201), created.text
                ids.add(created.json()["id"])
            assert len(ids) == 1
        # web sessions live in Redis: a browser signed in through one worker stays signed in on the other
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as browser:
            page = await browser.get("/login")
            token = CSRF_FIELD.search(page.text)
            assert token
            signed_in = await browser.post(
                "/login",
                data={"username": "cs_clerk", "password": "fuquan-demo-2026", "_csrf_token": token.group(1)},
            )
            assert signed_in.status_code in (200, 303), signed_in.text[:300]
            for _ in range(20):
                desk = await browser.get("/desk")
                assert desk.status_code == 200 and "退出" in desk.text
    loads = [entry["tenant_id"] for entry in server.events("policy_loaded")]
    assert len(loads) == 2 * len(set(loads))  # each worker process loaded every tenant once
