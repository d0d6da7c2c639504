"""The object-storage benchmark, small: two real app processes on loopback with no shared disk, every upload
acknowledged and read back whole through the other process."""

from __future__ import annotations

import os
from pathlib import Path

from fuquan.platform.setup.bench_files import distinct_png, run_files_benchmark

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("FUQUAN_TEST_REDIS_URL") or None


def test_distinct_photos_are_distinct_pngs() -> None:
    photos = {distinct_png(n) for n in range(500)}
    assert len(photos) == 500 and all(photo.startswith(b"\x89PNG\r\n\x1a\n") for photo in photos)


def test_two_processes_lose_no_upload_when_the_store_restarts(tmp_path: Path) -> None:
    figures = run_files_benchmark(PG_URL or "sqlite", redis_url=REDIS_URL, uploads=9, concurrency=1,
                                  outage_seconds=1.5, data_dir=tmp_path)  # fmt: skip
    assert figures["uploads"] == figures["acknowledged"] == figures["read_back_through_the_other_process"] == 9
    assert figures["lost"] == 0 and figures["refused"] == 0, figures["refusals"]
    # uploads during the outage were answered 503 (nothing recorded) and went through once the store was back
    assert figures["s3_restarted_after"] == 4 and figures["answered_503_while_s3_was_down"] >= 1
    assert figures["local_files_written"] == 0  # every file went to the bucket
    assert 0 < figures["upload_ms"]["p50"] <= figures["upload_ms"]["p99"]
