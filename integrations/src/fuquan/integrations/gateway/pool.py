"""The per-process pool of gateway clients, one per tenant and partner."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import structlog

from fuquan.integrations.gateway.cache import ResponseCache
from fuquan.integrations.gateway.client import GatewayClient
from fuquan.integrations.gateway.endpoints import PartnerEndpoint

log = structlog.get_logger()


class GatewayPool:
    """One ``GatewayClient`` per (tenant code, partner), built on first use and rebuilt when the
    endpoint's configuration changes (a new breaker and bulkhead: a new configuration starts afresh).
    The app holds one per process."""

    def __init__(
        self,
        *,
        cache: ResponseCache | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cache = cache
        self._transport = transport
        self._clock = clock
        self._monotonic = monotonic
        self._clients: dict[tuple[str, str], GatewayClient] = {}
        self._retired: list[GatewayClient] = []

    def client(self, tenant_code: str, endpoint: PartnerEndpoint) -> GatewayClient:
        key = (tenant_code, endpoint.partner)
        existing = self._clients.get(key)
        if existing is not None and existing.endpoint == endpoint:
            return existing
        if existing is not None:
            existing.retire()
            self._retired = [c for c in self._retired if not c.closed]
            self._retired.append(existing)
            log.info("partner_client_rebuilt", tenant=tenant_code, partner=endpoint.partner)
        client = GatewayClient(
            endpoint,
            cache=self.cache,
            clock=self._clock,
            transport=self._transport,
            monotonic=self._monotonic,
            tenant=tenant_code,
        )
        self._clients[key] = client
        return client

    def get(self, tenant_code: str, partner: str) -> GatewayClient | None:
        return self._clients.get((tenant_code, partner))

    def breaker_states(self) -> dict[tuple[str, str], str]:
        """(tenant code, partner) → ``closed`` / ``open`` / ``half_open``, for status pages."""
        return {key: client.breaker.state for key, client in self._clients.items()}

    async def aclose(self) -> None:
        clients = [*self._clients.values(), *self._retired]
        self._clients.clear()
        self._retired.clear()
        for client in clients:
            await client.aclose()
