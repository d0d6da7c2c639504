"""共享应用: the partner departments' applications a tenant lets call its data-sharing API, and their keys.

A tenant registers an application (the department, a contact, optionally the client addresses it calls from) and
is shown its first key once: the key id travels in every call's ``X-App-Key``, the secret signs it (HMAC-SM3,
DESIGN §8) and is kept only SM4-encrypted with the tenant's data key. Rotating issues a new key and lets the old
ones work on for an overlap, so the department can switch without a gap; suspending stops every key at once.
Every change is audited in its transaction; no secret is ever written to the audit trail or a log.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict, NotFound, ValidationFailed
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.core.versions.services import changed
from fuquan.platform.share.models import ShareApp, ShareKey, share_secret_context
from fuquan.platform.share.repositories import (
    ShareAppRepository,
    ShareKeyRepository,
)
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

SHARE_SETTING = "share"  # the setting version every change of a tenant's applications, keys or grants bumps

DEFAULT_OVERLAP = timedelta(days=7)
_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,31}$")


@dataclass(frozen=True, slots=True)
class AppDraft:
    """申请登记: what a tenant records about a partner department's application."""

    code: str
    name: str
    department: str
    contact: str
    allowed_clients: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key: the secret is here once, to be handed to the department, and never again."""

    key_id: str
    secret: str
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class KeyState:
    key_id: str
    created_at: datetime
    expires_at: datetime | None
    live: bool


@dataclass(frozen=True, slots=True)
class AppState:
    app: ShareApp
    keys: list[KeyState]


@dataclass(frozen=True, slots=True)
class SigningKey:
    """What verifying a call needs: the application, its tenant, the key's secret."""

    app: ShareApp
    scope: TenantScope
    secret: str


def _checked(draft: AppDraft) -> AppDraft:
    if not _CODE.fullmatch(draft.code):
        raise ValidationFailed("应用代码为 2–32 位小写字母、数字或 -，以字母或数字开头", rule="share_app_code")
    for value, label, longest in ((draft.name, "应用名称", 64), (draft.department, "所属部门", 64),
                                  (draft.contact, "联系人", 128)):  # fmt: skip
        if not value.strip() or len(value.strip()) > longest:
            raise ValidationFailed(f"请填写{label}（最长 {longest} 个字）", rule="share_app_field")
    networks = []
    for text in draft.allowed_clients:
        try:
            networks.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError:
            raise ValidationFailed(f"调用地址 {text!r} 不是 IP 地址或网段", rule="share_app_clients") from None
    allowed = tuple(networks)
    if len(",".join(allowed)) > 512:
        raise ValidationFailed("调用地址过多，请合并为网段", rule="share_app_clients")
    return AppDraft(draft.code, draft.name.strip(), draft.department.strip(), draft.contact.strip(), allowed)


async def recorded(session: AsyncSession, scope: TenantScope, entry: AuditEntry) -> None:
    """A change of the tenant's applications, keys or grants: audited, and every replica's copy renewed
    (``ShareDirectory``) once it commits."""
    await changed(session, scope, SHARE_SETTING)
    await append(session, entry)


def audit_entry(scope: TenantScope, by: Actor | None, action: str, code: str, **detail: object) -> AuditEntry:
    if by is not None:
        return by.audit_entry(action, resource=f"share_app:{code}", detail=dict(detail))
    return AuditEntry(action=action, tenant_id=scope.tenant_id, actor="cli", resource=f"share_app:{code}",
                      detail=dict(detail))  # fmt: skip


async def _new_key(
    session: AsyncSession, keys: KeyRing, scope: TenantScope, app: ShareApp, expires_in: timedelta | None
) -> IssuedKey:
    key_id = f"fq{scope.tenant_code}-{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    cipher = await keys.cipher(scope, session)
    now = utcnow()
    expires_at = None if expires_in is None else now + expires_in
    await ShareKeyRepository(session).add(
        ShareKey(tenant_id=scope.tenant_id, app_id=app.id, key_id=key_id, created_at=now, expires_at=expires_at,
                 secret_cipher=cipher.encrypt(secret, context=share_secret_context(scope.tenant_code, key_id)))
    )  # fmt: skip
    return IssuedKey(key_id, secret, expires_at)


