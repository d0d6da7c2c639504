"""``fuquan share``: the partner departments' applications that call this tenant's data-sharing API (共享应用)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import click
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.cli.running import run, with_sessions
from fuquan.platform.core.config import command_settings
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import session_scope
from fuquan.platform.core.timeutil import local_time
from fuquan.platform.migrations.keys import key_ring
from fuquan.platform.share import services
from fuquan.platform.share.models import ShareGrant
from fuquan.platform.share.schemas import DATASETS, PURPOSES
from fuquan.tenants.options import unit_code_option
from fuquan.tenants.services import tenant_scope

TENANT = click.option("--tenant", "tenant_code", required=True, callback=unit_code_option)


@click.group()
def share() -> None:
    """Partner departments' applications (keys, suspension) for the data-sharing API /api/share/v1."""


@share.group("apps")
def apps() -> None:
    """Register, list, suspend and resume applications."""


@share.group("keys")
def keys() -> None:
    """Rotate an application's signing key."""


def _show_key(issued: services.IssuedKey, tz: str) -> None:
    until = "长期有效" if issued.expires_at is None else f"有效至 {local_time(issued.expires_at, tz)}"
    click.echo(
        f"应用密钥（X-App-Key）：{issued.key_id}\n签名密钥（只显示这一次，请通过安全渠道交给对方）：{issued.secret}\n{until}"
    )


@apps.command("add")
@TENANT
@click.option("--code", required=True, help="Short name, e.g. dwk-civil-affairs.")
@click.option("--name", required=True, help="The application, e.g. 低保核对系统.")
@click.option("--department", required=True, help="The department, e.g. 大武口区民政局.")
@click.option("--contact", required=True, help="Who to call about it (name and phone).")
@click.option("--allow", "allowed", multiple=True, help="An address or network it calls from (repeat); none: any.")
@click.option("--key-days", type=click.IntRange(1, 3650), default=None, help="The key expires after these days.")
def apps_add(tenant_code: str, code: str, name: str, department: str, contact: str, allowed: tuple[str, ...],
             key_days: int | None) -> None:  # fmt: skip
    """Register an application and show its first key once (audited; the secret is stored encrypted)."""
    settings = command_settings()
    draft = services.AppDraft(code, name, department, contact, allowed)

    async def work(maker: async_sessionmaker[AsyncSession]) -> tuple[services.IssuedKey, str]:
        async with session_scope(maker) as session:
            scope = await tenant_scope(session, tenant_code)
            expires = None if key_days is None else timedelta(days=key_days)
            _app, issued = await services.register(session, key_ring(settings), scope, draft, key_expires_in=expires)
            return issued, scope.timezone

    issued, tz = run(with_sessions(settings, work))
    click.echo(f"已登记共享应用 {code}（{department} · {name}）")
    _show_key(issued, tz)


@apps.command("list")
@TENANT
def apps_list(tenant_code: str) -> None:
    """The tenant's applications and their keys (ids and validity; never a secret)."""
    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> tuple[list[services.AppState], str]:
        async with session_scope(maker) as session:
            scope = await tenant_scope(session, tenant_code)
            return await services.applications(session, scope), scope.timezone

    states, tz = run(with_sessions(settings, work))
    table = Table("代码", "部门", "应用", "联系人", "调用地址", "状态", "密钥")
    for state in states:
        app = state.app
        shown = [_key_line(k, tz) for k in state.keys]
        status = "暂停" if app.suspended_at else "启用"
        table.add_row(app.code, app.department, app.name, app.contact, app.allowed_clients or "不限", status,
                      "\n".join(shown))  # fmt: skip
    output_console().print(table if states else "尚未登记共享应用")


def _key_line(key: services.KeyState, tz: str) -> str:
    until = "" if key.expires_at is None else f"，至 {local_time(key.expires_at, tz)}"
    return f"{key.key_id}（{'有效' if key.live else '已失效'}{until}）"


@apps.command("suspend")
@TENANT
@click.argument("code")
@click.option("--reason", required=True, help="Why (kept in the audit trail).")
def apps_suspend(tenant_code: str, code: str, reason: str) -> None:
    """Stop every key of the application at once."""
    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        async with session_scope(maker) as session:
            await services.suspend(session, await tenant_scope(session, tenant_code), code, reason=reason)

    run(with_sessions(settings, work))
    click.echo(f"已暂停共享应用 {code}：其全部密钥即刻停止使用")


@apps.command("resume")
@TENANT
@click.argument("code")
def apps_resume(tenant_code: str, code: str) -> None:
    """Let the application's unexpired keys work again."""
    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        async with session_scope(maker) as session:
            await services.resume(session, await tenant_scope(session, tenant_code), code)

    run(with_sessions(settings, work))
    click.echo(f"已恢复共享应用 {code}")


@keys.command("rotate")
@TENANT
@click.argument("code")
@click.option("--overlap-hours", type=click.IntRange(0, 90 * 24), default=7 * 24, show_default=True,
              help="How long the old keys keep working beside the new one.")  # fmt: skip
