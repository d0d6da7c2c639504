"""``fuquan bench warnings`` (PostgreSQL: its cases are generated with generate_series): two replicas tell every due
alarm exactly once and the next run tells nothing; asked for SQLite it says what it needs."""

from __future__ import annotations

import json
import os

from click.testing import CliRunner

from fuquan.platform.cli.main import cli

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None


def test_the_warning_benchmark_tells_each_due_alarm_once(backend: str) -> None:
    url = PG_URL if backend == "postgresql" else "sqlite"
    assert url is not None
    result = CliRunner().invoke(cli, ["bench", "warnings", "--database-url", url, "--cases", "3000"])
    if backend == "sqlite":
        assert result.exit_code != 0 and "PostgreSQL" in str(result.exception), result.output
        return
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert all(figures["checks"].values()), figures
    assert figures["due"]["overdue"] > 0 and figures["due"]["warning"] > 0 and figures["due"]["acceptance_overdue"] > 0
    assert figures["told"] == figures["due"]
