"""Failed logins slow the guesser down, never lock the person out."""

from __future__ import annotations

import secrets
import time

from litestar.stores.base import Store

from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.errors import TooManyRequests

FIRST_WAIT_SECONDS = 30


class LoginThrottle:
    """Failed logins per username *and client*, counted in a Litestar store (memory or Redis).

    After ``max_failures`` failures for one username from one client, that client waits before its next try —
    30 s, then twice as long after each further failure, up to ``longest_wait_seconds`` — whatever the password.
    Every other client is unaffected: the person at their own desk still logs in, so nobody can lock another
    person out. Guessing across many usernames from one client meets the per-client rate limit instead.
    """

    def __init__(self, store: Store, max_failures: int, longest_wait_seconds: int) -> None:
        self.store = store
        self.max_failures = max_failures
        self.longest_wait_seconds = longest_wait_seconds

    @staticmethod
    def _generation_key(username: str) -> str:
        return "login-generation:" + sm3_hex(username.casefold().encode())

    async def _key(self, username: str, client: str | None) -> str:
        """The count's key for the username from the client, in the username's current generation: ``unlock``
        starts a new one, so every client's count for it is forgotten at once (the store cannot list keys)."""
        generation = await self.store.get(self._generation_key(username))
        text = f"{username.casefold()}|{client or ''}|{generation.decode() if generation else ''}"
        return "login-failures:" + sm3_hex(text.encode())

    async def unlock(self, username: str) -> None:
        """解除锁定: forget the username's failed logins from every client (a security administrator's act)."""
        await self.store.set(self._generation_key(username), secrets.token_hex(8))

    async def check(self, username: str, client: str | None, *, tenant_id: int | None = None) -> None:
        """429 while the client waits; ``tenant_id`` (the account's, when it exists) files the refusal's audit
        record where the tenant's auditor reads it."""
        state = await self.store.get(await self._key(username, client))
        if state is None:
            return
        wait = int(state.decode().split(":")[1]) - int(time.time())
        if wait > 0:
            shown = f"{wait} 秒" if wait < 120 else f"{-(-wait // 60)} 分钟"
            raise TooManyRequests(
                f"该账号在此设备上连续登录失败次数过多，请 {shown}后再试（其他设备不受影响）",
                rule="login_throttled", retry_after=wait, audit_tenant_id=tenant_id,
            )  # fmt: skip

    async def failed(self, username: str, client: str | None) -> None:
        key = await self._key(username, client)
        state = await self.store.get(key)
        failures = 1 + (0 if state is None else int(state.decode().split(":")[0]))
        until = 0
        if failures >= self.max_failures:
            wait = min(self.longest_wait_seconds, FIRST_WAIT_SECONDS * 2 ** (failures - self.max_failures))
            until = int(time.time()) + wait
        await self.store.set(key, f"{failures}:{until}", expires_in=self.longest_wait_seconds)

    async def succeeded(self, username: str, client: str | None) -> None:
        await self.store.delete(await self._key(username, client))
