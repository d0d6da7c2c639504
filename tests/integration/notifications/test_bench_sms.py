"""``fuquan bench sms`` runs end to end and its figures hold: every message sent, none twice, failures injected."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from fuquan.platform.cli.main import cli

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None


@pytest.mark.parametrize(
    "database_url", ["sqlite", *([PG_URL] if PG_URL else [])], ids=lambda url: url.split(":")[0].split("+")[0]
)
def test_the_sms_benchmark_loses_nothing_and_sends_nothing_twice(database_url: str) -> None:
    arguments = ["--database-url", database_url, "--messages", "300", "--failure-rate", "0.2",
                 "--lost-answer-rate", "0.1", "--replicas", "2"]  # fmt: skip
    result = CliRunner().invoke(cli, ["bench", "sms", *arguments])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output[result.output.index("{") :])
    assert figures["outbox"] == {"sent": 300} and figures["lost"] == 0 and figures["duplicates"] == 0
    platform = figures["platform"]
    assert platform["delivered"] == 300 and platform["most_messages_to_one_phone"] == 1
    assert platform["injected_failures"] > 0 and platform["answers_lost"] > 0
    assert platform["repeats_answered_from_memory"] >= platform["answers_lost"]
