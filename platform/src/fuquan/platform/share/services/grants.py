"""共享授权: which datasets an application may use, for which purposes, fields and region, on what basis."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.errors import NotFound, PermissionDenied, ValidationFailed
from fuquan.platform.core.timeutil import local_midnight, utcnow
from fuquan.platform.share.models import ShareApp, ShareGrant
from fuquan.platform.share.repositories import ShareAppRepository, ShareGrantRepository
from fuquan.platform.share.schemas import DATASETS, PURPOSES, Dataset
from fuquan.platform.share.services.apps import app_for_change, audit_entry, recorded
from fuquan.tenants.scope import TenantScope
from fuquan.tenants.services import get_unit

log = structlog.get_logger()


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
    app = await app_for_change(session, scope, code)
    tz = scope.timezone
    until = None if draft.valid_until is None else local_midnight(draft.valid_until, tz)
    row = await ShareGrantRepository(session).add(
        ShareGrant(tenant_id=scope.tenant_id, app_id=app.id, dataset=draft.dataset, purposes=list(draft.purposes),
                   fields=list(draft.fields), region=draft.region, basis=draft.basis,
                   valid_from=local_midnight(draft.valid_from, tz), valid_until=until, created_at=utcnow())
    )  # fmt: skip
    entry = audit_entry(scope, by, "share.grant_added", app.code, grant_id=row.id, dataset=row.dataset,
                   purposes=row.purposes, fields=row.fields, region=row.region, basis=row.basis,
                   valid_from=draft.valid_from.isoformat(),
                   valid_until=None if draft.valid_until is None else draft.valid_until.isoformat())  # fmt: skip
    await recorded(session, scope, entry)
    log.info("share_grant_added", tenant=scope.tenant_code, app=app.code, dataset=row.dataset)
    return row


async def revoke_grant(
    session: AsyncSession, scope: TenantScope, code: str, grant_id: int, *, reason: str, by: Actor | None = None
) -> ShareGrant:
    """撤销授权 at once; the grant stays as history."""
    if not reason.strip():
        raise ValidationFailed("请说明撤销的原因", rule="share_revoke_reason")
    app = await app_for_change(session, scope, code)
    row = await ShareGrantRepository(session).get(app.id, grant_id, lock=True)
    if row is None:
        raise NotFound(f"共享应用 {code} 没有授权 #{grant_id}", rule="share_grant_not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        await ShareAppRepository(session).flush()
    entry = audit_entry(scope, by, "share.grant_revoked", app.code, grant_id=row.id, reason=reason.strip())
    await recorded(session, scope, entry)
    log.info("share_grant_revoked", tenant=scope.tenant_code, app=app.code, grant_id=row.id)
    return row


async def grants(session: AsyncSession, scope: TenantScope, code: str) -> list[ShareGrant]:
    app = await ShareAppRepository(session).by_code(scope, code)
    if app is None:
        raise NotFound(f"共享应用 {code} 不存在", rule="share_app_not_found")
    return await ShareGrantRepository(session).of_app(app.id)


def in_force(grants: Iterable[ShareGrant], dataset: str, now: datetime) -> list[ShareGrant]:
    """The unrevoked grants of ``dataset`` valid at ``now`` (as ``ShareGrantRepository.in_force`` selects them)."""
    return [
        g for g in grants
        if g.dataset == dataset and g.revoked_at is None and g.valid_from <= now
        and (g.valid_until is None or g.valid_until > now)
    ]  # fmt: skip


def decide_access(in_force: list[ShareGrant], dataset_code: str, purpose: str, asked: Iterable[str] = ()) -> Access:
    """What a call may see of the dataset for ``purpose``, given its application's grants of it in force —
    refused (403) naming what is missing: the dataset, the purpose or the fields asked for. Nothing asked: every
    field granted for that purpose."""
    dataset = DATASETS.get(dataset_code)
    if dataset is None:
        raise NotFound(f"没有数据集 {dataset_code}", rule="share_dataset")
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


async def access(
    session: AsyncSession, app: ShareApp, dataset_code: str, purpose: str, asked: Iterable[str] = ()
) -> Access:
    """``decide_access`` on the application's grants as stored now."""
    grants = [] if dataset_code not in DATASETS else await ShareGrantRepository(session).in_force(
        app.id, dataset_code, utcnow()
    )  # fmt: skip
    return decide_access(grants, dataset_code, purpose, asked)
