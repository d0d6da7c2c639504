"""An SMS platform as a real HTTP service (``POST /sms/send``), for tests, the demo and ``fuquan bench sms``.

It checks what the platforms check — the signed request, an approved template code and signature name, every
parameter within its limits (no links, no full ID numbers), a mainland mobile number, the per-number frequency
limits — and remembers every message id, so a repeated id is answered with its first answer and never delivered
twice. Fault injection (``POST /_sim/sms/control``): ``failure_rate`` answers PROVIDER_ERROR without sending;
``lost_answer_rate`` sends and then loses the answer (the caller sees a 504 and must not cause a second SMS by
retrying); ``down`` answers 503. ``GET /_sim/sms/stats`` counts what was delivered; ``GET /_sim/sms/messages``
lists it (test and demo use only: it holds the parameters as sent).
"""

from __future__ import annotations

import random
import secrets
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get, post
from litestar.params import FromQuery, JSONBody
from msgspec import UNSET, Meta, UnsetType

from fuquan.integrations.sms.protocol import (
    E164_CN,
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SEND_PATH,
    SIGN_NAME,
    TIMESTAMP_WINDOW_SECONDS,
    VENDOR_TEMPLATE,
    SmsAnswer,
    SmsCode,
    SmsSend,
    param_problem,
    signature,
)

__all__ = ["SMS_CONTROL", "SmsFaults", "create_sms_simulator"]

SMS_CONTROL = "/_sim/sms"
SAME_TEMPLATE_SECONDS = 30.0  # per number: the same template at most once in 30 s …
PER_NUMBER_PER_DAY = 50  # … and 50 messages a day (suggested_simulator_defaults)
_STATUS = {SmsCode.OK: 200, SmsCode.RATE_LIMITED: 429, SmsCode.AUTH_FAILED: 401, SmsCode.PROVIDER_ERROR: 502}


class SmsFaults(msgspec.Struct, kw_only=True):
    failure_rate: float = 0.0
    lost_answer_rate: float = 0.0
    down: bool = False
    per_number_limits: bool = True


