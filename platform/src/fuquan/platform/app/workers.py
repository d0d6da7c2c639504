"""Several worker processes on one port (``fuquan serve --workers N``), each on its own listening socket.

uvicorn's supervisor gives every worker the same socket; whichever worker wakes first then accepts a whole
burst of new connections, and with keep-alive clients (a load balancer, an ingress) the others stay idle —
measured here, two workers served authority checks no faster than one. Each worker here listens on its own
``SO_REUSEPORT`` socket bound to the same address, so the kernel spreads connections over the workers evenly.
uvicorn's supervisor is kept for everything else (signals, health checks, replacing a dead worker); a
replacement takes over its predecessor's socket, so no socket is ever left without a worker.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from typing import Any

from uvicorn import Config
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process, logger

APP_FACTORY = "fuquan.platform.app.factory:create_app"


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        logger.error(error)
        sys.exit(STARTUP_FAILURE)
    sock.set_inheritable(True)
    return sock


class _SocketPerWorker(Multiprocess):
    """uvicorn's supervisor, with worker ``i`` always serving socket ``i``."""

    def _process(self, index: int) -> Process:
        return Process(self.config, [self.sockets[index]])

    def init_processes(self) -> None:
        for index in range(self.processes_num):
            process = self._process(index)
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        for index, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(index)
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                new.kill()
                new.join()
                return
            old.terminate()
            old.join()
            self.processes[index] = new

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for index, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"Child process [{process.pid}] failed to start, stopping the parent process.")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.info(f"Child process [{process.pid}] died")
            replacement = self._process(index)
            replacement.start()
            self.processes[index] = replacement


def server_options(trusted_proxies: str) -> dict[str, Any]:
    """uvicorn's handling of X-Forwarded-For: believed from ``FUQUAN_TRUSTED_PROXIES`` only (addresses or networks),
    ignored altogether when none is named — uvicorn's own default would believe any local process. And no
    ``Server: uvicorn`` header: what the server runs on is nobody's business (an assessor's probe noted it)."""
    trusted = ",".join(part.strip() for part in trusted_proxies.split(",") if part.strip())
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted, "server_header": False}


def serve_workers(host: str, port: int, workers: int, trusted_proxies: str = "") -> None:
    """Serve the app with ``workers`` processes, each building its own app from the FUQUAN_* environment."""
    config = Config(APP_FACTORY, factory=True, host=host, port=port, workers=workers, log_config=None,
                    access_log=False, **server_options(trusted_proxies))  # fmt: skip
    sockets = [reuse_port_socket(host, port) for _ in range(workers)]
    for sock in sockets:
        sock.listen(config.backlog)
    # Prometheus: each worker writes its figures here, and whichever worker is scraped answers for all of them
    own_metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix="fuquan-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    try:
        _SocketPerWorker(config, sockets).run()
    finally:
        for sock in sockets:
            sock.close()
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
