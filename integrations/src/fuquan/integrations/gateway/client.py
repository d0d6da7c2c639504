"""The signed client of one partner's gateway, with its resilience (DESIGN §8).

One ``GatewayClient`` per tenant and partner, each with its own ``httpx.AsyncClient`` and
connection limit, bulkhead and circuit breaker, so that one slow or failing partner never uses up
what the others need. A call goes::

    cache (cacheable services only) → circuit breaker → bulkhead → attempts (retried for reads)

Each attempt signs the request anew — fresh ``X-Timestamp`` and ``X-Nonce`` — so that a retry is
never rejected as a replay; the body is serialised once, so every attempt sends the same bytes and
the reply's ``request_hash`` is the SM3 of exactly those bytes.

Retries: only when ``read=True``, only for ``retryable`` errors (``PartnerFailed``,
``PartnerTimeout``, ``PartnerUnreachable``), at most ``endpoint.retries`` extra attempts with
jittered exponential backoff (``stamina``). The breaker records one outcome per call, after its
retries: ``failure_threshold`` failed *calls* open it, however many attempts each made.

Logs (``partner_call_succeeded`` / ``partner_call_failed``) carry the partner, service, code,
attempts, elapsed time, purpose and request id — never the body, the partner's ``msg`` or the
secret.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import msgspec
import stamina
import structlog
from prometheus_client import Counter

from fuquan.integrations.gateway.cache import DEFAULT_TTL_SECONDS, CachedReply, Freshness, ResponseCache, freshness_of
from fuquan.integrations.gateway.endpoints import CallContext, GatewayReply, PartnerEndpoint, new_request_id
from fuquan.integrations.gateway.errors import (
    PartnerError,
    PartnerFailed,
    PartnerNotFound,
    PartnerRateLimited,
    PartnerRejected,
    PartnerTimeout,
    PartnerUnreachable,
)
from fuquan.integrations.gateway.protocol import HEADER_REQUEST_ID, Envelope, ResultCode, new_nonce, sign
from fuquan.integrations.gateway.resilience import Bulkhead, CircuitBreaker
from fuquan.integrations.partners.schemas import Partner
from fuquan.platform.core.crypto import sm3_hex

__all__ = ["GatewayClient"]

log = structlog.get_logger()

# what operators watch per partner (GET /metrics): every call's outcome, "cached" for answers from the cache
PARTNER_CALLS = Counter(
    "fuquan_partner_calls", "Calls to partner gateways by outcome", ["partner", "service", "outcome"]
)

METHOD = "POST"
RETRY_WAIT_INITIAL = 0.05
RETRY_WAIT_MAX = 0.4
RETRY_WAIT_JITTER = 0.1

_REJECTED = {ResultCode.BAD_REQUEST, ResultCode.AUTH_FAILED, ResultCode.FORBIDDEN}


def _is_retryable(error: Exception) -> bool:
    return isinstance(error, PartnerError) and error.retryable


class GatewayClient:
    def __init__(
        self,
        endpoint: PartnerEndpoint,
        *,
        cache: ResponseCache | None = None,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        tenant: str | None = None,
    ) -> None:
        """``clock`` gives the signature's timestamp and ``fetched_at``; ``monotonic`` drives the
        breaker; ``transport`` replaces the network in tests; ``tenant`` only labels the logs."""
        self.endpoint = endpoint
        self.tenant = tenant
        self._cache = cache
        self._clock = clock
        self.breaker = CircuitBreaker(
            endpoint.failure_threshold, endpoint.reset_after_seconds, monotonic, partner=endpoint.partner, tenant=tenant
        )
        self.bulkhead = Bulkhead(
            endpoint.max_concurrent, endpoint.max_wait_seconds, partner=endpoint.partner, tenant=tenant
        )
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url,
            timeout=httpx.Timeout(endpoint.timeout_seconds),
            limits=httpx.Limits(max_connections=endpoint.max_connections),
            transport=transport,
        )
        self._active = 0
        self._retired = False
        self._closing: asyncio.Task[None] | None = None

    @property
    def partner(self) -> Partner:
        return self.endpoint.partner

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def call(
        self,
        service: str,
        path: str,
        body: msgspec.Struct | dict[str, Any],
        ctx: CallContext,
        *,
        freshness: Freshness = "live",
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        read: bool = True,
        not_found_is_reply: bool = False,
    ) -> GatewayReply:
        """POST ``body`` to ``path``; the reply, or a ``PartnerError``.

        ``freshness="cacheable"`` serves and stores the answer in the cache, but only for the
        services of the cacheable class (``cache.CACHEABLE_SERVICES``): a live service is never
        cached whatever the caller says. ``read=False`` (a call that changes something) is never
        retried. ``not_found_is_reply=True`` returns code ``"10"`` as a reply instead of raising
        ``PartnerNotFound``.
        """
        self._active += 1
        try:
            return await self._call(service, path, body, ctx, freshness, ttl_seconds, read, not_found_is_reply)
        finally:
            self._active -= 1
            if self._retired and self._active == 0:
                with anyio.CancelScope(shield=True):  # even when the last call was cancelled
                    await self._http.aclose()

    async def _call(
        self,
        service: str,
        path: str,
        body: msgspec.Struct | dict[str, Any],
        ctx: CallContext,
        freshness: Freshness,
        ttl_seconds: int,
        read: bool,
        not_found_is_reply: bool,
    ) -> GatewayReply:
        started = time.perf_counter()
        request_id = ctx.request_id or new_request_id()
        if self.closed:  # a retired client someone still held
            raise PartnerUnreachable(partner=self.partner, service=service, message="该部门的接口配置刚刚变更，请重试")
        payload = msgspec.json.encode(body)  # once: every attempt sends these bytes
        cache_key: str | None = None
        if self._cache is not None and freshness == "cacheable" and freshness_of(self.partner, service) == "cacheable":
            cache_key = self._cache.key(
                self.partner, path, payload, scope=f"{self.endpoint.base_url}|{self.endpoint.app_key}"
            )
            hit = await self._cache.get(cache_key)
            if hit is not None:
                reply = GatewayReply(
                    data=hit.data,
                    code=hit.code,
                    msg=hit.msg,
                    request_id=hit.request_id,
                    fetched_at=hit.fetched_at,
                    request_hash=hit.request_hash,
                    response_hash=hit.response_hash,
                    attempts=0,
                    cached=True,
                    elapsed_ms=_elapsed_ms(started),
                )
                self._log_success(service, reply, ctx, request_id)
                PARTNER_CALLS.labels(self.partner, service, "cached").inc()
                return reply

        attempts = 0
        failed_attempts = 0

        async def attempt() -> GatewayReply:
            nonlocal attempts, failed_attempts
            attempts += 1
            try:
                return await self._attempt(
                    service, path, payload, ctx, request_id, started, attempts, not_found_is_reply
                )
            except PartnerError as error:
                failed_attempts += error.counts_as_failure
                raise

        async def attempts_with_retries() -> GatewayReply:
            async with self.bulkhead.slot(service=service):
                if not read or self.endpoint.retries == 0:
                    return await attempt()
                async for retry in stamina.retry_context(
                    on=_is_retryable,
                    attempts=1 + self.endpoint.retries,
                    wait_initial=RETRY_WAIT_INITIAL,
                    wait_max=RETRY_WAIT_MAX,
                    wait_jitter=RETRY_WAIT_JITTER,
                    timeout=(self.endpoint.timeout_seconds + RETRY_WAIT_MAX + RETRY_WAIT_JITTER)
                    * (1 + self.endpoint.retries),
                ):
                    with retry:
                        return await attempt()
                raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover

        try:
            reply = await self.breaker.call(
                attempts_with_retries, service=service, failed_so_far=lambda: failed_attempts > 0
            )
        except PartnerError as error:
            error.attempts = attempts
            log_fields = self._log_fields(service, ctx, request_id, error.code, attempts, started)
            log.warning("partner_call_failed", kind=error.kind, http_status=error.http_status, **log_fields)
            PARTNER_CALLS.labels(self.partner, service, error.kind).inc()
            raise
        if cache_key is not None and self._cache is not None and reply.code == ResultCode.OK:
            await self._cache.set(
                cache_key,
                CachedReply(
                    data=reply.data,
                    code=reply.code,
                    msg=reply.msg,
                    request_id=reply.request_id,
                    fetched_at=reply.fetched_at,
                    request_hash=reply.request_hash,
                    response_hash=reply.response_hash,
                ),
                ttl_seconds,
            )
        self._log_success(service, reply, ctx, request_id)
        PARTNER_CALLS.labels(self.partner, service, "ok").inc()
        return reply

    async def _attempt(
        self,
        service: str,
        path: str,
        payload: bytes,
        ctx: CallContext,
        request_id: str,
        started: float,
        attempts: int,
        not_found_is_reply: bool,
    ) -> GatewayReply:
        """One signed POST, its envelope decoded and its code mapped.

        The signature covers the path as it goes on the wire: ``path`` under the base URL's own
        path, if it has one (a gateway mounted under a prefix verifies what it receives).
        """
        endpoint = self.endpoint
        request = self._http.build_request(METHOD, path, content=payload, headers={"Content-Type": "application/json"})
        signed = sign(
            endpoint.secret,
            METHOD,
            request.url.path,
            payload,
            app_key=endpoint.app_key,
            timestamp=int(self._clock()),
            nonce=new_nonce(),
            request_id=request_id,
            purpose=ctx.purpose,
            user_id=ctx.user_id,
        )
        request.headers.update(signed.as_dict())
        partner, timeout = endpoint.partner, endpoint.timeout_seconds
        response: httpx.Response | None = None
        try:
            # httpx's timeout bounds each phase; this bounds the whole exchange
            with anyio.move_on_after(timeout):
                response = await self._http.send(request)
        except httpx.TimeoutException as error:
            raise PartnerTimeout(partner=partner, service=service) from error
        except (httpx.ConnectError, httpx.NetworkError) as error:
            raise PartnerUnreachable(partner=partner, service=service) from error
        except httpx.TransportError as error:  # protocol errors: the partner misbehaved
            raise PartnerFailed(partner=partner, service=service, message="对方系统的应答不符合通信协议") from error
        if response is None:
            raise PartnerTimeout(partner=partner, service=service)
        fetched_at = datetime.fromtimestamp(self._clock(), UTC)
        content = response.content
        status = response.status_code
        try:
            envelope = msgspec.json.decode(content, type=Envelope)
        except msgspec.DecodeError as error:
            message = f"对方系统异常（HTTP {status}），请稍后再试" if status >= 500 else None
            raise PartnerFailed(partner=partner, service=service, message=message, http_status=status) from error
        code = envelope.code
        if code == ResultCode.OK and status < 300:
            return self._reply(envelope, response, request_id, fetched_at, payload, content, attempts, started)
        if code == ResultCode.NOT_FOUND:
            if not_found_is_reply:
                return self._reply(envelope, response, request_id, fetched_at, payload, content, attempts, started)
            raise PartnerNotFound(partner=partner, service=service, code=code, http_status=status)
        if code in _REJECTED:
            raise PartnerRejected(partner=partner, service=service, code=code, http_status=status)
        if code == ResultCode.RATE_LIMITED:
            raise PartnerRateLimited(partner=partner, service=service, code=code, http_status=status)
        # "50"/"51", an unknown code, or "00" with an error status
        raise PartnerFailed(partner=partner, service=service, code=code, http_status=status)

    @staticmethod
    def _reply(
        envelope: Envelope,
        response: httpx.Response,
        request_id: str,
        fetched_at: datetime,
        payload: bytes,
        content: bytes,
        attempts: int,
        started: float,
    ) -> GatewayReply:
        return GatewayReply(
            data=envelope.data,
            code=envelope.code,
            msg=envelope.msg,
            request_id=response.headers.get(HEADER_REQUEST_ID) or request_id,
            fetched_at=fetched_at,
            request_hash=sm3_hex(payload),
            response_hash=sm3_hex(content),
            attempts=attempts,
            elapsed_ms=_elapsed_ms(started),
        )

    def _log_fields(
        self, service: str, ctx: CallContext, request_id: str, code: str | None, attempts: int, started: float
    ) -> dict[str, Any]:
        return {
            "partner": self.partner,
            "tenant": self.tenant,
            "service": service,
            "code": code,
            "attempts": attempts,
            "elapsed_ms": _elapsed_ms(started),
            "purpose": ctx.purpose,
            "request_id": request_id,
        }

    def _log_success(self, service: str, reply: GatewayReply, ctx: CallContext, request_id: str) -> None:
        log.info(
            "partner_call_succeeded",
            partner=self.partner,
            tenant=self.tenant,
            service=service,
            code=reply.code,
            attempts=reply.attempts,
            elapsed_ms=reply.elapsed_ms,
            purpose=ctx.purpose,
            request_id=request_id,
            cached=reply.cached,
        )

    def retire(self) -> None:
        """Replaced by a client with a new configuration: close once the calls in flight are done."""
        self._retired = True
        if self._active == 0 and not self.closed:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop: the pool closes it in ``aclose``
            self._closing = loop.create_task(self._http.aclose())

    async def aclose(self) -> None:
        await self._http.aclose()


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
