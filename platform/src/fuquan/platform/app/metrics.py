"""``GET /metrics`` for Prometheus: requests by route template and status and their latency (Litestar's
middleware), and the authority policy each process serves.

Served only when ``FUQUAN_METRICS_TOKEN`` is set, and only to a scraper presenting it
(``Authorization: Bearer …``, as Prometheus's ``authorization`` setting sends it): the figures name tenants
and routes, which is nothing to publish. With ``fuquan serve --workers N`` every worker writes its figures
to ``PROMETHEUS_MULTIPROC_DIR`` and any one of them answers for all.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from litestar import Response, get
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController, PrometheusMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from fuquan.authority.registry import AuthorityRegistry

METRICS_PATH = "/metrics"

_SPAN: ContextVar[dict[str, float]] = ContextVar("fuquan_metrics_span")


class _Middleware(PrometheusMiddleware):
    """Litestar's, counting a request refused by an exception (a 401 from the authentication middleware, a
    domain error) with the status it is answered with: the exception handler answers it outside this
    middleware, which would otherwise count it as 200."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        inner = self.app

        async def counted(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await inner(scope, receive, send)
            except Exception as error:
                span = _SPAN.get(None)
                if span is not None:
                    span["status_code"] = _status_of(error)
                    span["duration"] = time.perf_counter() - span["start_time"]
                raise

        self.app = counted

    def _get_wrapped_send(self, send: Send, request_span: dict[str, float]) -> Callable[..., Any]:
        _SPAN.set(request_span)
        return super()._get_wrapped_send(send, request_span)


def _status_of(error: Exception) -> int:
    if isinstance(error, HTTPException):
        return error.status_code
    status = getattr(error, "status", None)  # FuquanError
    return status if isinstance(status, int) else 500


PROMETHEUS = PrometheusConfig(
    middleware_class=_Middleware,
    app_name="fuquan",
    prefix="fuquan",
    group_path=True,  # the route template (/api/v1/cases/{case_id:int}), never one series per case
    exclude=[f"^{METRICS_PATH}", "^/health", "^/ready", "^/static"],
    exclude_unhandled_paths=True,  # a scan of random paths must not create a series per path
)


class PolicyCollector(Collector):
    """Read at scrape time from the registry: nothing is counted on the decision path."""

    def __init__(self, registry: AuthorityRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterator[GaugeMetricFamily]:
        loaded = GaugeMetricFamily(
            "fuquan_policy_version", "Authority policy version this process serves", labels=["tenant"]
        )
        behind = GaugeMetricFamily(
            "fuquan_policy_versions_behind",
            "Committed policy versions this process has not applied yet",
            labels=["tenant"],
        )
        for tenant, version, newest in self._registry.policy_states():
            loaded.add_metric([tenant], version)
            behind.add_metric([tenant], newest - version)
        yield loaded
        yield behind
        yield GaugeMetricFamily("fuquan_policy_rebuilds", "Full policy loads since the process started",
                                value=self._registry.rebuilds)  # fmt: skip


_collectors: dict[int, PolicyCollector] = {}


def register_policy_metrics(registry: AuthorityRegistry) -> PolicyCollector:
    """The app's collector, registered once per process (a test builds many apps: the newest one counts)."""
    for old in _collectors.values():
        REGISTRY.unregister(old)
    _collectors.clear()
    collector = _collectors[id(registry)] = PolicyCollector(registry)
    REGISTRY.register(collector)
    return collector


async def scraper_only(connection: ASGIConnection[Any, Any, Any, Any], _handler: BaseRouteHandler) -> None:
    token = connection.app.state["settings"].metrics_token
    if not token:
        raise NotFoundException()  # metrics are off until an operator sets FUQUAN_METRICS_TOKEN
    presented = connection.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(presented.encode(), str(token).encode()):
        raise NotAuthorizedException("需要监控采集令牌（FUQUAN_METRICS_TOKEN）")


class MetricsController(PrometheusController):
    path = METRICS_PATH
    include_in_schema = False
    guards = [scraper_only]
    opt = {"public": True, "exclude_from_auth": True}  # guarded by its own token, not a staff login

    @get()
    async def get(self) -> Response:
        registry: CollectorRegistry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            for collector in _collectors.values():  # the same in every worker: this one's will do
                registry.register(collector)
        return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
