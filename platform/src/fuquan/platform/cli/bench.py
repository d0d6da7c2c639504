"""``fuquan bench``: the benchmarks, each printing its figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group()
def bench() -> None:
    """Benchmarks that print figures."""


@bench.command("authority")
@click.option("--dataset", type=click.Choice(["ningxia", "shandong", "all"]), default="all", show_default=True)
def bench_authority(dataset: str) -> None:
    """Decision latency through Casbin and the hot path, load time, RSS, matrix and update times."""
    from fuquan.authority.engine.bench import run_benchmark

    names = ["ningxia", "shandong"] if dataset == "all" else [dataset]
    results = {name: run_benchmark(name) for name in names}
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))


@bench.command("cases")
@click.option(
    "--database-url",
    "database_urls",
    multiple=True,
    help="A PostgreSQL server to measure besides SQLite (a temporary database is created there and dropped).",
)
@click.option("--cases", default=300, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--concurrency", default=8, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(1, 16),
    help="Processes serving the app on PostgreSQL (SQLite is always served by one); more than one needs --redis-url.",
)  # fmt: skip
@click.option("--redis-url", default=None, help="The Redis several workers share.")
@click.option("--with-partners", is_flag=True, help="Also create HRSS-05 cases whose materials ask the simulators.")
def bench_cases(
    database_urls: tuple[str, ...], cases: int, concurrency: int, workers: int, redis_url: str | None,
    with_partners: bool,
) -> None:  # fmt: skip
    """The case flow through the HTTP API on SQLite (and PostgreSQL with --database-url), next to a bare
    Litestar endpoint doing a token lookup and 3 inserts on the same database, and a bare /ping."""
    import tempfile

    from fuquan.platform.setup.bench_cases import run_case_benchmark

    urls = ["sqlite+aiosqlite:///bench.db", *database_urls]
    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_case_benchmark(
            urls, cases=cases, concurrency=concurrency, data_dir=Path(scratch), workers=workers, redis_url=redis_url,
            with_partners=with_partners,
        )  # fmt: skip
    click.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))


@bench.command("certificates")
@click.option("--database-url", default="sqlite", show_default=True,
              help="sqlite, or a PostgreSQL server (a temporary database is created there and dropped).")  # fmt: skip
@click.option("--cases", default=20, show_default=True, type=click.IntRange(1, 500))
@click.option("--requests", "requests", default=50, show_default=True, type=click.IntRange(5, 5000))
def bench_certificates(database_url: str, cases: int, requests: int) -> None:
    """电子证照: the result notice with its certificate and the public verification, against a bare /ping."""
    import tempfile

    from fuquan.platform.setup.bench_certificates import run_certificate_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_certificate_benchmark(database_url, cases=cases, requests=requests, data_dir=Path(scratch))
    click.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))


@bench.command("public")
@click.option("--database-url", default="sqlite", show_default=True,
              help="sqlite, or a PostgreSQL server (a temporary database is created there and dropped).")  # fmt: skip
@click.option("--requests", "requests", default=2000, show_default=True, type=click.IntRange(16, 100_000))
def bench_public(database_url: str, requests: int) -> None:
    """办事指南, 权力清单 and 政策法规库 at concurrency 16 from the cache, against a bare /ping; a new grant shown."""
    import tempfile

    from fuquan.platform.setup.bench_public import run_public_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_public_benchmark(database_url, requests=requests, data_dir=Path(scratch))
    click.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))


@bench.command("files")
@click.option(
    "--database-url", default="sqlite", show_default=True,
    help="A PostgreSQL server (a temporary database is created there and dropped), or sqlite for a shared file.",
)  # fmt: skip
@click.option("--redis-url", default=None, help="The Redis the two processes share (sessions, caches).")
@click.option("--uploads", default=1000, show_default=True, type=click.IntRange(1, 20_000))
@click.option("--concurrency", default=4, show_default=True, type=click.IntRange(1, 32), help="Clients per process.")
@click.option(
    "--outage-seconds", default=2.0, show_default=True, type=click.FloatRange(0, 25),
    help="Halfway through, the S3 server is stopped this long and restarted (0: no restart).",
)  # fmt: skip
def bench_files(
    database_url: str, redis_url: str | None, uploads: int, concurrency: int, outage_seconds: float
) -> None:
    """Uploads through two app processes with no shared disk, into object storage (a local S3 server restarted
    halfway), each read back through the other process: acknowledged, lost, 503s while the store was down,
    uploads/s, latency."""
    import tempfile

    from fuquan.platform.setup.bench_files import run_files_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-files-") as scratch:
        results = run_files_benchmark(
            database_url, redis_url=redis_url, uploads=uploads, concurrency=concurrency,
            outage_seconds=outage_seconds, data_dir=Path(scratch),
        )  # fmt: skip
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))


@bench.command("keys")
@click.option(
    "--database-url", default="sqlite", show_default=True,
    help="A PostgreSQL server (a temporary database is created there and dropped), or sqlite for a shared file.",
)  # fmt: skip
@click.option("--redis-url", default=None, help="The Redis the two processes share (sessions, caches).")
@click.option("--applicants", default=100_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--concurrency", default=2, show_default=True, type=click.IntRange(1, 32), help="Clients in all.")
@click.option("--baseline-seconds", default=10.0, show_default=True, type=click.FloatRange(0, 600))
@click.option("--batch", default=1000, show_default=True, type=click.IntRange(1, 10_000), help="Rows per rewrite.")
def bench_keys(
    database_url: str, redis_url: str | None, applicants: int, concurrency: int, baseline_seconds: float, batch: int
) -> None:
    """Master and data keys rotated while two app processes serve: requests before and during, values
    re-encrypted per second, then every stored field read back with the new master key alone (unreadable,
    mismatched)."""
    import tempfile

    from fuquan.platform.setup.bench_keys import run_keys_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-keys-") as scratch:
        results = run_keys_benchmark(
            database_url, redis_url=redis_url, applicants=applicants, concurrency=concurrency,
            baseline_seconds=baseline_seconds, batch=batch, data_dir=Path(scratch),
        )  # fmt: skip
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))


@bench.command("audit")
@click.option(
    "--database-url", default="sqlite", show_default=True,
    help="A PostgreSQL server (a temporary database is created there and dropped), or sqlite for a scratch file.",
)  # fmt: skip
@click.option("--records", default=20_000, show_default=True, type=click.IntRange(10, 2_000_000))
def bench_audit(database_url: str, records: int) -> None:
    """The keyed audit chain: records sealed and verified per second, and each of the six ways of rewriting the log
    (edit, delete, reorder, truncate, edit-and-recompute, truncate-and-move-head) made as a database superuser
    without the audit key would make it — detected, and named at the record or checkpoint where it happened."""
    import tempfile

    from fuquan.platform.setup.bench_audit import run_audit_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-audit-") as scratch:
        results = run_audit_benchmark(database_url, records=records, data_dir=Path(scratch))
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))


@bench.command("replicas")
@click.option(
    "--database-url",
    required=True,
    envvar="FUQUAN_BENCH_DATABASE_URL",
    help="A PostgreSQL server (postgresql+asyncpg://…): a temporary database per dataset is created there and dropped.",
)
@click.option("--redis-url", required=True, envvar="FUQUAN_BENCH_REDIS_URL", help="The Redis the processes share.")
@click.option("--dataset", type=click.Choice(["ningxia", "shandong", "all"]), default="all", show_default=True)
@click.option("--changes", default=200, show_default=True, type=click.IntRange(2, 10_000))
@click.option(
    "--interval", default=1.0, show_default=True, type=click.FloatRange(0, 60), help="Seconds between changes."
)
@click.option(
    "--seconds", default=10.0, show_default=True, type=click.FloatRange(0, 600),
    help="How long each worker count is driven (0: skip the 1-vs-2-worker throughput).",
)  # fmt: skip
def bench_replicas(
    database_url: str, redis_url: str, dataset: str, changes: int, interval: float, seconds: float
) -> None:
    """Two processes on PostgreSQL + Redis: a policy change's way from one to the other (p50/p99/max), decision
    latency while changes stream in, and authority/check requests/s with 1 and 2 workers."""
    import tempfile

    from fuquan.platform.setup.bench_replicas import run_replica_benchmark

    names = ["ningxia", "shandong"] if dataset == "all" else [dataset]
    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_replica_benchmark(
            database_url, redis_url, names, Path(scratch), changes=changes, interval=interval, seconds=seconds
        )
    click.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))


@bench.command("integrations")
@click.option("--rounds", default=200, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--slow-cases", default=10, show_default=True, type=click.IntRange(0, 100))
def bench_integrations(rounds: int, slow_cases: int) -> None:
    """Resolving an item's materials against the simulators (cold, cached), and case creation with all
    partners normal and with public security answering after 5 s."""
    import tempfile

    from fuquan.platform.setup.bench_integrations import run_integration_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_integration_benchmark(rounds=rounds, slow_cases=slow_cases, data_dir=Path(scratch))
    click.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))


@bench.command("share")
@click.option("--database-url", default="sqlite", show_default=True,
              help="sqlite, or a PostgreSQL server (a temporary database is created there and dropped).")  # fmt: skip
@click.option("--workers", "workers", multiple=True, type=click.IntRange(1, 16), default=(1, 2), show_default=True,
              help="Worker counts to serve with, in turn (PostgreSQL; more than one needs --redis-url).")  # fmt: skip
@click.option("--redis-url", default=None, help="The Redis several workers share.")
@click.option("--calls", default=2000, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--batches", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--concurrency", default=16, show_default=True, type=click.IntRange(1, 64))
def bench_share(database_url: str, workers: tuple[int, ...], redis_url: str | None, calls: int, batches: int,
                concurrency: int) -> None:  # fmt: skip
    """Signed data-sharing calls (single and batches of 100) over HTTP, next to an unsigned bare endpoint."""
    import tempfile

    from fuquan.platform.setup.bench_share import run_share_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_share_benchmark(
            database_url, data_dir=Path(scratch), workers=workers, redis_url=redis_url, calls=calls, batches=batches,
            concurrency=concurrency,
        )  # fmt: skip
    click.echo(json.dumps(results, ensure_ascii=False, indent=2, default=str))


@bench.command("sms")
@click.option("--database-url", default="sqlite", show_default=True,
              help="sqlite, or a PostgreSQL server (a temporary database is created there and dropped).")  # fmt: skip
@click.option("--messages", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--failure-rate", default=0.1, show_default=True, type=click.FloatRange(0.0, 0.9))
@click.option("--lost-answer-rate", default=0.05, show_default=True, type=click.FloatRange(0.0, 0.9))
@click.option("--replicas", default=2, show_default=True, type=click.IntRange(1, 8))
def bench_sms(database_url: str, messages: int, failure_rate: float, lost_answer_rate: float, replicas: int) -> None:
    """The SMS outbox through the simulated platform with injected failures and lost answers: 0 lost, 0 twice."""
    import tempfile

    from fuquan.platform.setup.bench_sms import run_sms_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_sms_benchmark(
            database_url, data_dir=Path(scratch), messages=messages, failure_rate=failure_rate,
            lost_answer_rate=lost_answer_rate, replicas=replicas,
        )  # fmt: skip
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))


@bench.command("warnings")
@click.option(
    "--database-url", required=True, help="A PostgreSQL server (a temporary database is created and dropped)."
)
@click.option("--cases", default=1_000_000, show_default=True, type=click.IntRange(100, 5_000_000))
def bench_warnings(database_url: str, cases: int) -> None:
    """The warning job over generated cases, two replicas at once: seconds, and each warning told exactly once."""
    import tempfile

    from fuquan.platform.setup.bench_warnings import run_warning_benchmark

    with tempfile.TemporaryDirectory(prefix="fuquan-bench-") as scratch:
        results = run_warning_benchmark(database_url, data_dir=Path(scratch), cases=cases)
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))


@bench.command("performance")
@click.option(
    "--database-url", required=True, help="A PostgreSQL server (a temporary database is created and dropped)."
)
@click.option("--cases", default=240_000, show_default=True, type=click.IntRange(100, 5_000_000),
              help="Cases of the year in 宁夏; a quarter of them in 大武口区.")  # fmt: skip
@click.option("--staff-per-town", default=3, show_default=True, type=click.IntRange(1, 50))
@click.option("--repeat", default=5, show_default=True, type=click.IntRange(1, 100))
def bench_performance(database_url: str, cases: int, staff_per_town: int, repeat: int) -> None:
    """Staff and unit performance for a whole county over a year: seconds per request beside the database's count."""
    from fuquan.platform.setup.bench_performance import run_performance_benchmark

    results = run_performance_benchmark(database_url, cases=cases, staff_per_town=staff_per_town, repeat=repeat)
    click.echo(json.dumps(results, ensure_ascii=False, indent=2))
