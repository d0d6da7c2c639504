"""Account verbs: enrol staff, log in (issue a bearer token), authenticate a token, log out; staff names."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.stores.base import Store
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from zxcvbn import zxcvbn

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import ApiToken, RoleAssignment, Staff
from fuquan.platform.accounts.repositories import StaffRepository, TokenRepository
from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.db import on_commit
from fuquan.platform.core.errors import Conflict, TooManyRequests, Unauthenticated, ValidationFailed
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import TenantScope, scope_for

log = structlog.get_logger()

# argon2id with the library's RFC 9106 "low memory" profile defaults
_hasher = PasswordHasher()
# Verified when the username is unknown, so timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("fuquan-dummy-password")
MIN_PASSWORD_LENGTH = 10
MAX_CHECKED_PASSWORD = 100  # zxcvbn's time grows with length; a password this long is judged by its start


MIN_PASSWORD_SCORE = 3  # zxcvbn's 0–4: 3 is "safely unguessable: moderate protection from offline slow-hash attacks"


def check_password(password: str, *, username: str, unit_code: str, display_name: str = "") -> None:
    """密码强度: at least ``MIN_PASSWORD_LENGTH`` characters, not built from the username, and a zxcvbn score of at
    least ``MIN_PASSWORD_SCORE`` with the username, the unit's code and the display name counted as guessable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符", rule="password_length")
    if username.casefold() in password.casefold():
        raise ValidationFailed("密码不能包含用户名，请换一个别人猜不到的密码", rule="password_like_username")
    guessable = [part for part in (username, unit_code, display_name) if part]
    rest = password[:MAX_CHECKED_PASSWORD]
    for part in guessable:  # what is left once the guessable parts are taken out must be strong on its own
        rest = re.sub(re.escape(part), "", rest, flags=re.IGNORECASE)
    if not rest or zxcvbn(rest, user_inputs=guessable)["score"] < MIN_PASSWORD_SCORE:
        raise ValidationFailed(
            "密码太容易被猜到：请用更长的、不含常见词语、连续数字或重复字符的密码（例如几个不相关的词加数字）",
            rule="weak_password",
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    return sm3_hex(token.encode())


async def add_staff(
    session: AsyncSession,
    *,
    username: str,
    tenant_code: str,
    unit_code: str,
    roles: list[str],
    password: str,
    display_name: str = "",
    added_by: str = "cli",
) -> Staff:
    """Enrol a staff member at a unit with one or more roles (audited)."""
    unknown = [role for role in roles if role not in ROLE_NAMES]
    if unknown or not roles:
        raise ValidationFailed(f"未知岗位 {', '.join(unknown) or '（未指定）'}；可选：{', '.join(ROLE_NAMES)}")
    tenant = await TenantRepository(session).by_code(tenant_code)
    if tenant is None:
        raise ValidationFailed(f"租户 {tenant_code} 不存在")
    await UnitRepository(session).get(scope_for(tenant.id, tenant.code, tenant.code), unit_code)
    check_password(password, username=username, unit_code=unit_code, display_name=display_name)
    roles = sorted(set(roles))  # a role named twice is held once
    staff_repository = StaffRepository(session)
    taken = Conflict(f"用户名 {username} 已被使用", rule="username_taken")
    if await staff_repository.by_username(username) is not None:
        raise taken
    staff = Staff(
        tenant_id=tenant.id,
        username=username,
        display_name=display_name or username,
        password_hash=hash_password(password),
        unit_code=unit_code,
        created_at=utcnow(),
        roles=[RoleAssignment(tenant_id=tenant.id, unit_code=unit_code, role=role) for role in roles],
    )
    try:
        await staff_repository.add(staff)
    except IntegrityError as error:  # enrolled by another command at the same moment (the unique username)
        raise taken from error
    await append(
        session,
        AuditEntry(
            action="staff.add", tenant_id=tenant.id, actor=added_by, unit=unit_code,
            resource=f"staff:{staff.id}", detail={"username": username, "roles": roles},
        ),
    )  # fmt: skip
    log.info("staff_added", staff_id=staff.id, unit=unit_code, roles=roles)
    return staff


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
    def _key(username: str, client: str | None) -> str:
        return "login-failures:" + sm3_hex(f"{username.casefold()}|{client or ''}".encode())

    async def check(self, username: str, client: str | None) -> None:
        state = await self.store.get(self._key(username, client))
        if state is None:
            return
        wait = int(state.decode().split(":")[1]) - int(time.time())
        if wait > 0:
            shown = f"{wait} 秒" if wait < 120 else f"{-(-wait // 60)} 分钟"
            raise TooManyRequests(
                f"该账号在此设备上连续登录失败次数过多，请 {shown}后再试（其他设备不受影响）",
                rule="login_throttled", retry_after=wait,
            )  # fmt: skip

    async def failed(self, username: str, client: str | None) -> None:
        key = self._key(username, client)
        state = await self.store.get(key)
        failures = 1 + (0 if state is None else int(state.decode().split(":")[0]))
        until = 0
        if failures >= self.max_failures:
            wait = min(self.longest_wait_seconds, FIRST_WAIT_SECONDS * 2 ** (failures - self.max_failures))
            until = int(time.time()) + wait
        await self.store.set(key, f"{failures}:{until}", expires_in=self.longest_wait_seconds)

    async def succeeded(self, username: str, client: str | None) -> None:
        await self.store.delete(self._key(username, client))


async def issue_token(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    throttle: LoginThrottle,
    ttl_seconds: int,
    request_id: str | None,
    client: str | None,
) -> tuple[str, int]:
    """Check the password and issue a bearer token (the success is audited here, failures by the caller)."""
    await throttle.check(username, client)
    staff = await StaffRepository(session).by_username(username)
    valid = verify_password(staff.password_hash if staff else _DUMMY_HASH, password)
    if staff is None or not valid or not staff.active:
        await throttle.failed(username, client)
        # the caller's rejections_audited() records the attempt under the staff member's tenant
        raise Unauthenticated(
            "用户名或密码不正确", rule="credentials", audit_tenant_id=staff.tenant_id if staff else None
        )
    await throttle.succeeded(username, client)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    record = await TokenRepository(session).add(
        ApiToken(
            staff_id=staff.id,
            digest=token_digest(token),
            issued_at=now,
            expires_at=now + timedelta(seconds=ttl_seconds),
        )
    )
    await append(
        session,
        AuditEntry(
            action="auth.login", tenant_id=staff.tenant_id, actor=staff.username, actor_id=staff.id,
            role=",".join(sorted(r.role for r in staff.roles)), unit=staff.unit_code,
            resource=f"token:{record.id}", request_id=request_id, detail={"client": client or ""},
        ),
    )  # fmt: skip
    log.info("staff_logged_in", staff_id=staff.id)
    return token, ttl_seconds


async def token_staff(session: AsyncSession, token: str) -> Staff | None:
    """The staff member a bearer token logs in, while the token is live (not revoked, not expired) and the
    account active; None otherwise."""
    found = await TokenRepository(session).live(token_digest(token), utcnow())
    return None if found is None else found[1]


async def revoke_token(
    session: AsyncSession, actor: Actor, digest: str, logins: LoginDirectory, request_id: str | None
) -> None:
    """退出登录: revoke the token (audited) and forget its login everywhere, before and after the commit — no
    process may answer from the cached login meanwhile."""
    if actor.token_id is None:
        return
    await logins.forget(digest)
    on_commit(session, lambda: logins.forget(digest))
    await TokenRepository(session).revoke(actor.token_id, utcnow())
    await append(session, actor.audit_entry("auth.logout", resource=f"token:{actor.token_id}", request_id=request_id))


async def staff_display_names(session: AsyncSession, scope: TenantScope, usernames: Iterable[str]) -> dict[str, str]:
    """The display names of the tenant's staff among ``usernames``, by username (an account the tenant lacks is
    left out)."""
    return await StaffRepository(session).display_names(scope, usernames)
