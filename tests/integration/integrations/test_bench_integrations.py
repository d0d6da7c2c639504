"""The partner-integration benchmark, small: real simulators on loopback, the real app in-process, every
figure there and sane, the slow partner's materials unavailable within the budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fuquan.platform.setup.bench_integrations import (
    CACHED_ITEMS,
    COLD_ITEMS,
    SLOW_PARTNER,
    run_integration_benchmark,
)

ROUNDS, SLOW_CASES = 5, 2
LATENCY_KEYS = ("p50_ms", "p99_ms", "mean_ms", "max_ms")


def _sane(figures: dict[str, float]) -> None:
    assert all(figures[key] > 0 for key in LATENCY_KEYS), figures
    assert figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"], figures


def test_integration_benchmark_reports_sane_figures(tmp_path: Path) -> None:
    result = run_integration_benchmark(rounds=ROUNDS, slow_cases=SLOW_CASES, data_dir=tmp_path / "bench")

    assert json.loads(json.dumps(result)) == result  # what the CLI prints
    assert set(result) == {"environment", "settings", "setup_seconds", "resolve", "create", "seconds"}
    assert result["environment"]["python"] and result["environment"]["cpu_count"]
    budget = result["settings"]["shared_data_budget_seconds"]

    resolve = result["resolve"]
    assert resolve["rounds"] == ROUNDS
    assert set(resolve["cold"]) == set(COLD_ITEMS) and set(resolve["cached"]) == set(CACHED_ITEMS)
    for code, figures in resolve["cold"].items():
        _sane(figures)
        asked = figures["materials_asked"] * ROUNDS
        assert figures["cached_answers"] == 0 and figures["fetched_answers"] == asked, code
        assert sum(figures["answers"].values()) == asked and "unavailable" not in figures["answers"], code
    assert resolve["cold"]["HRSS-05"]["materials_asked"] == 5 and resolve["cold"]["HRSS-17"]["materials_asked"] == 2
    for code, figures in resolve["cached"].items():
        _sane(figures)
        assert figures["cached_answers"] == ROUNDS, code  # one cacheable material per round, from the cache
        assert figures["fetched_answers"] == (figures["materials_asked"] - 1) * ROUNDS, code
        assert figures["answers"] == {"satisfied": figures["materials_asked"] * ROUNDS}, code

    create = result["create"]
    assert create["budget_ms"] == budget * 1000
    normal, slow = create["all_partners_normal"], create["slow_partner"]
    assert normal["cases"] == ROUNDS and normal["unavailable_materials"] == 0
    _sane(normal)
    assert normal["max_ms"] < budget * 1000
    assert slow["cases"] == SLOW_CASES and slow["partner"] == SLOW_PARTNER and slow["latency_ms"] == 5000
    _sane(slow)
    assert slow["max_ms"] < (budget + 1.5) * 1000
    assert slow["unavailable_materials"] == SLOW_CASES  # HRSS-05 asks public security for the identity only
    assert slow["failures"] == {"budget_exceeded": SLOW_CASES}
    # nothing left under data_dir
    assert list((tmp_path / "bench").iterdir()) == []


def test_integration_benchmark_refuses_nonsense(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rounds"):
        run_integration_benchmark(rounds=0, data_dir=tmp_path)
    with pytest.raises(ValueError, match="slow_cases"):
        run_integration_benchmark(rounds=1, slow_cases=-1, data_dir=tmp_path)
