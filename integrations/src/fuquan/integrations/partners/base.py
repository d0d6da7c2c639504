"""What every partner adapter shares: one signed call, decoded into the service's typed result."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, TypeVar

import msgspec

from fuquan.integrations.gateway.client import GatewayClient
from fuquan.integrations.gateway.endpoints import CallContext, GatewayReply
from fuquan.integrations.gateway.errors import PartnerFailed
from fuquan.integrations.gateway.protocol import ResultCode
from fuquan.integrations.partners.schemas import SERVICES, Partner

T = TypeVar("T")

Freshness = Literal["live", "cacheable"]


@dataclass(frozen=True, slots=True)
class Fetched(Generic[T]):
    """A partner's answer: the typed result (``None`` when the partner has no record) and the reply
    it came in (request id, time, SM3 hashes — the evidence)."""

    service: str
    value: T | None
    reply: GatewayReply

    @property
    def found(self) -> bool:
        return self.value is not None


class PartnerAdapter:
    partner: ClassVar[Partner]

    def __init__(self, client: GatewayClient) -> None:
        self.client = client

    async def _fetch(
        self, service: str, body: msgspec.Struct, ctx: CallContext, result: type[T], *, freshness: Freshness = "live"
    ) -> Fetched[T]:
        """Call ``service``; "not found" is an answer (``value is None``), every other failure raises."""
        path = SERVICES[self.partner][service]
        reply = await self.client.call(service, path, body, ctx, freshness=freshness, not_found_is_reply=True)
        if reply.code == ResultCode.NOT_FOUND:
            return Fetched(service, None, reply)
        try:
            value = msgspec.convert(reply.data, result)
        except msgspec.ValidationError as error:
            raise PartnerFailed(
                partner=self.partner,
                service=service,
                code=reply.code,
                message="返回的数据不符合接口约定",
            ) from error
        return Fetched(service, value, reply)
