"""The ``fuquan`` command: demo, serve, db, seed, tenants, staff, audit, bench."""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec
import structlog
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from fuquan.integrations.partners.schemas import PARTNERS
from fuquan.integrations.shared_data import SOURCE_LABELS
from fuquan.integrations.simulators import build_population, running_simulators
from fuquan.integrations.sms.server import running_sms_simulator
from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.calendar.cli import calendar as calendar_commands
from fuquan.platform.cli.bench import bench
from fuquan.platform.cli.integrations import (
    catalogue,
    connect_simulators,
    partners,
    simulate,
    simulator_credentials,
)
from fuquan.platform.cli.keys import keys
from fuquan.platform.cli.running import run, with_sessions
from fuquan.platform.cli.share import share
from fuquan.platform.core.config import DEMO_DATABASE, Settings, command_settings, load_settings, sqlite_url
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import session_scope
from fuquan.tenants.options import unit_code_option

T = TypeVar("T")
console = output_console(stderr=True)
DEMO_SMS_KEY = "fuquan-demo"  # the access key the demo presents to its simulated SMS platform
LEVEL_LABELS = {1: "省", 2: "市", 3: "县（区）", 4: "乡镇/街道", 5: "村/社区", 6: "网格"}


@click.group()
@click.option("--verbose", is_flag=True, help="Show informational log events too.")
def cli(verbose: bool) -> None:
    """Fuquan 赋权 — delegate HRSS authority down to townships, villages and grids."""
    # Commands talk to the operator through rich output; the server reconfigures logging as JSON.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO if verbose else logging.WARNING)
    )


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Migrate the database to the latest schema."""
    from fuquan.platform.migrations.runner import upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url, revision)
    console.print("数据库已迁移到最新版本")
    if revision == "head":
        made = run(with_sessions(settings, lambda maker: _prepare_keys(settings, maker)))
        if made:
            console.print(f"已为租户 {'、'.join(made)} 建立数据密钥（由主密钥包裹）")


async def _prepare_keys(settings: Settings, session_maker: Any) -> list[str]:
    """Every tenant's first data keys, where missing: a tenant's keys exist before any process serves it."""
    from fuquan.platform.migrations.keys import key_ring, prepare_keys

    return await prepare_keys(key_ring(settings), session_maker)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def _print_counts(name: str, code: str, counts: dict[int, int]) -> None:
    console.print(f"[bold]{name}（{code}）[/bold]")
    table = Table()
    table.add_column("层级")
    table.add_column("单位数", justify="right")
    for level in sorted(counts):
        table.add_row(LEVEL_LABELS[level], f"{counts[level]:,}")
    console.print(table)


async def _seed(settings: Settings, demo: bool) -> None:
    from fuquan.platform.setup.seed import seed

    async def work(session_maker: Any) -> None:
        with _progress() as progress:
            task = progress.add_task("导入区划与网格", total=None)
            tenants = await seed(session_maker, lambda done, total: progress.update(task, completed=done, total=total))
        await _prepare_keys(settings, session_maker)
        for tenant in tenants:
            _print_counts(tenant.name, tenant.code, tenant.counts_by_level)
        if demo:
            from fuquan.platform.cli.demo import seed_demo

            await seed_demo(settings, session_maker)

    await with_sessions(settings, work)


@cli.command("seed")
@click.option("--demo", is_flag=True, help="Also create demo staff and demo grants.")
def seed_command(demo: bool) -> None:
    """Create tenant 64 (Ningxia) and a second tenant on real division codes, with the catalogue."""
    from fuquan.platform.migrations.runner import upgrade

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    run(_seed(settings, demo))


@cli.group()
def tenants() -> None:
    """Tenants (province-level departments)."""


@tenants.command("import")
@click.option(
    "--province", required=True, callback=unit_code_option,
    help="2-digit province code from the national division file, e.g. 37 (or 370000000000).",
)  # fmt: skip
def tenants_import(province: str) -> None:
    """Load every unit of a province (plus generated grids) as a tenant."""
    from fuquan.platform.setup.seed import seed_tenant

    settings = command_settings()

    async def work(session_maker: Any) -> None:
        with _progress() as progress:
            task = progress.add_task(f"导入 {province} 的区划与网格", total=None)
            async with session_scope(session_maker) as session:
                result = await seed_tenant(
                    session, province, progress=lambda done, total: progress.update(task, completed=done, total=total)
                )
        await _prepare_keys(settings, session_maker)
        _print_counts(result.name, result.code, result.counts_by_level)

    run(with_sessions(settings, work))


@cli.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.argument("username")
@click.option("--tenant", "tenant_code", required=True, callback=unit_code_option)
@click.option("--unit", "unit_code", required=True, callback=unit_code_option,
              help="The unit's division code (12-digit statistical codes too, e.g. 640202001000).")  # fmt: skip
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    help="Repeat for several roles: " + ", ".join(f"{code} ({name})" for code, name in ROLE_NAMES.items()),
)
@click.option("--name", "display_name", default="")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from one line of standard input (for scripts); else it is asked twice.",
)
def staff_add(
    username: str, tenant_code: str, unit_code: str, roles: tuple[str, ...], display_name: str, password_stdin: bool
) -> None:
    """Enrol a staff member at a unit with a role."""
    from fuquan.platform.accounts.services import add_staff

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("密码", hide_input=True, confirmation_prompt="再次输入密码")
    settings = command_settings()

    async def work(session_maker: Any) -> None:
        async with session_scope(session_maker) as session:
            await add_staff(
                session, username=username, tenant_code=tenant_code, unit_code=unit_code, roles=list(roles),
                password=password, display_name=display_name,
            )  # fmt: skip

    run(with_sessions(settings, work))
    console.print(f"已添加 {username}（{', '.join(roles)}，单位 {unit_code}）")


@cli.group()
def audit() -> None:
    """Audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Seal the records committed but not yet chained (what a running server's sealers do within a second),
    then recompute every tenant's keyed hash chain and hold it against the signed checkpoints kept outside the
    database; exit 1 naming the first broken record or checkpoint of each chain."""
    from fuquan.platform.core.audit.checkpoints import CheckpointStore
    from fuquan.platform.core.audit.keys import AuditKeys
    from fuquan.platform.core.audit.services import seal, unsealed, verify

    settings = command_settings()
    keys, store = AuditKeys.from_settings(settings), CheckpointStore.from_settings(settings)

    async def work(session_maker: Any) -> Any:
        sealed = await seal(session_maker, keys)
        checkpoints, unreadable = await store.read()  # before the heads are read (see verify)
        async with session_maker() as session:
            return sealed, checkpoints, await verify(session, keys, checkpoints, unreadable), await unsealed(session)

    sealed, checkpoints, (checked, breaks), waiting = run(with_sessions(settings, work))
    if sealed:
        click.echo(f"sealed {sealed} audit records that were waiting for their chain")
    for tail in waiting:  # committed by a running server since: its sealers chain them
        since = f"{tail.oldest:%Y-%m-%d %H:%M:%S}"
        click.echo(f"unsealed: chain {tail.chain} has {tail.records} records waiting since {since}")
    held = sum(len(found) for found in checkpoints.values())
    if not breaks:
        click.echo(f"OK: {checked} audit records, every chain intact; {held} checkpoints in {store.where} agree")
        return
    for broken in breaks:
        at = f"record id={broken.record_id} seq={broken.seq}" if broken.record_id else f"seq={broken.seq}"
        caught = f" — {broken.checkpoint}" if broken.checkpoint else ""
        click.echo(f"BROKEN: chain {broken.chain} at {at}: {broken.problem}{caught}")
    raise SystemExit(1)


@audit.command("checkpoint")
def audit_checkpoint() -> None:
    """Seal what is waiting, then write a signed checkpoint of every chain's head outside the database (what every
    serving process does every FUQUAN_AUDIT_CHECKPOINT_SECONDS)."""
    from fuquan.platform.core.audit.checkpoints import CheckpointStore, write_checkpoints
    from fuquan.platform.core.audit.keys import AuditKeys
    from fuquan.platform.core.audit.services import seal

    settings = command_settings()
    keys, store = AuditKeys.from_settings(settings), CheckpointStore.from_settings(settings)

    async def work(session_maker: Any) -> Any:
        await seal(session_maker, keys)
        return await write_checkpoints(session_maker, keys, store)

    written = run(with_sessions(settings, work))
    for checkpoint in written:
        click.echo(f"checkpoint: chain {checkpoint.chain} at seq {checkpoint.seq} (key {checkpoint.key})")
    click.echo(f"{len(written)} checkpoints written to {store.where}")


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from fuquan.platform.app.factory import create_app
    from fuquan.platform.app.workers import serve_workers, server_options

    console.print(f"Fuquan 赋权 正在运行：http://{host}:{port}  （接口文档 http://{host}:{port}/schema/swagger）")
    if workers == 1:
        uvicorn.run(
            create_app(settings), host=host, port=port, log_config=None, access_log=False,
            **server_options(settings.trusted_proxies),
        )  # fmt: skip
        return
    serve_workers(host, port, workers, settings.trusted_proxies)


def _require_shared_state(settings: Settings, workers: int) -> None:
    """Several worker processes need a database and stores they can share."""
    if workers == 1:
        return
    problem = None
    if settings.database_url.startswith("sqlite"):
        problem = "SQLite 数据库只能由一个进程使用：--workers 大于 1 时请用 PostgreSQL（设置 FUQUAN_DATABASE_URL）"
    elif not settings.redis_url:
        problem = "多个工作进程需要共享会话、限流与缓存：--workers 大于 1 时请设置 FUQUAN_REDIS_URL"
    if problem is not None:
        console.print(f"[red]错误：{problem}[/red]")
        raise SystemExit(2)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes on the one port (more than 1 needs PostgreSQL and Redis).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web application and API."""
    settings = command_settings()
    _require_shared_state(settings, workers)
    _serve(settings, host, port, workers)


