"""The data-sharing benchmark, small: a real server on loopback answering signed calls, every figure there."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fuquan.platform.setup.bench_share import run_share_benchmark

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None


@pytest.mark.parametrize("url", ["sqlite", *([PG_URL] if PG_URL else [])], ids=lambda url: url.partition("+")[0])
def test_share_benchmark_answers_every_signed_call_and_reports_figures(url: str, tmp_path: Path) -> None:
    result = run_share_benchmark(url, data_dir=tmp_path / "bench", workers=(1,), people=40, calls=16, batches=2,
                                 concurrency=2, batch_concurrency=1)  # fmt: skip
    figures = result["workers_1"]
    assert set(result) == {"backend", "people", "workers_1"} and result["backend"] == url.partition("+")[0]
    for kind, count in (("single", 16), ("batch", 2), ("bare", 16)):
        measured = figures[kind]
        assert measured["requests"] == count and measured["requests_per_second"] > 0
        assert 0 < measured["request_ms"]["p50"] <= measured["request_ms"]["p99"] <= measured["request_ms"]["max"]
    assert figures["batch"]["subjects_per_call"] == 100 and figures["single_over_bare"] > 0
    assert list((tmp_path / "bench").iterdir()) == []  # everything the run made is gone (a PostgreSQL one dropped)
