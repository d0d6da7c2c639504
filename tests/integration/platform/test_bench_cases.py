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


def _measured(figures: dict[str, object], requests: int) -> None:
    assert figures["requests"] == requests
    assert figures["requests_per_second"] > 0  # type: ignore[operator]
    # measured from /proc in clock ticks (10 ms): a few fast requests may round to nothing
    assert figures["server_cpu_ms_per_request"] >= 0  # type: ignore[operator]


def test_case_benchmark_accepts_every_case_and_reports_figures(tmp_path: Path) -> None:
    urls = [sqlite_url(tmp_path / "ignored.db")] + ([PG_URL] if PG_URL else [])
    backends = ["sqlite"] + (["postgresql"] if PG_URL else [])

    result = run_case_benchmark(
        urls, cases=CASES, concurrency=CONCURRENCY, data_dir=tmp_path / "bench", with_partners=True
    )

    assert set(result) == set(backends)
    for backend in backends:
        figures = result[backend]
        flow = figures["flow"]
        assert flow["accepted"] == flow["accepted_in_database"] == CASES
        requests = CASES * 6  # create, three required materials, submit, accept
        _measured(flow, requests)
        assert flow["server_cpu_ms_per_request"] > 0
        assert set(flow["endpoint_ms"]) == {"create", "upload", "submit", "accept"}
        for timing in [flow["case_ms"], *flow["endpoint_ms"].values()]:
            assert 0 < timing["p50"] <= timing["p99"] <= timing["max"]
        # the baseline and the check are driven as often as the flow, by the same kind of client
        for measured in (figures["authority_check"], figures["baseline"]["intake"], figures["baseline"]["ping"]):
            _measured(measured, requests)
            assert 0 < measured["request_ms"]["p50"] <= measured["request_ms"]["p99"]
        assert all(ratio > 0 for ratio in figures["ratios"].values())
        partners = figures["with_partners"]
        assert partners["item"] == "HRSS-05" and partners["cases"] == CASES
        assert partners["unavailable_materials"] == 0
        assert partners["material_states"].get("satisfied_by_shared_data", 0) > 0
    # everything the run made under data_dir is gone, and the SQLite URL given was never touched
    assert list((tmp_path / "bench").iterdir()) == []
    assert not (tmp_path / "ignored.db").exists()