def _require_free_port(host: str, port: int) -> None:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            console.print(
                f"[red]错误：{host}:{port} 无法使用（{error.strerror}）。是否已有 fuquan 在运行？"
                f"请先停止它，或用 --port 换一个端口，例如 fuquan demo --port {port + 1}[/red]"
            )
            raise SystemExit(2) from error


@cli.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def demo(host: str, port: int) -> None:
    """A fresh SQLite database with demo tenants, staff and grants, then serve it."""
    import os

    from fuquan.platform.migrations.runner import upgrade

    _require_free_port(host, port)  # before a minute of seeding
    base = load_settings()
    demo_database = base.data_dir / DEMO_DATABASE
    if demo_database.parent.exists():
        shutil.rmtree(demo_database.parent)
    demo_database.parent.mkdir(parents=True)
    os.environ["FUQUAN_DATABASE_URL"] = sqlite_url(demo_database)
    settings = load_settings()
    upgrade(settings.database_url)
    run(_seed(settings, demo=True))
    # the partner departments, simulated over a synthetic population, on free loopback ports
    sms_credentials = {DEMO_SMS_KEY: settings.secret_key}  # the demo's own platform: any secret of this machine
    with (
        running_simulators(simulator_credentials(settings), host="127.0.0.1", base_port=0) as simulators,
        running_sms_simulator(sms_credentials) as sms,
    ):
        urls: dict[str, str] = {partner: simulators.url(partner) for partner in PARTNERS}
        run(connect_simulators(settings, ["64", "46"], urls))
        for partner, url in urls.items():
            console.print(f"模拟{SOURCE_LABELS[partner]}接口：{url}  （{url}/_sim/control 可设置延迟、故障、停机）")
        console.print(
            f"模拟短信平台：{sms.url}  （{sms.url}/_sim/sms/messages 查看已发短信，/_sim/sms/control 设置故障）"
        )
        _print_demo_residents()
        sms_settings = {"sms_url": sms.url, "sms_access_key": DEMO_SMS_KEY, "sms_access_secret": settings.secret_key}
        _serve(msgspec.structs.replace(settings, **sms_settings), host, port)


