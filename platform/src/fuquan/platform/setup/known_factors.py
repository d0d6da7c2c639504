"""Second factors with *known* secrets, for test and benchmark databases only.

The admins of a test or benchmark database are enrolled with a secret derived from their username, so the tests
and the load generators can make their codes (``KnownCodes``) without a person and an authenticator app. Anyone
reading this file can make those codes: never enrol a real deployment's staff this way (``fuquan demo`` does not:
its admins enrol on first login, as in production).

Each code is accepted once (RFC 6238 §5.2), so ``KnownCodes`` remembers the last step it used per username and
uses the next one — the current step or the one after (the server accepts ±1). A third login of the same admin
within one step uses one of the admin's known recovery codes instead (each works once too), so no caller waits
for the clock; only when those are spent does it wait for the next step.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts import factors
from fuquan.platform.accounts.repositories import FactorRepository, StaffRepository
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow

KNOWN_RECOVERY_CODES = 200  # per admin of a test or benchmark database (the contract sweeps log them in often)


def known_recovery_code(username: str, index: int) -> str:
    return sm3_hex(f"fuquan-known-recovery/{username}/{index}".encode())[:10]


def known_secret(username: str) -> str:
    """The TOTP secret a test or benchmark database gives ``username``."""
    return base64.b32encode(bytes.fromhex(sm3_hex(f"fuquan-known-factor/{username}".encode()))[:20]).decode()


async def enrol_known_factors(session: AsyncSession, ring: KeyRing, usernames: Iterable[str]) -> list[str]:
    """Enrol each of ``usernames`` whose roles need a second factor with its known secret, as if they had proved a
    code long ago (no step used yet, no recovery codes). Returns the usernames enrolled."""
    enrolled = []
    for username in usernames:
        staff = await StaffRepository(session).by_username(username)
        if staff is None or not factors.needs_second_factor(staff):
            continue
        await factors.start_enrolment(session, ring, staff, request_id=None, secret=known_secret(username))
        factor = await FactorRepository(session).of_staff(staff.id)
        assert factor is not None
        await FactorRepository(session).use_step(factor.id, 0, enrolled_at=utcnow())  # step 0: 1970, below any code
        codes = [known_recovery_code(username, index) for index in range(KNOWN_RECOVERY_CODES)]
        await FactorRepository(session).replace_recovery_codes(staff.id, [factors.recovery_digest(c) for c in codes])
        enrolled.append(username)
    KNOWN_CODES.enrolled.update(enrolled)
    return enrolled


class KnownCodes:
    """The next unused code of each known secret (one instance per process; ``forget`` when the database is new)."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}
        self._recovery_used: dict[str, int] = {}
        self.enrolled: set[str] = set()  # usernames enrolled with their known secret by this process

    def needed(self, username: str) -> bool:
        return username in self.enrolled

    def forget(self) -> None:
        self._last.clear()
        self._recovery_used.clear()

    def _next(self, username: str) -> tuple[str, float]:
        """The code to use and how long to wait before using it."""
        now = int(time.time()) // factors.STEP_SECONDS
        step = max(now, self._last.get(username, -1) + 1)  # never the step before: it may lapse on the way
        if step > now + 1 and self._recovery_used.get(username, 0) < KNOWN_RECOVERY_CODES:
            index = self._recovery_used[username] = self._recovery_used.get(username, 0) + 1
            return known_recovery_code(username, index - 1), 0.0
        self._last[username] = step
        wait = (step - 1) * factors.STEP_SECONDS - time.time() + 0.5 if step > now + 1 else 0.0
        return factors.code_at(known_secret(username), step), max(wait, 0.0)

    def code(self, username: str) -> str:
        code, wait = self._next(username)
        time.sleep(wait)
        return code

    async def acode(self, username: str) -> str:
        code, wait = self._next(username)
        await asyncio.sleep(wait)
        return code


KNOWN_CODES = KnownCodes()
