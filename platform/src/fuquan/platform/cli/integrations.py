"""``fuquan partners``, ``fuquan simulate`` and ``fuquan catalogue``: partner data and what it saves."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping

import click
from rich.table import Table

from fuquan.integrations import services as partner_services
from fuquan.integrations.partners.schemas import PARTNERS
from fuquan.integrations.shared_data import SOURCE_LABELS
from fuquan.integrations.simulators.server import SimulatorConfig, app_key_for, derived_secret, serve_simulators
from fuquan.platform.catalog.services import default_catalog, needs_only_id_card, paper_needed
from fuquan.platform.cli.running import run
from fuquan.platform.core.config import Settings, command_settings, data_dir_secret, load_settings
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.migrations.keys import key_ring
from fuquan.tenants.options import unit_code_option
from fuquan.tenants.services import tenant_scope

console = output_console(stderr=True)
SIMULATOR_SECRET_FILE = "simulator_secret"  # noqa: S105 - a file name, not a secret


def simulator_secret(settings: Settings) -> str:
    """The secret the local simulators and the adapters pointed at them share (data dir, mode 0600)."""
    return data_dir_secret(settings.data_dir, SIMULATOR_SECRET_FILE)


def simulator_credentials(settings: Settings) -> dict[str, str]:
    """What the local simulators accept: app key -> secret, one per partner."""
    secret = simulator_secret(settings)
    return {app_key_for(partner): derived_secret(secret, partner) for partner in PARTNERS}


async def connect_simulators(settings: Settings, tenant_codes: list[str], urls: Mapping[str, str]) -> None:
    """Point each tenant's adapters at the local simulators (``urls``: partner -> base URL)."""
    secret = simulator_secret(settings)
    keys = key_ring(settings)
    engine = create_engine(settings.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            for code in tenant_codes:
                scope = await tenant_scope(session, code)
                for partner in PARTNERS:
                    await partner_services.configure(
                        session, keys, scope=scope, partner=partner,
                        base_url=urls[partner], app_key=app_key_for(partner),
                        secret=derived_secret(secret, partner), actor="fuquan partners use-simulators",
                    )  # fmt: skip
    finally:
        await engine.dispose()


def local_urls(host: str, base_port: int) -> dict[str, str]:
    return {partner: f"http://{host}:{base_port + offset}" for offset, partner in enumerate(PARTNERS)}


@click.group()
def partners() -> None:
    """Partner departments' gateways (公安、民政、市场监管、残联、退役军人、人社) per tenant."""


@partners.command("list")
@click.option("--tenant", "tenant_code", required=True, callback=unit_code_option)
def partners_list(tenant_code: str) -> None:
    """Show where the tenant's adapters point (never the secrets)."""
    settings = command_settings()

    async def work() -> list[partner_services.EndpointRead]:
        engine = create_engine(settings.database_url)
        try:
            async with session_scope(session_factory(engine)) as session:
                scope = await tenant_scope(session, tenant_code)
                return await partner_services.endpoints(session, scope)
        finally:
            await engine.dispose()

    rows = run(work())
    table = Table("部门", "网关地址", "应用密钥", "超时（秒）", "重试", "启用")
    for row in rows:
        enabled = "是" if row.enabled else "否"
        table.add_row(
            row.partner_name, row.base_url, row.app_key, f"{row.timeout_seconds:g}", str(row.retries), enabled
        )
    output_console().print(table if rows else "尚未配置任何共享数据接口")


@partners.command("set")
@click.option("--tenant", "tenant_code", required=True, callback=unit_code_option)
@click.option("--partner", type=click.Choice(PARTNERS), required=True)
@click.option("--url", "base_url", required=True, help="The partner gateway's base URL.")
@click.option("--app-key", required=True)
@click.option(
    "--secret-stdin",
    is_flag=True,
    help="Read the signing secret from one line of standard input (for scripts); else it is asked.",
)
@click.option("--timeout", "timeout_seconds", default=2.0, show_default=True, type=float)
@click.option("--retries", default=2, show_default=True, type=int)
@click.option("--disabled", is_flag=True, help="Keep the configuration but stop calling this partner.")
def partners_set(
    tenant_code: str, partner: str, base_url: str, app_key: str, secret_stdin: bool, timeout_seconds: float,
    retries: int, disabled: bool,
) -> None:  # fmt: skip
    """Configure one partner gateway for a tenant (audited; the secret is stored encrypted)."""
    secret = sys.stdin.readline().strip() if secret_stdin else click.prompt("签名密钥", hide_input=True)
    settings = command_settings()

    async def work() -> None:
        engine = create_engine(settings.database_url)
        try:
            async with session_scope(session_factory(engine)) as session:
                scope = await tenant_scope(session, tenant_code)
                await partner_services.configure(
                    session, key_ring(settings), scope=scope,
                    partner=partner, base_url=base_url, app_key=app_key, secret=secret,
                    timeout_seconds=timeout_seconds, retries=retries, enabled=not disabled, actor="fuquan partners set",
                )  # fmt: skip
        finally:
            await engine.dispose()

    run(work())
    click.echo(f"已配置 {tenant_code} 的{SOURCE_LABELS[partner]}接口：{base_url}")


@partners.command("use-simulators")
@click.option(
    "--tenant", "tenant_codes", multiple=True, required=True, callback=unit_code_option,
    help="Repeat for several tenants.",
)  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", "base_port", default=None, type=int, help="First simulator port [default: FUQUAN_SIMULATOR_PORT or 9100]."
)
def partners_use_simulators(tenant_codes: tuple[str, ...], host: str, base_port: int | None) -> None:
    """Point the tenants' adapters at ``fuquan simulate`` running on this machine."""
    settings = command_settings()
    port = base_port or settings.simulator_port
    run(connect_simulators(settings, list(tenant_codes), local_urls(host, port)))
    click.echo(f"已将 {'、'.join(tenant_codes)} 的共享数据接口指向本机模拟器（端口 {port}–{port + len(PARTNERS) - 1}）")