class SmsControl(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    failure_rate: Annotated[float, Meta(ge=0.0, le=1.0)] | UnsetType = UNSET
    lost_answer_rate: Annotated[float, Meta(ge=0.0, le=1.0)] | UnsetType = UNSET
    down: bool | UnsetType = UNSET
    per_number_limits: bool | UnsetType = UNSET


@dataclass
class Delivered:
    message_id: str
    to: str
    sign_name: str
    template: str
    params: dict[str, str]
    provider_msg_id: str
    at: float


@dataclass
class SmsState:
    clock: Callable[[], float] = time.time
    faults: SmsFaults = field(default_factory=SmsFaults)
    answers: dict[str, SmsAnswer] = field(default_factory=dict)  # message id → its first answer
    delivered: dict[str, Delivered] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    _sent_to: dict[str, deque[tuple[float, str]]] = field(default_factory=lambda: defaultdict(deque))

    def limited(self, to: str, template: str, now: float) -> bool:
        """The per-number frequency limits; a message that passes them is counted against them."""
        if not self.faults.per_number_limits:
            return False
        sent = self._sent_to[to]
        while sent and sent[0][0] < now - 86_400:
            sent.popleft()
        if len(sent) >= PER_NUMBER_PER_DAY or any(t == template and at > now - SAME_TEMPLATE_SECONDS for at, t in sent):
            return True
        sent.append((now, template))
        return False


def _answer(answer: SmsAnswer, status: int | None = None) -> Response[bytes]:
    return Response(msgspec.json.encode(answer), status_code=status or _STATUS.get(answer.code, 400),
                    media_type=MediaType.JSON)  # fmt: skip


def _refused(code: SmsCode, message: str) -> SmsAnswer:
    return SmsAnswer(code=code, message=message)


def _check(send: SmsSend) -> SmsAnswer | None:
    if not E164_CN.match(send.to):
        return _refused(SmsCode.INVALID_NUMBER, "非法手机号")
    if not SIGN_NAME.match(send.sign_name):
        return _refused(SmsCode.SIGNATURE_NOT_APPROVED, "短信签名不合法")
    if not VENDOR_TEMPLATE.match(send.template):
        return _refused(SmsCode.TEMPLATE_NOT_APPROVED, "短信模板不合法")
    if not send.params:
        return _refused(SmsCode.TEMPLATE_PARAM_MISSING, "模板缺少变量")
    for name, value in send.params.items():
        problem = param_problem(name, value)
        if problem is not None:
            return _refused(SmsCode.TEMPLATE_PARAM_INVALID, problem)
    return None


def create_sms_simulator(credentials: Mapping[str, str], clock: Callable[[], float] = time.time) -> Litestar:
    """The platform; ``credentials`` maps access key ids to their secrets."""
    state = SmsState(clock=clock)
    seen_nonces: dict[str, float] = {}

    @post(SEND_PATH, status_code=200)
    async def send(request: Request[Any, Any, Any]) -> Response[bytes]:
        body = await request.body()
        state.counts["requests"] += 1
        if state.faults.down:
            return _answer(_refused(SmsCode.PROVIDER_ERROR, "服务不可用"), 503)
        key, stamp = request.headers.get(HEADER_KEY, ""), request.headers.get(HEADER_TIMESTAMP, "")
        nonce, signed = request.headers.get(HEADER_NONCE, ""), request.headers.get(HEADER_SIGNATURE, "")
        secret = credentials.get(key)
        now = state.clock()
        fresh = stamp.isdigit() and abs(now - int(stamp)) <= TIMESTAMP_WINDOW_SECONDS
        if (
            secret is None
            or not fresh
            or not nonce
            or nonce in seen_nonces
            or not secrets.compare_digest(signed, signature(secret, stamp, nonce, body))
        ):
            state.counts["auth_failed"] += 1
            return _answer(_refused(SmsCode.AUTH_FAILED, "签名校验失败"))
        seen_nonces[nonce] = now
        if len(seen_nonces) > 100_000:  # a nonce older than the window is refused by its timestamp anyway
            for old in [n for n, at in seen_nonces.items() if at < now - TIMESTAMP_WINDOW_SECONDS]:
                del seen_nonces[old]
        try:
            message = msgspec.json.decode(body, type=SmsSend)
        except msgspec.ValidationError as error:
            return _answer(_refused(SmsCode.TEMPLATE_PARAM_INVALID, str(error)))
        first = state.answers.get(message.message_id)
        if first is not None:  # the caller retried: the first answer again, nothing sent
            state.counts["duplicates"] += 1
            return _answer(msgspec.structs.replace(first, duplicate=True))
        if random.random() < state.faults.failure_rate:  # noqa: S311 - fault injection, not security
            state.counts["injected_failures"] += 1
            return _answer(_refused(SmsCode.PROVIDER_ERROR, "系统错误"))
        refused = _check(message)
        if refused is None and state.limited(message.to, message.template, now):
            refused = _refused(SmsCode.RATE_LIMITED, "触发号码频率限制")
        if refused is not None:
            state.counts[f"refused_{refused.code.lower()}"] += 1
            if refused.code is not SmsCode.RATE_LIMITED:  # a refusal is final: a retry gets the same answer
                state.answers[message.message_id] = refused
            return _answer(refused)
        answer = SmsAnswer(code=SmsCode.OK, message="OK", provider_msg_id=f"{int(now * 1000)}^{secrets.token_hex(6)}")
        state.answers[message.message_id] = answer
        state.delivered[message.message_id] = Delivered(
            message.message_id, message.to, message.sign_name, message.template, dict(message.params),
            answer.provider_msg_id or "", now,
        )  # fmt: skip
        state.counts["delivered"] += 1
        if random.random() < state.faults.lost_answer_rate:  # noqa: S311
            state.counts["answers_lost"] += 1
            return _answer(_refused(SmsCode.TIMEOUT_UNKNOWN, "网关超时"), 504)
        return _answer(answer)

    @get(f"{SMS_CONTROL}/stats")
    async def stats() -> dict[str, Any]:
        return {"counts": dict(state.counts), "delivered": len(state.delivered), "faults": state.faults}

    @get(f"{SMS_CONTROL}/messages")
    async def messages(to: FromQuery[str | None] = None) -> list[dict[str, Any]]:
        return [vars(d) for d in state.delivered.values() if to is None or d.to == to]

    @post(f"{SMS_CONTROL}/control", status_code=200)
    async def control(data: JSONBody[SmsControl]) -> SmsFaults:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
        state.faults = msgspec.structs.replace(state.faults, **changes)
        return state.faults

    @post(f"{SMS_CONTROL}/reset", status_code=200)
    async def reset() -> dict[str, str]:
        state.faults, state.counts = SmsFaults(), Counter()
        state.answers.clear()
        state.delivered.clear()
        state._sent_to.clear()
        return {"reset": "ok"}

    app = Litestar([send, stats, messages, control, reset], openapi_config=None)
    app.state.sms = state
    return app
