"""Test databases: every database test runs on SQLite, and on PostgreSQL when configured.

``FUQUAN_TEST_DATABASE_URL`` (PostgreSQL) and ``FUQUAN_TEST_REDIS_URL`` are optional locally and
set by CI; when set but unreachable the run fails at once instead of skipping.
Each test gets its own copy of a database seeded once per run: a file copy on SQLite, a
``CREATE DATABASE … TEMPLATE`` on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import fcntl
import gc
import itertools
import json
import os
import queue
import shutil
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from argon2 import profiles
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from fuquan.platform.accounts import passwords
from fuquan.platform.core.config import Settings, sqlite_url
from fuquan.platform.migrations.runner import upgrade
from fuquan.platform.setup.benchkit import seed_database
from fuquan.platform.setup.known_factors import KNOWN_CODES
from helpers import TEST_AUDIT_KEY, TEST_MASTER_KEY

# the suite shares two cores with PostgreSQL, servers and a browser: input generation that is slow there is the
# machine's load, not a defect of the code under test (every property still runs all its examples)
hypothesis_settings.register_profile("shared-machine", suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("shared-machine")

PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("FUQUAN_TEST_REDIS_URL") or None
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
_counter = itertools.count()
RUN_ID = "FUQUAN_TEST_RUN"  # one value per run, shared by its worker processes (they inherit the environment)


async def _probe_services() -> list[str]:
    problems = []
    if PG_URL:
        try:
            engine = create_async_engine(PG_URL)
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            await engine.dispose()
        except Exception as error:
            problems.append(f"FUQUAN_TEST_DATABASE_URL is set but PostgreSQL is unreachable: {error!r}")
    if REDIS_URL:
        try:
            from redis.asyncio import Redis

            client = Redis.from_url(REDIS_URL)
            await client.ping()
            await client.aclose()
        except Exception as error:
            problems.append(f"FUQUAN_TEST_REDIS_URL is set but Redis is unreachable: {error!r}")
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """No test is skipped: a skip (a missing prerequisite, an ``importorskip``) is reported as a failure
    naming its reason, so "passed" always means the whole suite ran."""
    report = yield
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped tests are not allowed in this suite: {reason}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    """A module skipped as a whole (``pytest.skip(allow_module_level=True)``) fails the same way."""
    report = yield
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped tests are not allowed in this suite: {reason}"
    return report


def pytest_configure(config: pytest.Config) -> None:
    """Where the environment sets PYTHONDONTWRITEBYTECODE (this machine and its CI do), every process the suite
    starts — each xdist worker, each served app, each command — compiled every module it imported from source
    again: about 6 s of CPU each, dozens of times a run. Set before the workers start, so they and every process
    they start keep their bytecode, as any Python run does by default."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    # A test process builds an app per test (Litestar registers some 200 handlers each time) and keeps a large heap:
    # with the default thresholds the collector scans it over and over (measured: a quarter of ``create_app``).
    # Fewer, larger young collections; the memory is there.
    gc.set_threshold(50_000, 20, 20)
    # Logins are many: the suite's own password hashes (the seeded staff's among them) use argon2-cffi's cheapest
    # profile, as the library advises for tests (a hash verifies by the parameters it carries).
    passwords.use_profile(profiles.CHEAPEST)
    if not hasattr(config, "workerinput"):
        os.environ.setdefault(RUN_ID, uuid.uuid4().hex[:12])


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = asyncio.run(_probe_services())
    if problems:
        pytest.exit("\n".join(problems), returncode=3)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The run's PostgreSQL template goes once every process of the run is done with it (the controller's finish
    comes after its workers')."""
    if PG_URL and not hasattr(session.config, "workerinput"):
        asyncio.run(_admin_execute(f"DROP DATABASE IF EXISTS {_template_name()} WITH (FORCE)"))


def _template_name() -> str:
    return f"fuquan_tpl_{os.environ[RUN_ID]}"


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


