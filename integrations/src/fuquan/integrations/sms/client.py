"""Fuquan's side of the SMS platform: one signed ``POST`` per message, every outcome an ``SmsAnswer``.

A transport failure is ``TIMEOUT_UNKNOWN``: the message may or may not have gone out, so the caller retries
with the same message id and the platform's de-duplication decides (Aliyun advises querying the receipt first;
a vendor adapter without de-duplication would do that here).
"""

from __future__ import annotations

import secrets
import time

import httpx
import msgspec

from fuquan.integrations.sms.protocol import (
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    SEND_PATH,
    SmsAnswer,
    SmsCode,
    SmsSend,
    signature,
)

__all__ = ["SmsGateway"]


class SmsGateway:
    def __init__(self, url: str, key: str, secret: str, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self._key, self._secret = key, secret
        self._http = httpx.AsyncClient(timeout=timeout, trust_env=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, message: SmsSend) -> SmsAnswer:
        body = msgspec.json.encode(message)
        stamp, nonce = str(int(time.time())), secrets.token_hex(12)
        headers = {
            HEADER_KEY: self._key, HEADER_TIMESTAMP: stamp, HEADER_NONCE: nonce,
            HEADER_SIGNATURE: signature(self._secret, stamp, nonce, body), "Content-Type": "application/json",
        }  # fmt: skip
        try:
            response = await self._http.post(f"{self.url}{SEND_PATH}", content=body, headers=headers)
        except httpx.HTTPError as error:
            return SmsAnswer(code=SmsCode.TIMEOUT_UNKNOWN, message=type(error).__name__)
        try:
            return msgspec.json.decode(response.content, type=SmsAnswer)
        except msgspec.DecodeError:
            code = SmsCode.TIMEOUT_UNKNOWN if response.status_code in (502, 503, 504) else SmsCode.PROVIDER_ERROR
            return SmsAnswer(code=code, message=f"HTTP {response.status_code}")
