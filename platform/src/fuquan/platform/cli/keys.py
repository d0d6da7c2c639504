"""``fuquan keys``: the master key and each tenant's data keys (envelope encryption, DESIGN §10).

Rotating the master key, with the app serving throughout:

1. every process gets the new key as ``FUQUAN_MASTER_KEY`` and the old one in ``FUQUAN_PREVIOUS_MASTER_KEYS``;
2. ``fuquan keys rotate`` wraps every data key anew under the new master key (``--data-keys``: also gives each
   tenant a new data key and re-encrypts its data under it, in small batches);
3. once ``fuquan keys status`` shows nothing under the old key, it is removed from every process.
"""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.certificates.keys import rewrap as rewrap_organ_keys
from fuquan.platform.cli.running import run, with_sessions
from fuquan.platform.core.config import command_settings
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.keys.models import DATA
from fuquan.platform.core.keys.repositories import DataKeyRepository
from fuquan.platform.core.keys.rotation import ReencryptReport, key_counts, only_under, rewrap, rotate_data_key
from fuquan.platform.core.keys.services import describe
from fuquan.platform.migrations.keys import key_ring, prepare_keys
from fuquan.tenants.options import unit_code_option
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import TenantScope, whole_tenant

console = output_console(stderr=True)
PURPOSES = {"data": "数据加密", "index": "盲索引"}
STATES = {"pending": "待启用", "active": "启用", "retired": "已停用（仍可解密）"}
ACTOR = "fuquan keys"


async def _tenants(maker: async_sessionmaker[AsyncSession], code: str | None) -> list[TenantScope]:
    async with own_session(maker, writes=False) as session:
        tenants = await TenantRepository(session).all()
    chosen = [whole_tenant(tenant) for tenant in tenants if code is None or tenant.code == code]
    if code is not None and not chosen:
        raise FuquanError(f"没有编码为 {code} 的租户", rule="tenant")
    return chosen


@click.group()
def keys() -> None:
    """Master key and per-tenant data keys: status and rotation."""


@keys.command("status")
def keys_status() -> None:
    """Each tenant's keys: which master key wraps them, and how many stored values each data key encrypted."""
    settings = command_settings()
    ring = key_ring(settings)

    async def work(maker: async_sessionmaker[AsyncSession]) -> Table:
        table = Table(title=f"当前主密钥 {ring.masters.current.id}")
        for column in ("租户", "密钥", "用途", "状态", "包裹它的主密钥", "加密的数据项"):
            table.add_column(column)
        async with own_session(maker, writes=False) as session:
            found = await DataKeyRepository(session).all()
        for scope in await _tenants(maker, None):
            counts = await key_counts(maker, scope, ring.encrypted)
            under: dict[int | None, int] = {}
            for by_key in counts.values():
                for key_id, count in by_key.items():
                    under[key_id] = under.get(key_id, 0) + count
            own = [key for key in found if key.tenant_id == scope.tenant_id]
            if not own:
                table.add_row(scope.tenant_code, "—", "—", "尚未建立（应用启动或 fuquan db upgrade 时建立）", "—", "—")
            for key in own:
                held = f"{under.get(key.key_id, 0):,}" if key.purpose == DATA else "—"
                table.add_row(
                    scope.tenant_code, str(key.key_id), PURPOSES[key.purpose], STATES[key.state],
                    f"{key.master_id}（{describe(key, ring.masters)}）", held,
                )  # fmt: skip
            if under.get(None):
                table.add_row(
                    scope.tenant_code, "—", "旧格式（FUQUAN_SECRET_KEY）", "待重新加密", "—", f"{under[None]:,}"
                )
        return table

    output_console().print(run(with_sessions(settings, work)))


@keys.command("rotate")
@click.option("--data-keys", is_flag=True, help="Also give each tenant a new data key and re-encrypt its data.")
@click.option("--tenant", "tenant_code", default=None, callback=unit_code_option, help="Only this tenant's data keys.")
@click.option("--batch", "batch_size", default=500, show_default=True, type=click.IntRange(1, 10_000))
@click.option(
    "--grace", "grace_seconds", default=None, type=click.FloatRange(0),
    help="Seconds every app process is given to learn of a key change (default: 3 catch-up intervals, at least 3).",
)  # fmt: skip
def keys_rotate(data_keys: bool, tenant_code: str | None, batch_size: int, grace_seconds: float | None) -> None:
    """Wrap every data key under the current master key (FUQUAN_MASTER_KEY); the old master key must still be
    given in FUQUAN_PREVIOUS_MASTER_KEYS. The app keeps serving throughout."""
    settings = command_settings()
    ring = key_ring(settings)
    grace = max(3.0, 3 * settings.policy_catch_up_seconds) if grace_seconds is None else grace_seconds

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        await prepare_keys(ring, maker)
        report = await rewrap(maker, ring, ACTOR)
        async with own_session(maker, writes=True) as session, session.begin():
            organ_keys = await rewrap_organ_keys(session, ring.masters)
        console.print(
            f"主密钥 {ring.masters.current.id}：重新包裹数据密钥 {report.rewrapped} 个，"
            f"原已由它包裹 {report.already_current} 个；重新包裹机关签名密钥 {organ_keys} 个"
        )
        if not data_keys:
            return
        for scope in await _tenants(maker, tenant_code):
            with console.status(f"租户 {scope.tenant_code}：启用新数据密钥（等待各进程同步 {grace:g} 秒）") as status:

                def progress(table: str, rows: int, status: Any = status, tenant: str = scope.tenant_code) -> None:
                    status.update(f"租户 {tenant}：重新加密 {table} {rows:,} 行")

                result = await rotate_data_key(
                    maker, ring, scope, actor=ACTOR, grace_seconds=grace, batch_size=batch_size, progress=progress
                )
            _say(result)

    run(with_sessions(settings, work))
    if not ring.masters.previous:
        return
    console.print(
        "全部数据密钥和机关签名密钥已由当前主密钥包裹：可以从各进程的 FUQUAN_PREVIOUS_MASTER_KEYS 中移除旧主密钥"
    )


def _say(report: ReencryptReport) -> None:
    clean = only_under(report.remaining, report.new_key)
    console.print(
        f"租户 {report.tenant}：新数据密钥 {report.new_key}（停用 {', '.join(map(str, report.retired)) or '无'}），"
        f"重新加密 {report.rows:,} 行 {report.values:,} 项，{report.passes} 遍，用时 {report.seconds:.1f} 秒"
        + ("" if clean else f"；[red]仍有旧密钥加密的数据：{report.remaining}[/red]")
    )
    if not clean:
        raise SystemExit(1)