async def _admin_execute(statement: str) -> None:
    assert PG_URL
    engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _pg_database_url(name: str) -> str:
    assert PG_URL
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def seeded_templates(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, str]:
    """Per backend: a migrated database holding both tenants, the catalogue and the demo staff (no grants), made
    once per run by whichever process asks first while the others wait on a file lock (each used to make its own)."""
    base = tmp_path_factory.getbasetemp()
    shared = base if worker_id == "master" else base.parent  # every worker's base lies in the run's directory
    made = shared / "templates.json"
    with (shared / "templates.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not made.exists():
            templates = _make_templates(shared / "template")
            made.write_text(json.dumps({"templates": templates, "enrolled": sorted(KNOWN_CODES.enrolled)}))
    found = json.loads(made.read_text())
    KNOWN_CODES.enrolled.update(found["enrolled"])  # the admins seeded with known second factors, in every process
    return dict(found["templates"])


def _make_templates(directory: Path) -> dict[str, str]:
    directory.mkdir()
    sqlite_file = directory / "seeded.db"
    upgrade(sqlite_url(sqlite_file))
    asyncio.run(seed_database(sqlite_url(sqlite_file)))
    templates = {"sqlite": str(sqlite_file)}
    if PG_URL:
        name = _template_name()
        asyncio.run(_admin_execute(f"DROP DATABASE IF EXISTS {name}"))
        asyncio.run(_admin_execute(f"CREATE DATABASE {name}"))
        upgrade(_pg_database_url(name))
        asyncio.run(seed_database(_pg_database_url(name)))
        templates["postgresql"] = name
    return templates


@pytest.fixture(autouse=True)
def _codes_unused() -> None:
    """Each test's database is a fresh copy of the template, where no admin's code has been used yet."""
    KNOWN_CODES.forget()


@pytest.fixture(autouse=True)
def _structlog_restored() -> Iterator[None]:
    """A command run by a test (``fuquan …`` reconfigures logging for the console) must not change
    what the next test's loggers do."""
    previous = structlog.get_config()
    yield
    structlog.configure(**previous)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class _SpareDatabases:
    """Copies of the PostgreSQL template made ahead and dropped behind by a thread of this test process: a test
    gets a database that was ready before it started and does not wait for the last one's DROP (together about
    0.35 s a test, several hundred times a run)."""

    def __init__(self, template: str) -> None:
        self.template = template
        self._ready: queue.Queue[str | BaseException] = queue.Queue()
        self._work: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="spare-databases", daemon=True)
        self._thread.start()
        self._make_next()

    def _make_next(self) -> None:
        self._work.put(("create", f"fuquan_t_{os.getpid()}_{next(_counter)}"))

    def _run(self) -> None:
        while (job := self._work.get()) is not None:
            verb, name = job
            try:
                if verb == "create":
                    asyncio.run(_admin_execute(f"CREATE DATABASE {name} TEMPLATE {self.template}"))
                    self._ready.put(name)
                else:
                    asyncio.run(_admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            except BaseException as error:  # the waiting test fails with it
                self._ready.put(error)

    def take(self) -> str:
        found = self._ready.get(timeout=300)
        if isinstance(found, BaseException):
            raise found
        self._make_next()
        return found

    def give_back(self, name: str) -> None:
        self._work.put(("drop", name))

    def close(self) -> None:
        self._work.put(None)
        self._thread.join()
        while not self._ready.empty():
            left = self._ready.get()
            if isinstance(left, str):
                asyncio.run(_admin_execute(f"DROP DATABASE IF EXISTS {left} WITH (FORCE)"))


@pytest.fixture(scope="session")
def spare_databases(seeded_templates: dict[str, str]) -> Iterator[_SpareDatabases | None]:
    spares = _SpareDatabases(seeded_templates["postgresql"]) if PG_URL else None
    yield spares
    if spares is not None:
        spares.close()


@pytest.fixture
def database_url(
    backend: str, seeded_templates: dict[str, str], spare_databases: _SpareDatabases | None, tmp_path: Path
) -> Iterator[str]:
    """A private copy of the seeded database for one test."""
    if backend == "sqlite":
        target = tmp_path / "fuquan.db"
        shutil.copyfile(seeded_templates["sqlite"], target)
        yield sqlite_url(target)
        return
    assert spare_databases is not None
    name = spare_databases.take()
    yield _pg_database_url(name)
    spare_databases.give_back(name)


@pytest.fixture
def settings(database_url: str, backend: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret-key",
        master_key=TEST_MASTER_KEY,
        audit_key=TEST_AUDIT_KEY,
        redis_url=REDIS_URL if backend == "postgresql" else None,
        redis_namespace=f"fuquan-test-{os.getpid()}-{next(_counter)}",
        log_json=True,
        login_attempts_per_minute=10_000,  # tests log in often; test_auth narrows it on purpose
        gc_freeze=False,  # process-wide: one test process builds hundreds of apps
        # the tests run the warning and tier jobs themselves: the app's own runs (one slot a day) keep out of the way
        warning_job_seconds=86_400.0,
    )


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Any]:
    from litestar.testing import AsyncTestClient

    from fuquan.platform.app.factory import create_app

    app = create_app(settings)
    async with AsyncTestClient(app=app) as test_client:
        yield test_client
    # Redis keys live under a namespace unique to the test and expire by themselves.


# contract and fuzz tests (tests/contract): how many examples each operation or page gets. The suite (CI) runs a
# bounded number; a nightly-style run selects those tests with ``-m slow`` and gets many more;
# ``FUQUAN_CONTRACT_EXAMPLES`` overrides both.
CI_EXAMPLES = 15
SLOW_EXAMPLES = 500


@pytest.fixture
def examples(request: pytest.FixtureRequest) -> int:
    """Examples per operation or page: many when the run selects the slow tests on purpose (``-m slow``)."""
    override = os.environ.get("FUQUAN_CONTRACT_EXAMPLES")
    if override:
        return int(override)
    expression = request.config.getoption("markexpr", "") or ""
    return SLOW_EXAMPLES if "slow" in expression and "not slow" not in expression else CI_EXAMPLES