@click.command("simulate")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port", "base_port", default=None, type=int, help="First port [default: FUQUAN_SIMULATOR_PORT or 9100]."
)
def simulate(host: str, base_port: int | None) -> None:
    """Run every partner department's gateway as a simulator over a synthetic population."""
    settings = load_settings()
    port = base_port or settings.simulator_port
    credentials = simulator_credentials(settings)
    for offset, partner in enumerate(PARTNERS):
        console.print(
            f"{SOURCE_LABELS[partner]}（{partner}）：http://{host}:{port + offset}  app key {app_key_for(partner)}"
        )
    console.print("签名密钥保存在数据目录的 simulator_secret 中；fuquan partners use-simulators 会使用它。")
    asyncio.run(serve_simulators(SimulatorConfig(host=host, base_port=port, credentials=credentials)))


@click.group()
def catalogue() -> None:
    """The service-item catalogue (事项目录)."""


@catalogue.command("id-only")
def catalogue_id_only() -> None:
    """Per item: with every shared source answering, does the applicant need only an ID card?"""
    specs = default_catalog()
    table = Table("事项", "名称", "只需身份证", "目录标注", "仍需提交的材料")
    disagree = 0
    for spec in specs:
        computed = needs_only_id_card(spec)
        disagree += computed != spec.id_only
        paper = "、".join(
            m.name + ("（可容缺）" if m.deferrable else "") + ("（可承诺）" if m.pledge else "")
            for m in paper_needed(spec)
        )
        table.add_row(spec.code, spec.name, "是" if computed else "否", "是" if spec.id_only else "否", paper or "—")
    output_console().print(table)
    total = sum(needs_only_id_card(spec) for spec in specs)
    click.echo(f"{total} of {len(specs)} items need only an ID card when every source answers")
    if disagree:
        click.echo(f"{disagree} item(s) disagree with the catalogue's id_only flag", err=True)
        raise SystemExit(1)
