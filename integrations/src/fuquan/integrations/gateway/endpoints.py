"""What a call to a partner's gateway is made of: the endpoint a tenant configured, the call's context
(purpose, user, request id) and the reply with what the evidence needs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import msgspec

from fuquan.integrations.partners.schemas import Partner


def new_request_id() -> str:
    return uuid.uuid4().hex


class PartnerEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """One tenant's configuration for one partner. ``secret`` is never logged and masked in ``repr``."""

    partner: Partner
    base_url: str  # e.g. "http://127.0.0.1:9101" or a real gateway's URL
    app_key: str
    secret: str
    timeout_seconds: float = 2.0  # per attempt, the whole exchange
    max_connections: int = 10
    max_concurrent: int = 8
    max_wait_seconds: float = 1.0  # for a bulkhead slot
    retries: int = 2  # extra attempts for reads
    failure_threshold: int = 5
    reset_after_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if self.max_connections < 1 or self.max_concurrent < 1:
            raise ValueError("max_connections and max_concurrent must be at least 1")
        if self.max_wait_seconds < 0 or self.retries < 0:
            raise ValueError("max_wait_seconds and retries must not be negative")

    def _public_fields(self) -> Iterator[tuple[str, Any]]:
        for name in self.__struct_fields__:
            yield name, "***" if name == "secret" else getattr(self, name)

    def __repr__(self) -> str:
        return f"PartnerEndpoint({', '.join(f'{name}={value!r}' for name, value in self._public_fields())})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        return list(self._public_fields())


class CallContext(msgspec.Struct, frozen=True, kw_only=True):
    purpose: str  # X-Purpose: the case's receipt number
    user_id: str  # X-User-Id: the acting staff member
    request_id: str = msgspec.field(default_factory=new_request_id)  # X-Request-Id


class GatewayReply(msgspec.Struct, frozen=True, kw_only=True):
    """A partner's answer with what the evidence needs (request id, time, SM3 hashes)."""

    data: Any  # the envelope's data (decoded JSON)
    code: str  # "00", or "10" when the caller asked for not found as a reply
    msg: str
    request_id: str  # the X-Request-Id echoed by the partner (or the one sent)
    fetched_at: datetime  # UTC, when the answer arrived (cached: when it was originally fetched)
    request_hash: str  # hex SM3 of the exact request body bytes sent
    response_hash: str  # hex SM3 of the exact response body bytes received
    attempts: int  # 0 for a reply served from the cache
    cached: bool = False
    elapsed_ms: float
