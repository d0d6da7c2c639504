"""Account verbs: enrol staff, log in (issue a bearer token, with a second factor for admins), authenticate a
token, log out, change or set a password (ending every login of the person); staff names."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from fuquan.platform.accounts import factors
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.models import ApiToken, RoleAssignment, Staff
from fuquan.platform.accounts.passwords import check_password, hash_password, verify_password
from fuquan.platform.accounts.repositories import StaffRepository, TokenRepository
from fuquan.platform.accounts.roles import ROLE_NAMES, check_separation
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.db import on_commit
from fuquan.platform.core.errors import Conflict, Unauthenticated, ValidationFailed
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import TenantScope, scope_for

log = structlog.get_logger()


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
    staff = await StaffRepository(session).by_username(username)
    await throttle.check(username, client, tenant_id=staff.tenant_id if staff else None)
    valid = verify_password(staff.password_hash if staff else None, password)
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
    await throttle.check(username, client, tenant_id=staff.tenant_id)
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
    own = actor is not None and actor.staff_id == staff.id
    # only the person is told their new password is the old one: told to anyone resetting it, that would confirm a
    # guess of someone else's password
    if own and verify_password(staff.password_hash, password):
        raise ValidationFailed("新密码不能与原密码相同", rule="password_unchanged")
    new_hash = hash_password(password)
    # the hash read is the one replaced: of two changes racing, the second is told (409), not silently overwritten
    if not await StaffRepository(session).replace_password_hash(staff.id, staff.password_hash, new_hash):
        raise Conflict("密码刚被另一操作修改，请刷新后重试", rule="password_changed_meanwhile")
    set_committed_value(staff, "password_hash", new_hash)
    ended = await revoke_logins(session, staff.id, logins)
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
    await throttle.check(staff.username, client, tenant_id=staff.tenant_id)
    if not verify_password(staff.password_hash, current_password):
        await throttle.failed(staff.username, client)
        raise ValidationFailed("当前密码不正确", rule="current_password_wrong", audit_tenant_id=staff.tenant_id)
    return await set_password(
        session, staff=staff, password=new_password, logins=logins, actor=actor, request_id=request_id
    )