async def register(
    session: AsyncSession,
    keys: KeyRing,
    scope: TenantScope,
    draft: AppDraft,
    *,
    by: Actor | None = None,
    key_expires_in: timedelta | None = None,
) -> tuple[ShareApp, IssuedKey]:
    """登记共享应用, with its first key (shown once)."""
    draft = _checked(draft)
    repository = ShareAppRepository(session)
    taken = Conflict(f"应用代码 {draft.code} 已被使用", rule="share_app_exists")
    if await repository.by_code(scope, draft.code) is not None:
        raise taken
    try:
        app = await repository.add(
            ShareApp(tenant_id=scope.tenant_id, code=draft.code, name=draft.name, department=draft.department,
                     contact=draft.contact, allowed_clients=",".join(draft.allowed_clients), created_at=utcnow())
        )  # fmt: skip
    except IntegrityError as error:  # registered by another command at the same moment (the unique code)
        raise taken from error
    issued = await _new_key(session, keys, scope, app, key_expires_in)
    await recorded(session, scope, audit_entry(scope, by, "share.app_registered", app.code, name=app.name,
                                 department=app.department, allowed_clients=app.allowed_clients,
                                 key_id=issued.key_id))  # fmt: skip
    log.info("share_app_registered", tenant=scope.tenant_code, app=app.code)
    return app, issued


async def app_for_change(session: AsyncSession, scope: TenantScope, code: str) -> ShareApp:
    app = await ShareAppRepository(session).by_code(scope, code, lock=True)
    if app is None:
        raise NotFound(f"共享应用 {code} 不存在", rule="share_app_not_found")
    return app


async def rotate_key(
    session: AsyncSession,
    keys: KeyRing,
    scope: TenantScope,
    code: str,
    *,
    by: Actor | None = None,
    overlap: timedelta = DEFAULT_OVERLAP,
    key_expires_in: timedelta | None = None,
) -> IssuedKey:
    """轮换密钥: a new key now; the keys still valid work on until the overlap ends (``overlap`` 0: at once)."""
    if overlap < timedelta(0) or overlap > timedelta(days=90):
        raise ValidationFailed("新旧密钥并行期应在 0 到 90 天之间", rule="share_key_overlap")
    app = await app_for_change(session, scope, code)
    now = utcnow()
    ending = await ShareKeyRepository(session).expire_live(app.id, now, now + overlap)
    issued = await _new_key(session, keys, scope, app, key_expires_in)
    hours = int(overlap.total_seconds() // 3600)
    entry = audit_entry(scope, by, "share.key_rotated", app.code, key_id=issued.key_id, old_keys_ending=ending,
                   overlap_hours=hours)  # fmt: skip
    await recorded(session, scope, entry)
    log.info("share_key_rotated", tenant=scope.tenant_code, app=app.code)
    return issued


async def suspend(
    session: AsyncSession, scope: TenantScope, code: str, *, reason: str, by: Actor | None = None
) -> ShareApp:
    """暂停: every key of the application stops answering at once, until it is resumed."""
    if not reason.strip():
        raise ValidationFailed("请说明暂停的原因", rule="share_suspend_reason")
    app = await app_for_change(session, scope, code)
    if app.suspended_at is None:
        app.suspended_at = utcnow()
        await ShareAppRepository(session).flush()
    await recorded(session, scope, audit_entry(scope, by, "share.app_suspended", app.code, reason=reason.strip()))
    log.info("share_app_suspended", tenant=scope.tenant_code, app=app.code)
    return app


async def resume(session: AsyncSession, scope: TenantScope, code: str, *, by: Actor | None = None) -> ShareApp:
    """恢复: the application's keys that have not expired work again."""
    app = await app_for_change(session, scope, code)
    if app.suspended_at is not None:
        app.suspended_at = None
        await ShareAppRepository(session).flush()
    await recorded(session, scope, audit_entry(scope, by, "share.app_resumed", app.code))
    log.info("share_app_resumed", tenant=scope.tenant_code, app=app.code)
    return app


def live(key: ShareKey, now: datetime) -> bool:
    return key.expires_at is None or key.expires_at > now


async def applications(session: AsyncSession, scope: TenantScope) -> list[AppState]:
    """The tenant's applications with their keys (ids and validity only: secrets are never shown again)."""
    now = utcnow()
    apps = await ShareAppRepository(session).all(scope)
    keys = await ShareKeyRepository(session).of_apps([app.id for app in apps])
    return [
        AppState(
            app, [KeyState(k.key_id, k.created_at, k.expires_at, live(k, now)) for k in keys if k.app_id == app.id]
        )
        for app in apps
    ]
