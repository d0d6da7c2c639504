"""Account verbs: enrol staff, log in (issue a bearer token, with a second factor for admins), authenticate a
token, log out, change or set a password (ending every login of the person); staff names."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.stores.base import Store
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from zxcvbn import zxcvbn

from fuquan.platform.accounts import factors
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import ApiToken, RoleAssignment, Staff
from fuquan.platform.accounts.repositories import StaffRepository, TokenRepository
from fuquan.platform.accounts.roles import ROLE_NAMES, check_separation
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.db import on_commit
from fuquan.platform.core.errors import Conflict, TooManyRequests, Unauthenticated, ValidationFailed
from fuquan.platform.core.keys.services import KeyRing
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
    actor: Actor | None = None,
    request_id: str | None = None,
) -> Staff:
    """Enrol a staff member at a unit with one or more roles (audited: as ``actor`` when a person enrols them
    through the staff pages or API, else as the command ``added_by``)."""
    unknown = [role for role in roles if role not in ROLE_NAMES]
    if unknown or not roles:
        raise ValidationFailed(f"未知岗位 {', '.join(unknown) or '（未指定）'}；可选：{', '.join(ROLE_NAMES)}")
    check_separation(roles)  # 三员分立, for the command, the seed and the staff API alike
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
    detail = {"username": username, "unit": unit_code, "roles": roles}
    entry = (
        AuditEntry(action="staff.add", tenant_id=tenant.id, actor=added_by, unit=unit_code,
                   resource=f"staff:{staff.id}", detail=detail)
        if actor is None
        else actor.audit_entry("staff.add", resource=f"staff:{staff.id}", request_id=request_id, detail=detail)
    )  # fmt: skip
    await append(session, entry)
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

    async def check(self, username: str, client: str | None) -> None:
        state = await self.store.get(await self._key(username, client))
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


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int
    staff: Staff
    recovery_codes: list[str]  # made by this login's first proof of a second factor: shown once, never again


async def check_credentials(
    session: AsyncSession, *, username: str, password: str, throttle: LoginThrottle, client: str | None
) -> Staff:
    """The active staff member with this username and password; a failure counts in the throttle and raises
    (audited by the caller's ``rejections_audited``). A success clears nothing yet: for an admin the login is
    only complete with the second factor, so the right password alone must not reset the count of wrong codes."""
    await throttle.check(username, client)
    staff = await StaffRepository(session).by_username(username)
    valid = verify_password(staff.password_hash if staff else _DUMMY_HASH, password)
    if staff is None or not valid or not staff.active:
        await throttle.failed(username, client)
        # the caller's rejections_audited() records the attempt under the staff member's tenant
        raise Unauthenticated(
            "用户名或密码不正确", rule="credentials", audit_tenant_id=staff.tenant_id if staff else None
        )
    return staff


async def prove_second_factor(
    session: AsyncSession,
    ring: KeyRing,
    staff: Staff,
    code: str,
    *,
    username: str,
    throttle: LoginThrottle,
    client: str | None,
    request_id: str | None,
) -> list[str]:
    """``factors.prove`` with a wrong code counted as a failed login of this username from this client."""
    await throttle.check(username, client)
    try:
        return await factors.prove(session, ring, staff, code, request_id=request_id)
    except Unauthenticated:
        await throttle.failed(username, client)
        raise


async def open_login(
    session: AsyncSession,
    staff: Staff,
    *,
    username: str,
    throttle: LoginThrottle,
    ttl_seconds: int,
    request_id: str | None,
    client: str | None,
) -> str:
    """Issue a bearer token to a person who has proved everything their roles ask (audited ``auth.login``)."""
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
    detail = {"client": client or "", "second_factor": factors.needs_second_factor(staff)}
    await append(
        session,
        AuditEntry(
            action="auth.login", tenant_id=staff.tenant_id, actor=staff.username, actor_id=staff.id,
            role=",".join(sorted(r.role for r in staff.roles)), unit=staff.unit_code,
            resource=f"token:{record.id}", request_id=request_id, detail=detail,
        ),
    )  # fmt: skip
    log.info("staff_logged_in", staff_id=staff.id)
    return token


async def issue_token(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    code: str | None = None,
    ring: KeyRing,
    throttle: LoginThrottle,
    ttl_seconds: int,
    request_id: str | None,
    client: str | None,
) -> IssuedToken:
    """Check the password and, for the admin roles, the second factor; issue a bearer token (the success is
    audited here, failures by the caller). An admin without ``code`` is told which step comes next (401
    ``second_factor_required`` or ``second_factor_enrolment_required``)."""
    staff = await check_credentials(session, username=username, password=password, throttle=throttle, client=client)
    recovery_codes: list[str] = []
    if factors.needs_second_factor(staff):
        if code is None:
            raise factors.missing_factor(await factors.is_enrolled(session, staff), staff)
        recovery_codes = await prove_second_factor(
            session, ring, staff, code, username=username, throttle=throttle, client=client, request_id=request_id
        )
    token = await open_login(
        session, staff, username=username, throttle=throttle, ttl_seconds=ttl_seconds, request_id=request_id,
        client=client,
    )  # fmt: skip
    return IssuedToken(token, ttl_seconds, staff, recovery_codes)


async def active_staff(session: AsyncSession, staff_id: int) -> Staff | None:
    """The staff member with this id while their account is active."""
    staff = await StaffRepository(session).by_id(staff_id)
    return staff if staff is not None and staff.active else None


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


async def revoke_logins(session: AsyncSession, staff_id: int, logins: LoginDirectory) -> int:
    """End every live login of the person — bearer tokens and the page sessions built on them — in every process:
    each is forgotten before the revocation is written and again once it has committed (as ``revoke_token``).
    Returns how many were live."""
    now = utcnow()
    repository = TokenRepository(session)
    live = await repository.live_of_staff(staff_id, now)
    for _token_id, digest in live:
        await logins.forget(digest)
        on_commit(session, partial(logins.forget, digest))
    await repository.revoke_all(staff_id, now)
    return len(live)


async def set_password(
    session: AsyncSession,
    *,
    staff: Staff,
    password: str,
    logins: LoginDirectory,
    actor: Actor | None = None,
    request_id: str | None = None,
) -> int:
    """设置密码: check the new password's strength (``check_password``), store its hash and end every login of the
    person (tokens and page sessions, in every process), audited — ``auth.password_changed`` when the person did
    it, ``staff.password_reset`` when ``actor`` is someone else (a security administrator; the caller checks they
    may act on this person), by ``cli`` without an actor. Returns how many logins were ended."""
    check_password(password, username=staff.username, unit_code=staff.unit_code, display_name=staff.display_name)
    if verify_password(staff.password_hash, password):
        raise ValidationFailed("新密码不能与原密码相同", rule="password_unchanged")
    new_hash = hash_password(password)
    # the hash read is the one replaced: of two changes racing, the second is told (409), not silently overwritten
    if not await StaffRepository(session).replace_password_hash(staff.id, staff.password_hash, new_hash):
        raise Conflict("密码刚被另一操作修改，请刷新后重试", rule="password_changed_meanwhile")
    set_committed_value(staff, "password_hash", new_hash)
    ended = await revoke_logins(session, staff.id, logins)
    own = actor is not None and actor.staff_id == staff.id
    action = "auth.password_changed" if own else "staff.password_reset"
    detail = {"username": staff.username, "logins_ended": ended}
    if actor is not None:
        entry = actor.audit_entry(action, resource=f"staff:{staff.id}", request_id=request_id, detail=detail)
    else:
        entry = AuditEntry(
            action=action, tenant_id=staff.tenant_id, actor="cli", unit=staff.unit_code,
            resource=f"staff:{staff.id}", request_id=request_id, detail=detail,
        )  # fmt: skip
    await append(session, entry)
    log.info("password_set", staff_id=staff.id, own=own, logins_ended=ended)
    return ended


async def change_password(
    session: AsyncSession,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    logins: LoginDirectory,
    throttle: LoginThrottle,
    client: str | None,
    request_id: str | None,
) -> int:
    """修改密码 by the person themselves: the current password first (a wrong one counts in the login throttle, so
    a borrowed session cannot guess it), then ``set_password`` — which ends this login too."""
    staff = await StaffRepository(session).by_id(actor.staff_id)
    if staff is None or not staff.active:  # pragma: no cover - a live login's account exists and is active
        raise Unauthenticated("登录已失效，请重新登录", rule="token")
    await throttle.check(staff.username, client)
    if not verify_password(staff.password_hash, current_password):
        await throttle.failed(staff.username, client)
        raise ValidationFailed("当前密码不正确", rule="current_password_wrong", audit_tenant_id=staff.tenant_id)
    return await set_password(
        session, staff=staff, password=new_password, logins=logins, actor=actor, request_id=request_id
    )