@click.option("--key-days", type=click.IntRange(1, 3650), default=None, help="The new key expires after these days.")
def keys_rotate(tenant_code: str, code: str, overlap_hours: int, key_days: int | None) -> None:
    """Issue a new key (shown once); the old ones stop after the overlap."""
    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> tuple[services.IssuedKey, str]:
        async with session_scope(maker) as session:
            scope = await tenant_scope(session, tenant_code)
            expires = None if key_days is None else timedelta(days=key_days)
            overlap = timedelta(hours=overlap_hours)
            issued = await services.rotate_key(
                session, key_ring(settings), scope, code, overlap=overlap, key_expires_in=expires
            )
            return issued, scope.timezone

    issued, tz = run(with_sessions(settings, work))
    click.echo(f"已为共享应用 {code} 换发新密钥；旧密钥 {overlap_hours} 小时后停止使用")
    _show_key(issued, tz)


@share.group("grants")
def grants() -> None:
    """Grant an application a dataset (purposes, fields, region, validity, legal basis), list, revoke."""


@grants.command("add")
@TENANT
@click.argument("code")
@click.option("--dataset", required=True, type=click.Choice(sorted(DATASETS)))
@click.option("--purpose", "purposes", multiple=True, required=True, type=click.Choice(sorted(PURPOSES)),
              help="Repeat for several.")  # fmt: skip
@click.option("--field", "fields", multiple=True, required=True, help="Repeat for several; id_number and name "
              "show the resident's ID number and name unmasked.")  # fmt: skip
@click.option("--region", default=None, callback=unit_code_option, help="Only residents of this unit's subtree.")
@click.option("--from", "valid_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--until", "valid_until", default=None, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--basis", required=True, help="The law or data-sharing agreement (数据共享协议编号).")
def grants_add(tenant_code: str, code: str, dataset: str, purposes: tuple[str, ...], fields: tuple[str, ...],
               region: str | None, valid_from: datetime, valid_until: datetime | None, basis: str) -> None:  # fmt: skip
    """Let the application use a dataset as stated (audited)."""
    settings = command_settings()
    draft = services.GrantDraft(dataset, purposes, fields, basis, valid_from.date(),
                                None if valid_until is None else valid_until.date(), region)  # fmt: skip

    async def work(maker: async_sessionmaker[AsyncSession]) -> int:
        async with session_scope(maker) as session:
            return (await services.grant(session, await tenant_scope(session, tenant_code), code, draft)).id

    grant_id = run(with_sessions(settings, work))
    click.echo(f"已授权 #{grant_id}：共享应用 {code} 使用 {DATASETS[dataset].title}（{'、'.join(purposes)}）")


@grants.command("list")
@TENANT
@click.argument("code")
def grants_list(tenant_code: str, code: str) -> None:
    """The application's grants, revoked ones included."""
    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> tuple[list[ShareGrant], str]:
        async with session_scope(maker) as session:
            scope = await tenant_scope(session, tenant_code)
            return await services.grants(session, scope, code), scope.timezone

    rows, tz = run(with_sessions(settings, work))
    table = Table("#", "数据集", "用途", "字段", "地区", "有效期", "依据", "状态")
    for row in rows:
        validity = f"{local_time(row.valid_from, tz)[:10]} 起" + (
            "" if row.valid_until is None else f"，至 {local_time(row.valid_until, tz)[:10]}"
        )
        status = "已撤销" if row.revoked_at else "有效"
        table.add_row(str(row.id), row.dataset, "、".join(row.purposes), "、".join(row.fields), row.region or "全域",
                      validity, row.basis, status)  # fmt: skip
    output_console().print(table if rows else f"共享应用 {code} 尚无授权")


@grants.command("revoke")
@TENANT
@click.argument("code")
@click.argument("grant_id", type=int)
@click.option("--reason", required=True)
def grants_revoke(tenant_code: str, code: str, grant_id: int, reason: str) -> None:
    """Revoke a grant at once (kept as history, audited)."""
    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> None:
        async with session_scope(maker) as session:
            scope = await tenant_scope(session, tenant_code)
            await services.revoke_grant(session, scope, code, grant_id, reason=reason)

    run(with_sessions(settings, work))
    click.echo(f"已撤销授权 #{grant_id}")


@share.command("feed")
@TENANT
@click.option("--since", default=0, type=click.IntRange(0), help="The cursor: events after this one (default: all).")
@click.option("--limit", default=50, type=click.IntRange(1, 500))
def feed_command(tenant_code: str, since: int, limit: int) -> None:
    """The case feed (办件流) as supervision platforms read it from GET /api/share/v1/feeds/cases."""
    from fuquan.platform.catalog.services import current
    from fuquan.platform.share.services import feed

    settings = command_settings()

    async def work(maker: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with session_scope(maker) as session:
            scope = await tenant_scope(session, tenant_code)
            catalog = await current(session, scope)
            items = {code: item.name for code, item in catalog.items.items()}
            return await feed.events(session, scope, since, None, limit, items)

    found = run(with_sessions(settings, work))
    table = Table("游标", "环节时间", "办件编号", "事项", "环节", "状态", "办理单位", "承诺办结", "结果")
    for event in found:
        table.add_row(event["cursor"], event["event_at"], event["case_no"], event["item_name"], event["event"],
                      event["status"], event["unit_name"], event["deadline"] or "", event["result"] or "")  # fmt: skip
    output_console().print(table if found else "没有更多事件")
    if found:
        click.echo(f"下一页：fuquan share feed --tenant {tenant_code} --since {found[-1]['cursor']}")
