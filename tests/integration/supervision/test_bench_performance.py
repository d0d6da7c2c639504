"""``fuquan bench performance`` (PostgreSQL: its year of cases is generated with generate_series): the figures a
server answers add up to what was generated, with the timings and the database's own count beside them; asked for
SQLite it says what it needs."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from fuquan.platform.cli.main import cli

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None


def test_the_performance_benchmark_adds_up(backend: str) -> None:
    url = PG_URL if backend == "postgresql" else "sqlite"
    assert url is not None
    result = CliRunner().invoke(
        cli,
        ["bench", "performance", "--database-url", url, "--cases", "2000", "--staff-per-town", "1", "--repeat", "1"],
    )
    if backend == "sqlite":
        assert result.exit_code != 0 and "PostgreSQL" in str(result.exception), result.output
        return
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert all(figures["checks"].values()), figures
    assert figures["generated"]["county_cases"] == 500 and figures["per_township"]["rows"] > 1
    assert figures["per_person"]["rows"] >= figures["generated"]["county_towns"] * 2
    assert figures["xlsx_per_person"]["bytes"] > 0 and figures["baseline_count_seconds"] >= 0