DEMO_RESIDENTS = {
    "ordinary": "普通居民（只需身份证即可办理大多数事项）",
    "employment_difficulty": "就业困难人员（可申领灵活就业社保补贴 HRSS-05）",
    "relative_of_deceased": "逝者亲属（丧葬补助金 HRSS-14，关系人填下一行逝者）",
    "deceased": "已故人员（身份核验不通过）",
    "business_owner": "个体经营者（创业担保贷款 HRSS-07）",
    "business_owner_deregistered": "名下市场主体已注销",
}


def _print_demo_residents() -> None:
    """Synthetic residents the simulators know, so a demo user can try a case (not real people)."""
    population = build_population()
    console.print("模拟人口中的示例居民（合成数据，非真实人员）：")
    for key, label in DEMO_RESIDENTS.items():
        person = population.example(key)
        console.print(f"  {label}：{person.name} {person.id_number}")
    examples = population.examples()
    console.print(f"  存续企业 {examples['enterprise_active']}；已注销企业 {examples['enterprise_deregistered']}")


cli.add_command(bench)
cli.add_command(keys)
cli.add_command(calendar_commands)
cli.add_command(partners)
cli.add_command(simulate)
cli.add_command(catalogue)
cli.add_command(share)


def main() -> None:  # pragma: no cover
    cli()


__all__ = ["Path", "cli", "main"]
