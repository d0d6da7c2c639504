"""One partner department as a real HTTP service speaking the gateway protocol (DESIGN §8).

Every service path of ``SERVICES[partner]`` takes a signed ``POST`` with a JSON body and answers the
``Envelope`` with the HTTP status of its code. Checks, in order: the signing headers are present,
the app key is known, the timestamp is within ±300 s, the signature covers the exact body and path,
the nonce is unused, the purpose and the acting user are given, the rate limit (if set) holds, the
body decodes into the service's request. Then the fault controls (down, latency, failure rate),
then the answer from the synthetic population.

The unsigned control API on the same server: ``GET /_sim/health``, ``GET|POST /_sim/control``,
``POST /_sim/reset``, ``GET /_sim/stats``. Logs never contain names or ID numbers.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

import anyio
import msgspec
import structlog
from litestar import Litestar, MediaType, Request, Response, get, post

from fuquan.integrations.gateway.protocol import (
    HEADER_REQUEST_ID,
    HTTP_STATUS,
    Envelope,
    Refused,
    ResultCode,
    verify_call,
)
from fuquan.integrations.partners.schemas import SERVICES, Partner
from fuquan.integrations.simulators.answers import Answer, request_type
from fuquan.integrations.simulators.control import ControlUpdate, SimulatorState
from fuquan.integrations.simulators.population import Population

__all__ = ["CONTROL_PREFIX", "create_simulator_app"]

log = structlog.get_logger()

CONTROL_PREFIX = "/_sim"
# stats keys of the answered codes
_ANSWERED = {code: code.name.lower() for code in ResultCode}


def _envelope(answer: Answer, request_id: str) -> Response[bytes]:
    content = msgspec.json.encode(Envelope(code=answer.code.value, msg=answer.msg, data=answer.data))
    return Response(
        content,
        status_code=HTTP_STATUS[answer.code],
        media_type=MediaType.JSON,
        headers={HEADER_REQUEST_ID: request_id},
    )


def _json(payload: Any, status_code: int = 200) -> Response[bytes]:
    return Response(msgspec.json.encode(payload), status_code=status_code, media_type=MediaType.JSON)


class _Simulator:
    """The gateway side of one partner: verification, fault controls, answers."""

    def __init__(
        self, partner: Partner, population: Population, credentials: Mapping[str, str], clock: Callable[[], float]
    ) -> None:
        self.partner = partner
        self.population = population
        self.secrets = dict(credentials)
        self.clock = clock
        self.services = {path: name for name, path in SERVICES[partner].items()}
        self.state = SimulatorState(partner, clock)

    async def verify(self, request: Request[Any, Any, Any], path: str, body: bytes) -> str:
        """The protocol's checks (``verify_call``, shared with Fuquan's own data-sharing API), then this
        simulator's rate limit; returns the app key or raises ``Refused``."""

        async def secret_of(app_key: str) -> str | None:
            return self.secrets.get(app_key)

        async def use_nonce(app_key: str, nonce: str) -> bool:
            return self.state.use_nonce(app_key, nonce)

        call = await verify_call(request.headers, request.method, path, body, now=self.clock(),
                                 secret_of=secret_of, use_nonce=use_nonce)  # fmt: skip
        if not self.state.within_rate_limit(call.app_key):
            raise Refused("rate_limited", ResultCode.RATE_LIMITED, "调用过于频繁，请稍后再试")
        return call.app_key

    async def handle(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        state, partner = self.state, self.partner
        path = request.scope["path"]
        service = self.services[path]
        request_id = request.headers.get(HEADER_REQUEST_ID, "").strip() or f"sim-{secrets.token_hex(8)}"
        state.calls[service] += 1
        body = await request.body()
        try:
            await self.verify(request, path, body)
            try:
                query = msgspec.json.decode(body, type=request_type(service))
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                raise Refused("bad_body", ResultCode.BAD_REQUEST, f"请求参数不正确：{error}") from None
        except Refused as rejected:
            state.rejected[rejected.reason] += 1
            log.info("simulator_rejected", partner=partner, service=service, reason=rejected.reason)
            return _envelope(Answer(rejected.code, rejected.msg), request_id)

        settings = state.settings
        if settings.down:
            state.injected["down"] += 1
            return _envelope(Answer(ResultCode.UNAVAILABLE, "服务维护中"), request_id)
        if settings.latency_ms > 0:
            state.injected["latency"] += 1
            await anyio.sleep(settings.latency_ms / 1000)
        if state.inject_failure():
            state.injected["failure"] += 1
            return _envelope(Answer(ResultCode.INTERNAL_ERROR, "系统内部错误（模拟故障）"), request_id)
        try:
            answer = self.population.answer(partner, service, query)
        except Exception:  # a bug in the simulator: answer like a gateway would, log without data
            log.exception("simulator_error", partner=partner, service=service)
            answer = Answer(ResultCode.INTERNAL_ERROR, "系统内部错误")
        state.answered[_ANSWERED[answer.code]] += 1
        return _envelope(answer, request_id)


def create_simulator_app(
    partner: Partner,
    population: Population,
    credentials: Mapping[str, str],
    clock: Callable[[], float] = time.time,
) -> Litestar:
    """The Litestar app of ``partner``'s simulator; ``credentials`` maps app keys to their secrets.

    ``app.state.simulator`` is the ``SimulatorState`` (settings and statistics).
    """
    simulator = _Simulator(partner, population, credentials, clock)
    state = simulator.state

    @post(list(simulator.services), status_code=200, name="gateway")
    async def gateway(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await simulator.handle(request)

    @get(f"{CONTROL_PREFIX}/health", name="health")
    async def health() -> Response[bytes]:
        return _json({"status": "ok", "partner": partner})

    @get(f"{CONTROL_PREFIX}/control", name="get_control")
    async def get_control() -> Response[bytes]:
        return _json(state.settings)

    @post(f"{CONTROL_PREFIX}/control", name="set_control", status_code=200)
    async def set_control(request: Request[Any, Any, Any]) -> Response[bytes]:
        try:
            update = msgspec.json.decode(await request.body(), type=ControlUpdate)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            return _json({"error": str(error)}, status_code=400)
        settings = state.apply(update)
        log.info("simulator_control", partner=partner, **msgspec.structs.asdict(settings))
        return _json(settings)

    @post(f"{CONTROL_PREFIX}/reset", name="reset", status_code=200)
    async def reset() -> Response[bytes]:
        state.reset()
        return _json(state.settings)

    @get(f"{CONTROL_PREFIX}/stats", name="stats")
    async def stats() -> Response[bytes]:
        return _json(state.stats())

    app = Litestar(
        route_handlers=[gateway, health, get_control, set_control, reset, stats],
        openapi_config=None,
        logging_config=None,
    )
    app.state.simulator = state
    return app
