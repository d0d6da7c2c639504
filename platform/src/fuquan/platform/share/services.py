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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.gateway.protocol import TIMESTAMP_WINDOW_SECONDS
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import AuditEntry, append
from fuquan.platform.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import local_midnight, utcnow
from fuquan.platform.share.models import ShareApp, ShareGrant, ShareKey, share_secret_context
from fuquan.platform.share.repositories import (
    ShareAppRepository,
    ShareGrantRepository,
    ShareKeyRepository,
    ShareNonceRepository,
)
from fuquan.platform.share.schemas import DATASETS, PURPOSES, Dataset
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import TenantScope, whole_tenant
from fuquan.tenants.services import get_unit

log = structlog.get_logger()

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


def _entry(scope: TenantScope, by: Actor | None, action: str, code: str, **detail: object) -> AuditEntry:
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
    await append(session, _entry(scope, by, "share.app_registered", app.code, name=app.name,
                                 department=app.department, allowed_clients=app.allowed_clients,
                                 key_id=issued.key_id))  # fmt: skip
    log.info("share_app_registered", tenant=scope.tenant_code, app=app.code)
    return app, issued


async def _app(session: AsyncSession, scope: TenantScope, code: str) -> ShareApp:
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
    app = await _app(session, scope, code)
    now = utcnow()
    ending = await ShareKeyRepository(session).expire_live(app.id, now, now + overlap)
    issued = await _new_key(session, keys, scope, app, key_expires_in)
    hours = int(overlap.total_seconds() // 3600)
    entry = _entry(scope, by, "share.key_rotated", app.code, key_id=issued.key_id, old_keys_ending=ending,
                   overlap_hours=hours)  # fmt: skip
    await append(session, entry)
    log.info("share_key_rotated", tenant=scope.tenant_code, app=app.code)
    return issued


async def suspend(
    session: AsyncSession, scope: TenantScope, code: str, *, reason: str, by: Actor | None = None
) -> ShareApp:
    """暂停: every key of the application stops answering at once, until it is resumed."""
    if not reason.strip():
        raise ValidationFailed("请说明暂停的原因", rule="share_suspend_reason")
    app = await _app(session, scope, code)
    if app.suspended_at is None:
        app.suspended_at = utcnow()
        await ShareAppRepository(session).flush()
    await append(session, _entry(scope, by, "share.app_suspended", app.code, reason=reason.strip()))
    log.info("share_app_suspended", tenant=scope.tenant_code, app=app.code)
    return app


async def resume(session: AsyncSession, scope: TenantScope, code: str, *, by: Actor | None = None) -> ShareApp:
    """恢复: the application's keys that have not expired work again."""
    app = await _app(session, scope, code)
    if app.suspended_at is not None:
        app.suspended_at = None
        await ShareAppRepository(session).flush()
    await append(session, _entry(scope, by, "share.app_resumed", app.code))
    log.info("share_app_resumed", tenant=scope.tenant_code, app=app.code)
    return app


def _live(key: ShareKey, now: datetime) -> bool:
    return key.expires_at is None or key.expires_at > now


async def applications(session: AsyncSession, scope: TenantScope) -> list[AppState]:
    """The tenant's applications with their keys (ids and validity only: secrets are never shown again)."""
    now = utcnow()
    apps = await ShareAppRepository(session).all(scope)
    keys = await ShareKeyRepository(session).of_apps([app.id for app in apps])
    return [
        AppState(
            app, [KeyState(k.key_id, k.created_at, k.expires_at, _live(k, now)) for k in keys if k.app_id == app.id]
        )
        for app in apps
    ]


async def signing_key(session: AsyncSession, keys: KeyRing, key_id: str) -> SigningKey | None:
    """The secret of a key that may sign a call now: known, not expired, its application not suspended. None
    otherwise — the caller answers every such case alike (no oracle of which keys exist)."""
    found = await ShareKeyRepository(session).with_app(key_id.strip())
    if found is None:
        return None
    key, app = found
    if app.suspended_at is not None or not _live(key, utcnow()):
        return None
    tenant = await TenantRepository(session).by_id(app.tenant_id)
    assert tenant is not None  # an application always has its tenant (FK)
    scope = whole_tenant(tenant)
    cipher = await keys.cipher(scope, session)
    secret = cipher.decrypt(key.secret_cipher, context=share_secret_context(tenant.code, key.key_id))
    return SigningKey(app, scope, secret)


@dataclass(frozen=True, slots=True)
class GrantDraft:
    """授权: a dataset for purposes, fields and optionally a region, from a day, on a legal basis."""

    dataset: str
    purposes: tuple[str, ...]
    fields: tuple[str, ...]
    basis: str
    valid_from: date
    valid_until: date | None = None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Access:
    """What one call may see: the fields, and the regions whose residents it may ask about (None: any)."""

    dataset: Dataset
    purpose: str
    fields: frozenset[str]
    regions: tuple[str, ...] | None


class DataNotGranted(PermissionDenied):
    """A call asking for what its application was not granted; the message names what is missing."""


def _names(codes: Iterable[str], labels: Mapping[str, str]) -> str:
    return "、".join(f"{labels.get(code, code)}（{code}）" for code in codes)


async def _checked_grant(session: AsyncSession, scope: TenantScope, draft: GrantDraft) -> GrantDraft:
    dataset = DATASETS.get(draft.dataset)
    if dataset is None:
        raise ValidationFailed(f"没有数据集 {draft.dataset}；可授权的有：{'、'.join(DATASETS)}", rule="share_dataset")
    purposes = tuple(dict.fromkeys(p.strip() for p in draft.purposes))
    fields = tuple(dict.fromkeys(f.strip() for f in draft.fields))
    if not purposes or not set(purposes) <= set(dataset.purposes):
        raise ValidationFailed(
            f"{dataset.title}可授权的用途只有：{_names(dataset.purposes, PURPOSES)}", rule="share_purpose"
        )
    if not fields or not set(fields) <= set(dataset.fields):
        raise ValidationFailed(f"{dataset.title}的字段只有：{_names(dataset.fields, dataset.fields)}",
                               rule="share_field")  # fmt: skip
    basis = draft.basis.strip()
    if not basis or len(basis) > 128:
        raise ValidationFailed("请填写授权依据（法律法规条款或数据共享协议编号，最长 128 字）", rule="share_basis")
    if draft.valid_until is not None and draft.valid_until <= draft.valid_from:
        raise ValidationFailed("授权截止日期应晚于起始日期", rule="share_validity")
    region = None
    if draft.region:
        region = (await get_unit(session, scope, draft.region.strip())).code  # another tenant's or none: 404
    return GrantDraft(dataset.code, purposes, fields, basis, draft.valid_from, draft.valid_until, region)


async def grant(
    session: AsyncSession, scope: TenantScope, code: str, draft: GrantDraft, *, by: Actor | None = None
) -> ShareGrant:
    """授予共享数据: the application may use the dataset as drafted (audited)."""
    draft = await _checked_grant(session, scope, draft)
    app = await _app(session, scope, code)
    tz = scope.timezone
    until = None if draft.valid_until is None else local_midnight(draft.valid_until, tz)
    row = await ShareGrantRepository(session).add(
        ShareGrant(tenant_id=scope.tenant_id, app_id=app.id, dataset=draft.dataset, purposes=list(draft.purposes),
                   fields=list(draft.fields), region=draft.region, basis=draft.basis,
                   valid_from=local_midnight(draft.valid_from, tz), valid_until=until, created_at=utcnow())
    )  # fmt: skip
    entry = _entry(scope, by, "share.grant_added", app.code, grant_id=row.id, dataset=row.dataset,
                   purposes=row.purposes, fields=row.fields, region=row.region, basis=row.basis,
                   valid_from=draft.valid_from.isoformat(),
                   valid_until=None if draft.valid_until is None else draft.valid_until.isoformat())  # fmt: skip
    await append(session, entry)
    log.info("share_grant_added", tenant=scope.tenant_code, app=app.code, dataset=row.dataset)
    return row


async def revoke_grant(
    session: AsyncSession, scope: TenantScope, code: str, grant_id: int, *, reason: str, by: Actor | None = None
) -> ShareGrant:
    """撤销授权 at once; the grant stays as history."""
    if not reason.strip():
        raise ValidationFailed("请说明撤销的原因", rule="share_revoke_reason")
    app = await _app(session, scope, code)
    row = await ShareGrantRepository(session).get(app.id, grant_id, lock=True)
    if row is None:
        raise NotFound(f"共享应用 {code} 没有授权 #{grant_id}", rule="share_grant_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await ShareAppRepository(session).flush()
    await append(session, _entry(scope, by, "share.grant_revoked", app.code, grant_id=row.id, reason=reason.strip()))
    log.info("share_grant_revoked", tenant=scope.tenant_code, app=app.code, grant_id=row.id)
    return row


async def grants(session: AsyncSession, scope: TenantScope, code: str) -> list[ShareGrant]:
    app = await ShareAppRepository(session).by_code(scope, code)
    if app is None:
        raise NotFound(f"共享应用 {code} 不存在", rule="share_app_not_found")
    return await ShareGrantRepository(session).of_app(app.id)


async def access(
    session: AsyncSession, app: ShareApp, dataset_code: str, purpose: str, asked: Iterable[str] = ()
) -> Access:
    """What a call of ``app`` may see of the dataset for ``purpose`` — refused (403) naming what is missing: the
    dataset, the purpose or the fields asked for. Nothing asked: every field granted for that purpose."""
    dataset = DATASETS.get(dataset_code)
    if dataset is None:
        raise NotFound(f"没有数据集 {dataset_code}", rule="share_dataset")
    in_force = await ShareGrantRepository(session).in_force(app.id, dataset.code, utcnow())
    if not in_force:
        raise DataNotGranted(f"本应用未获授权使用数据集“{dataset.title}”（{dataset.code}），或授权不在有效期内",
                             rule="share_dataset_not_granted")  # fmt: skip
    covering = [g for g in in_force if purpose in g.purposes]
    if not covering:
        granted = sorted({p for g in in_force for p in g.purposes})
        raise DataNotGranted(f"用途 {purpose} 未获授权；本应用使用该数据集的用途只有：{_names(granted, PURPOSES)}",
                             rule="share_purpose_not_granted")  # fmt: skip
    fields = frozenset(f for g in covering for f in g.fields)
    missing = [f for f in dict.fromkeys(asked) if f not in fields]
    if missing:
        raise DataNotGranted(f"字段 {_names(missing, dataset.fields)} 未获授权（用途 {purpose}）",
                             rule="share_field_not_granted")  # fmt: skip
    regions = None if any(g.region is None for g in covering) else tuple(sorted({g.region or "" for g in covering}))
    return Access(dataset, purpose, frozenset(asked) or fields, regions)


# a nonce is remembered longer than any timestamp it could come with is accepted (±300 s), with a margin
NONCE_RETENTION = timedelta(seconds=2 * TIMESTAMP_WINDOW_SECONDS + 60)


async def use_nonce(session: AsyncSession, key_id: str, nonce: str) -> bool:
    """X-Nonce 单次有效: True the first time a key presents the nonce, on whichever replica; False for a replay.
    The row is written in the call's own transaction, beside its audit record."""
    if not nonce or len(nonce) > 64:
        return False
    return await ShareNonceRepository(session).use(key_id, nonce, utcnow())


async def forget_old_nonces(session: AsyncSession) -> int:
    """Nonces older than any acceptable timestamp can no longer be replayed (their timestamps are refused)."""
    return await ShareNonceRepository(session).forget_before(utcnow() - NONCE_RETENTION)
