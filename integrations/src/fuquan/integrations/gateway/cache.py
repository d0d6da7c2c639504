"""Partner answers cached by freshness class (DESIGN §8 "Resilience").

``live``
    never cached: identity, household, death, photo, marriage, subsistence/assistance status,
    cremation, disability certificate, veteran status, card, registrations, contributions — every
    service not listed as cacheable.
``cacheable``
    enterprise registration and the businesses registered to a person: they change rarely and
    are asked often; kept ``DEFAULT_TTL_SECONDS`` (6 hours) unless the caller says otherwise.

The cache sits on a Litestar ``Store`` (memory in development, Redis in production). Keys are
``hex(HMAC-SM3(key_secret, scope|partner|path|body))``: the body may hold an ID number, which must
never appear in a key (Redis keys are listed by operators' tools), and the keyed hash stops anyone
who can read the keys from confirming a guessed ID number. ``scope`` names the gateway and the
application key the answer came through, so that one tenant never receives an answer fetched under
another tenant's authorisation.

Only successful answers (code ``00``) are stored. A store that fails (Redis down) degrades to no
cache: it never fails the call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
import structlog
from litestar.stores.base import Store

from fuquan.platform.core.crypto import hmac_sm3_hex

__all__ = [
    "CACHEABLE_SERVICES",
    "DEFAULT_TTL_SECONDS",
    "CachedReply",
    "Freshness",
    "ResponseCache",
    "freshness_of",
]

log = structlog.get_logger()

Freshness = Literal["live", "cacheable"]

DEFAULT_TTL_SECONDS = 6 * 3600

# (partner, service) -> TTL in seconds. Everything else is live.
CACHEABLE_SERVICES: dict[tuple[str, str], int] = {
    ("market_regulation", "enterprise"): DEFAULT_TTL_SECONDS,
    ("market_regulation", "businesses"): DEFAULT_TTL_SECONDS,
}


def freshness_of(partner: str, service: str) -> Freshness:
    return "cacheable" if (partner, service) in CACHEABLE_SERVICES else "live"


class CachedReply(msgspec.Struct, frozen=True, kw_only=True):
    """What is kept of a reply: enough to serve it again as evidence of when and how it was fetched."""

    data: Any
    code: str
    msg: str
    request_id: str
    fetched_at: datetime
    request_hash: str
    response_hash: str


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(CachedReply)


class ResponseCache:
    def __init__(self, store: Store, key_secret: bytes, *, prefix: str = "partner-answer:") -> None:
        if not key_secret:
            raise ValueError("the cache key secret must not be empty")
        self.store = store
        self._key_secret = key_secret
        self._prefix = prefix

    def key(self, partner: str, path: str, body: bytes, *, scope: str = "") -> str:
        """The store key for one request: a keyed hash, never the body."""
        material = b"|".join((scope.encode(), partner.encode(), path.encode(), body))
        return self._prefix + hmac_sm3_hex(self._key_secret, material)

    async def get(self, key: str) -> CachedReply | None:
        try:
            raw = await self.store.get(key)
        except Exception as error:
            log.warning("partner_cache_unavailable", operation="get", error=type(error).__name__)
            return None
        if raw is None:
            return None
        try:
            return _decoder.decode(raw)
        except msgspec.DecodeError:
            log.warning("partner_cache_entry_discarded")
            await self._delete(key)
            return None

    async def set(self, key: str, reply: CachedReply, ttl_seconds: int) -> None:
        if ttl_seconds <= 0:
            return
        try:
            await self.store.set(key, _encoder.encode(reply), expires_in=ttl_seconds)
        except Exception as error:
            log.warning("partner_cache_unavailable", operation="set", error=type(error).__name__)

    async def _delete(self, key: str) -> None:
        try:
            await self.store.delete(key)
        except Exception as error:
            log.warning("partner_cache_unavailable", operation="delete", error=type(error).__name__)
