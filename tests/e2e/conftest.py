"""Browser tests: Debian's Chromium, driven by Playwright's sync API, against the product served on loopback.

Run only these: ``python3 -m uv run pytest tests/e2e`` (``-m "not e2e"`` leaves them out). They need Debian's
``chromium`` and ``fonts-noto-cjk``: installed with apt-get while the demo servers start when the suite runs as
root (tests/prerequisites.py); otherwise every test fails naming the command, never skips. Playwright's own
browser download is never used.

The servers (see servers.py) start once per run, every backend at once: SQLite always, PostgreSQL when
``FUQUAN_TEST_DATABASE_URL`` is set. Preparing the demo data takes about a minute either way (the 300 demo
cases), and both run side by side, so the second backend costs only its tests' time. The journeys run on
both because the pages' list queries, paging and dates are where SQLite and PostgreSQL differ.

Screenshots: ``artifacts/screenshots/<name>-390.png`` and ``-1280.png`` (PostgreSQL's under
``artifacts/screenshots/postgresql/``), cleared at the start of each run; not committed.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from e2e.browser import DESKTOP, Snapper
from e2e.servers import DemoServer, drop_database, start_postgresql, start_sqlite
from prerequisites import ensure_debian_packages

CHROMIUM = "/usr/bin/chromium"
HERE = Path(__file__).parent
SCREENSHOTS = HERE.parents[1] / "artifacts" / "screenshots"
PG_URL = os.environ.get("FUQUAN_TEST_DATABASE_URL") or None
REDIS_URL = os.environ.get("FUQUAN_TEST_REDIS_URL") or None
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
BROWSER_PACKAGES = ["chromium", "fonts-noto-cjk"]
_WHY = "the browser tests"
_startup: dict[str, float] = {}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests ``e2e`` (before ``-m`` selects), so ``-m "not e2e"`` can leave them out, and keep
    them on one pytest-xdist worker (``--dist loadgroup``), so the demo servers start once."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("browser"))  # one worker: one set of demo servers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _startup:
        times = "; ".join(f"{backend} ready in {seconds:.1f} s" for backend, seconds in _startup.items())
        terminalreporter.write_line(f"e2e demo servers: {times}")


def _require_browser() -> None:
    ensure_debian_packages(BROWSER_PACKAGES, _WHY)
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{_WHY} need Debian's Chromium at {CHROMIUM}: apt-get install chromium", pytrace=False)


def _require_one_worker(request: pytest.FixtureRequest) -> None:
    """Under ``--dist loadgroup`` every browser test must carry the group suffix xdist adds to its node id;
    without it (pytest 9.2 with xdist 3.8: pytest-dev/pytest-xdist#1386) each worker would start its own
    servers, doubling the run and racing for ports. Fail loudly rather than go slow silently."""
    if not getattr(request.config.option, "loadgroup", False):
        return
    ungrouped = [item.nodeid for item in request.session.items if HERE in item.path.parents]
    ungrouped = [nodeid for nodeid in ungrouped if not nodeid.endswith("@browser")]
    if ungrouped:
        pytest.fail(f"pytest-xdist did not group the browser tests on one worker (e.g. {ungrouped[0]})", pytrace=False)


def _start(server: DemoServer) -> DemoServer:
    began = time.monotonic()
    if server.backend == "sqlite":
        start_sqlite(server)
    else:
        assert PG_URL
        start_postgresql(server, PG_URL, REDIS_URL)
    server.ready_seconds = _startup[server.backend] = time.monotonic() - began
    # under pytest-xdist a worker's terminal summary is not shown: the figure is kept beside the screenshots
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with (SCREENSHOTS / "servers.txt").open("a") as figures:
        figures.write(f"{server.backend} demo server ready in {server.ready_seconds:.1f} s\n")
    return server


@pytest.fixture(scope="session")
def demo_servers(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, DemoServer]]:
    """Every backend the selected tests use, started in parallel (with the browser's installation when it is
    missing) and stopped at the end of the run."""
    _require_one_worker(request)
    wanted: set[str] = set()
    for item in request.session.items:  # only the backends of the selected tests (e.g. -k sqlite)
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("server") in BACKENDS:
            wanted.add(callspec.params["server"])
    wanted = wanted or {"sqlite"}
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    servers = {backend: DemoServer(backend, tmp_path_factory.mktemp(f"e2e-{backend}")) for backend in sorted(wanted)}
    try:
        with ThreadPoolExecutor(max_workers=len(servers) + 1) as pool:
            browser_ready = pool.submit(_require_browser)
            futures = {backend: pool.submit(_start, server) for backend, server in servers.items()}
            browser_ready.result()  # a missing browser fails the test here, naming what to install
            for backend, future in futures.items():
                try:
                    future.result()
                except Exception as error:
                    server = servers[backend]
                    pytest.fail(
                        f"the {backend} demo server did not start ({error}); its output ({server.log}):\n"
                        f"{server.log_tail()}",
                        pytrace=False,
                    )
        yield servers
    finally:
        for server in servers.values():
            server.stop()
            if server.backend == "postgresql" and PG_URL:
                drop_database(server, PG_URL)


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, demo_servers: dict[str, DemoServer]) -> DemoServer:
    """The demo served on one backend (tests run once per backend, like the integration tests)."""
    served = demo_servers[str(request.param)]
    dead = served.dead_process()
    if dead:
        pytest.fail(f"the {served.backend} demo server died: {dead}\n{served.log_tail()}", pytrace=False)
    return served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium per test module: Playwright's sync API keeps its own event loop, so none outlives the module
    (the anyio integration tests run theirs in the same thread)."""
    _require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, server: DemoServer) -> Iterator[BrowserContext]:
    """A fresh browser (no cookies) per test, in Chinese and China's time zone."""
    fresh = browser.new_context(
        base_url=server.url,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
        viewport=DESKTOP,
    )
    fresh.set_default_timeout(15_000)
    yield fresh
    fresh.close()


@pytest.fixture(scope="session")
def _snappers() -> dict[str, Snapper]:
    return {backend: Snapper(SCREENSHOTS if backend == "sqlite" else SCREENSHOTS / backend) for backend in BACKENDS}


@pytest.fixture
def snap(server: DemoServer, _snappers: dict[str, Snapper]) -> Snapper:
    """``snap(page, name)``: screenshots at 390 and 1280 px, failing on serious/critical axe violations,
    sideways scrolling on a phone, JavaScript errors or missing assets."""
    return _snappers[server.backend]


@pytest.fixture
def page(context: BrowserContext, snap: Snapper) -> Page:
    opened = context.new_page()
    snap.watch(opened)
    return opened
