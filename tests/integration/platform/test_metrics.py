"""GET /metrics: off until an operator sets a scrape token, then only for a scraper presenting it; requests
counted by route template (never one series per case), and the authority policy each process serves."""

from __future__ import annotations

import anyio
import msgspec
import pytest
from litestar.testing import AsyncTestClient

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from helpers import login

pytestmark = pytest.mark.anyio

TOKEN = "scrape-token-for-tests"


async def test_metrics_are_off_without_a_token(client: object) -> None:
    response = await client.get("/metrics")  # type: ignore[attr-defined]
    assert response.status_code == 404


def _case_reads(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if line.startswith("fuquan_requests_total") and '/cases/{case_id}"' in line
    ]


def _not_found(text: str) -> list[str]:
    return [line for line in _case_reads(text) if 'status_code="404"' in line]


def _count(lines: list[str]) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines)


async def test_only_the_scraper_reads_the_metrics(settings: Settings) -> None:
    app = create_app(msgspec.structs.replace(settings, metrics_token=TOKEN))
    scraper = {"Authorization": f"Bearer {TOKEN}"}
    async with AsyncTestClient(app=app) as client:
        clerk = await login(client, "cs_clerk")
        first = (await client.get("/metrics", headers=scraper)).text  # the process's registry: count from here
        before = _count(_not_found(first))
        for case_id in (1, 2, 3):  # three cases: one series for the route, not three
            await client.get(f"/api/v1/cases/{case_id}", headers=clerk)
        assert (await client.get("/api/v1/cases/1")).status_code == 401  # refused by the authentication middleware
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        assert (await client.get("/metrics", headers=clerk)).status_code == 401  # a staff login is not a scraper
        for _attempt in range(50):  # a request is counted as its middleware unwinds, just after its answer
            scraped = await client.get("/metrics", headers=scraper)
            if _count(_not_found(scraped.text)) - before >= 3:
                break
            await anyio.sleep(0.02)
    assert scraped.status_code == 200 and scraped.headers["content-type"].startswith("text/plain")
    case_reads = _not_found(scraped.text)
    assert len(case_reads) == 1 and 'method="GET"' in case_reads[0], case_reads
    assert _count(case_reads) - before == 3
    # a request the authentication middleware refused is counted with the status it got, not as a 200
    assert any('status_code="401"' in line for line in _case_reads(scraped.text)), _case_reads(scraped.text)
    lines = scraped.text.splitlines()
    assert any(line.startswith("fuquan_request_duration_seconds_bucket") for line in lines)
    assert 'fuquan_policy_version{tenant="64"}' in scraped.text
    assert 'fuquan_policy_versions_behind{tenant="64"} 0.0' in scraped.text
    assert not any("/metrics" in line for line in lines if line.startswith("fuquan_requests_total"))


def _decisions(text: str, outcome: str) -> float:
    wanted = f'fuquan_authority_decisions_total{{outcome="{outcome}",question="check",tenant="64"}}'
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(wanted))


async def test_decisions_are_counted_per_tenant_and_outcome(settings: Settings) -> None:
    """Decisions per second is the rate of a counter per tenant, question and outcome."""
    app = create_app(msgspec.structs.replace(settings, metrics_token=TOKEN))
    scraper = {"Authorization": f"Bearer {TOKEN}"}
    question = {"unit": "640202001", "item": "HRSS-04", "action": "accept"}
    async with AsyncTestClient(app=app) as client:
        admin = await login(client, "nx_admin")
        before = (await client.get("/metrics", headers=scraper)).text
        for _ in range(3):
            answer = await client.get("/api/v1/authority/check", params=question, headers=admin)
            assert answer.status_code == 200 and answer.json()["allowed"] is False
        after = (await client.get("/metrics", headers=scraper)).text
        assert _decisions(after, "denied") - _decisions(before, "denied") == 3
        assert _decisions(after, "allowed") == _decisions(before, "allowed")


async def test_the_grafana_dashboard_asks_only_for_what_is_exported(settings: Settings) -> None:
    """deploy/grafana's queries name metrics the app exports (a renamed metric would leave a panel empty)."""
    import json
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).parents[3] / "deploy/grafana/fuquan-overview.json").read_text())
    asked = {
        re.sub(r"_(bucket|count|sum)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bfuquan_[a-z_]+", target["expr"])
    }
    app = create_app(msgspec.structs.replace(settings, metrics_token=TOKEN))
    async with AsyncTestClient(app=app) as client:
        await client.get("/api/v1/cases", headers=await login(client, "cs_clerk"))
        scraped = (await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    exported = set(re.findall(r"^# TYPE (\S+)", scraped, flags=re.MULTILINE))
    exported |= {f"{name}_total" for name in exported}  # a counter's samples carry _total
    assert asked and asked <= exported, asked - exported
