"""What the 共享应用管理 pages show: the applications with their keys (ids and validity — a secret is shown once, when
it is issued, and never again), an application's grants in words, and the datasets a grant may name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.timeutil import local_time, utcnow
from fuquan.platform.share import services
from fuquan.platform.share.models import ShareGrant
from fuquan.platform.share.schemas import DATASETS, PURPOSES, Dataset
from fuquan.tenants.scope import TenantScope
from fuquan.tenants.services import unit_names

MAX_CODE: Final = 32  # an application's code is never longer: a longer one names none


@dataclass(frozen=True, slots=True)
class KeyView:
    key_id: str
    created: str
    expires: str  # "" when it never expires
    live: bool


@dataclass(frozen=True, slots=True)
class AppView:
    code: str
    name: str
    department: str
    contact: str
    clients: list[str]  # empty: any address
    created: str
    suspended: str  # when it was suspended; "" while it works
    keys: list[KeyView]

    @property
    def live_keys(self) -> int:
        return sum(key.live for key in self.keys)


@dataclass(frozen=True, slots=True)
class GrantView:
    id: int
    dataset: str
    title: str
    purposes: list[str]  # names
    fields: list[str]  # labels
    region: str  # "" for the whole tenant
    region_name: str
    valid_from: str
    valid_until: str  # "" for no end
    basis: str
    status: str
    revoked: bool


@dataclass(frozen=True, slots=True)
class DatasetChoice:
    """A dataset with what a grant of it may name: its purposes and its fields (code, words)."""

    code: str
    title: str
    purposes: list[tuple[str, str]]
    fields: list[tuple[str, str]]


def _app_view(state: services.AppState, tz: str) -> AppView:
    app = state.app
    keys = [KeyView(k.key_id, local_time(k.created_at, tz), local_time(k.expires_at, tz), k.live) for k in state.keys]
    return AppView(
        code=app.code, name=app.name, department=app.department, contact=app.contact,
        clients=[c for c in app.allowed_clients.split(",") if c], created=local_time(app.created_at, tz),
        suspended=local_time(app.suspended_at, tz), keys=keys,
    )  # fmt: skip


async def app_views(session: AsyncSession, scope: TenantScope) -> list[AppView]:
    return [_app_view(state, scope.timezone) for state in await services.applications(session, scope)]


def not_found(code: str) -> NotFound:
    shown = code if len(code) <= MAX_CODE else code[:MAX_CODE] + "…"
    return NotFound(f"共享应用 {shown} 不存在", rule="share_app_not_found")


async def app_view(session: AsyncSession, scope: TenantScope, code: str) -> AppView:
    """One application of the tenant; NotFound for any other code."""
    if len(code) <= MAX_CODE:
        for state in await services.applications(session, scope):
            if state.app.code == code:
                return _app_view(state, scope.timezone)
    raise not_found(code)


def grant_status(grant: ShareGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return "已撤销"
    if grant.valid_from > now:
        return "尚未生效"
    if grant.valid_until is not None and grant.valid_until <= now:
        return "已到期"
    return "生效中"


async def grant_views(session: AsyncSession, scope: TenantScope, code: str) -> list[GrantView]:
    """The application's grants, revoked ones included, newest first."""
    rows = await services.grants(session, scope, code)
    names = await unit_names(session, scope, sorted({row.region for row in rows if row.region}))
    now, tz = utcnow(), scope.timezone
    shown = []
    for row in reversed(rows):
        dataset = DATASETS.get(row.dataset)
        labels = dataset.fields if dataset else {}
        shown.append(GrantView(
            id=row.id, dataset=row.dataset, title=dataset.title if dataset else row.dataset,
            purposes=[PURPOSES.get(p, p) for p in row.purposes], fields=[labels.get(f, f) for f in row.fields],
            region=row.region or "", region_name=names.get(row.region or "", ""),
            valid_from=local_time(row.valid_from, tz)[:10],
            valid_until=local_time(row.valid_until, tz)[:10] if row.valid_until else "", basis=row.basis,
            status=grant_status(row, now), revoked=row.revoked_at is not None,
        ))  # fmt: skip
    return shown


def _choice(dataset: Dataset) -> DatasetChoice:
    return DatasetChoice(
        dataset.code, dataset.title, [(p, PURPOSES.get(p, p)) for p in dataset.purposes], list(dataset.fields.items())
    )


DATASET_CHOICES: Final = {code: _choice(dataset) for code, dataset in DATASETS.items()}
