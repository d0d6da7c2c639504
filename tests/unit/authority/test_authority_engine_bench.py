"""The benchmark runs end to end on the small real dataset (figures are printed, not asserted)."""

from __future__ import annotations

from fuquan.authority.engine.bench import run_benchmark


def test_ningxia_benchmark_runs_and_engines_agree() -> None:
    figures = run_benchmark("ningxia", queries=300)
    assert figures["mismatches"] == 0
    assert figures["matrix"]["spot_check_mismatches"] == 0
    assert figures["apply_grant"]["reflected"]
    assert figures["apply_revocation"]["reflected"]
    assert figures["apply_revocation"]["history_kept"]
    assert figures["lines"] > 20_000
