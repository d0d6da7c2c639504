"""The case-flow benchmark, small: real servers on loopback, every case accepted, every figure there."""

from __future__ import annotations

import os
from pathlib import Path

from fuquan.platform.core.config import sqlite_url
from fuquan.platform.core.personal import parse_resident_id
from fuquan.platform.setup.bench_cases import resident, run_case_benchmark

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None
CASES, CONCURRENCY = 10, 2


def test_synthetic_residents_are_valid_and_distinct() -> None:
    people = [resident(index) for index in range(2000)]
    assert len({person["id_number"] for person in people}) == len(people)
    for person in people[:50]:
        assert parse_resident_id(person["id_number"]).region_code == "640202"


def test_case_benchmark_accepts_every_case_and_reports_figures(tmp_path: Path) -> None:
    urls = [sqlite_url(tmp_path / "ignored.db")] + ([PG_URL] if PG_URL else [])
    backends = ["sqlite"] + (["postgresql"] if PG_URL else [])

    result = run_case_benchmark(urls, cases=CASES, concurrency=CONCURRENCY, data_dir=tmp_path / "bench")

    assert set(result) == {*backends, "bare", "ratios"}
    for backend in backends:
        figures = result[backend]
        assert figures["accepted"] == figures["accepted_in_database"] == CASES
        assert figures["http_requests"] == CASES * 6  # create, three required materials, submit, accept
        for key in ("cases_per_second", "requests_per_second", "seconds", "setup_seconds"):
            assert figures[key] > 0, key
        for key in ("case_ms", "create_ms"):
            assert 0 < figures[key]["p50"] <= figures[key]["p99"], key
        assert figures["create_ms"]["p99"] <= figures["case_ms"]["p99"]
        assert result["ratios"][backend] > 0
    bare = result["bare"]
    assert bare["requests"] == CASES * 6 and bare["concurrency"] == CONCURRENCY
    assert bare["requests_per_second"] > 0 and 0 < bare["request_ms"]["p50"] <= bare["request_ms"]["p99"]
    # everything the run made under data_dir is gone, and the SQLite URL given was never touched
    assert list((tmp_path / "bench").iterdir()) == []
    assert not (tmp_path / "ignored.db").exists()
