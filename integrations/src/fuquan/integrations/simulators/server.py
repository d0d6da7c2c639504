"""Running the partner simulators: in a background thread for tests and the demo, or in the
foreground for ``fuquan simulate``.

Each partner is its own uvicorn server on its own port, all on one event loop. Credentials are one
app key per partner (``app_key_for``) whose secret is derived from one configured secret
(``derived_secret``), so the client side can be configured from the same secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import structlog
import uvicorn
from litestar import Litestar

from fuquan.integrations.partners.schemas import PARTNERS, Partner
from fuquan.integrations.simulators.app import CONTROL_PREFIX, create_simulator_app
from fuquan.integrations.simulators.control import SimulatorState
from fuquan.integrations.simulators.population import (
    DEFAULT_HOUSEHOLDS,
    DEFAULT_SEED,
    Population,
    build_population,
)
from fuquan.platform.core.crypto import hmac_sm3_hex

__all__ = [
    "DEFAULT_BASE_PORT",
    "RunningSimulators",
    "SimulatorConfig",
    "app_key_for",
    "default_credentials",
    "derived_secret",
    "running_simulators",
    "serve_simulators",
]

log = structlog.get_logger()

DEFAULT_BASE_PORT = 8701
_START_TIMEOUT_SECONDS = 10.0
_STOP_TIMEOUT_SECONDS = 10.0


def app_key_for(partner: str) -> str:
    """The app key Fuquan presents to ``partner``: ``fuquan-{partner}``."""
    return f"fuquan-{partner}"


def derived_secret(secret: str, partner: str) -> str:
    """The per-partner signing secret: hex HMAC-SM3 keyed with ``secret`` over the partner's name."""
    return hmac_sm3_hex(secret.encode(), partner.encode())


def default_credentials(secret: str) -> dict[str, str]:
    """App key → secret for every partner, all derived from one ``secret``."""
    return {app_key_for(partner): derived_secret(secret, partner) for partner in PARTNERS}


@dataclass(frozen=True, kw_only=True)
class SimulatorConfig:
    """How ``serve_simulators`` runs: partner ``i`` of ``PARTNERS`` listens on ``base_port + i``."""

    credentials: Mapping[str, str]
    host: str = "127.0.0.1"
    base_port: int = DEFAULT_BASE_PORT
    seed: int = DEFAULT_SEED
    households: int = DEFAULT_HOUSEHOLDS


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us (several servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it every response waits ~40 ms for a delayed ACK between headers and body.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def _server(app: Litestar) -> _Server:
    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
        timeout_graceful_shutdown=2,
    )
    return _Server(config)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _bind_all(host: str, ports: Mapping[Partner, int]) -> dict[Partner, socket.socket]:
    sockets: dict[Partner, socket.socket] = {}
    try:
        for partner, port in ports.items():
            sockets[partner] = _bind(host, port)
    except OSError:
        for sock in sockets.values():
            sock.close()
        raise
    return sockets


@dataclass
class RunningSimulators:
    """The simulators started by ``running_simulators``: their URLs and their control API."""

    host: str
    ports: dict[Partner, int]
    population: Population
    apps: dict[Partner, Litestar] = field(repr=False)
    _client: httpx.Client | None = field(default=None, repr=False)

    def url(self, partner: str) -> str:
        """``http://127.0.0.1:PORT`` of the partner's simulator."""
        return _url(self.host, self.ports[partner])  # type: ignore[index]

    def state(self, partner: str) -> SimulatorState:
        """The simulator's live state (settings, counters); prefer ``control``/``stats`` over HTTP."""
        state: SimulatorState = self.apps[partner].state.simulator  # type: ignore[index]
        return state

    def _call(self, method: str, partner: str, endpoint: str, payload: Any = None) -> Any:
        if self._client is None:
            self._client = httpx.Client(trust_env=False, timeout=5.0)
        response = self._client.request(method, f"{self.url(partner)}{CONTROL_PREFIX}/{endpoint}", json=payload)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def control(self, partner: str, **settings: Any) -> dict[str, Any]:
        """Change fault settings (``latency_ms``, ``failure_rate``, ``down``, ``rate_limit_per_second``)."""
        result: dict[str, Any] = self._call("POST", partner, "control", settings)
        return result

    def reset(self, partner: str | None = None) -> None:
        """Default settings and zero counters, for one partner or all of them."""
        for name in [partner] if partner else list(self.ports):
            self._call("POST", name, "reset")

    def stats(self, partner: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", partner, "stats")
        return result


class _ServerThread(threading.Thread):
    """One thread, one event loop, one uvicorn server per partner."""

    def __init__(self, servers: list[tuple[_Server, socket.socket]]) -> None:
        super().__init__(name="fuquan-simulators", daemon=True)
        self.servers = servers
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # reported by the waiting thread
            self.error = error

    async def _serve(self) -> None:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in self.servers))

    def started(self) -> bool:
        return all(server.started for server, _ in self.servers)

    def stop(self) -> None:
        for server, _ in self.servers:
            server.should_exit = True
        self.join(_STOP_TIMEOUT_SECONDS)
        if self.is_alive():
            for server, _ in self.servers:
                server.force_exit = True
            self.join(_STOP_TIMEOUT_SECONDS)
        for _, sock in self.servers:
            sock.close()


@contextlib.contextmanager
def running_simulators(
    credentials: Mapping[str, str],
    host: str = "127.0.0.1",
    base_port: int = 0,
    *,
    population: Population | None = None,
    seed: int = DEFAULT_SEED,
    clock: Callable[[], float] = time.time,
) -> Iterator[RunningSimulators]:
    """Every partner's simulator listening on ``host`` until the block ends.

    ``base_port=0`` gives each a free port; otherwise partner ``i`` listens on ``base_port + i``.
    """
    population = population or build_population(seed)
    apps = {partner: create_simulator_app(partner, population, credentials, clock) for partner in PARTNERS}
    ports = {partner: base_port + i if base_port else 0 for i, partner in enumerate(PARTNERS)}
    sockets = _bind_all(host, ports)
    thread = _ServerThread([(_server(apps[partner]), sockets[partner]) for partner in PARTNERS])
    thread.start()
    try:
        deadline = time.monotonic() + _START_TIMEOUT_SECONDS
        while not thread.started():
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the partner simulators did not start") from thread.error
            time.sleep(0.01)
        running = RunningSimulators(
            host=host,
            ports={partner: sock.getsockname()[1] for partner, sock in sockets.items()},
            population=population,
            apps=apps,
        )
        try:
            yield running
        finally:
            running.close()
    finally:
        thread.stop()


async def serve_simulators(config: SimulatorConfig) -> None:
    """Serve every partner's simulator in the foreground until SIGINT/SIGTERM (``fuquan simulate``)."""
    population = build_population(config.seed, config.households)
    ports = {partner: config.base_port + i if config.base_port else 0 for i, partner in enumerate(PARTNERS)}
    sockets = _bind_all(config.host, ports)
    servers: list[tuple[_Server, socket.socket]] = []
    for partner in PARTNERS:
        app = create_simulator_app(partner, population, config.credentials)
        servers.append((_server(app), sockets[partner]))
        url = _url(config.host, sockets[partner].getsockname()[1])
        log.info("simulator_listening", partner=partner, url=url, app_key=app_key_for(partner))

    def stop() -> None:
        for server, _ in servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or Windows
            pass
    try:
        await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in servers))
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)
        for _, sock in servers:
            sock.close()
        log.info("simulators_stopped", population=repr(population))
