"""``fuquan seed --demo`` and ``fuquan demo``: the demo's staff, grants, cases, warnings, 办不成事 problems,
supervision story and partner applications, each printed as it is made."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.core.config import Settings
from fuquan.platform.core.console import output_console
from fuquan.platform.core.db import session_scope

console = output_console(stderr=True)
WARNING_LABELS = {"overdue": "超期", "warning": "黄色预警", "acceptance_overdue": "受理期限届满",
                  "deferral_overdue": "容缺材料逾期", "suspension_overdue": "特别程序超期"}  # fmt: skip


async def seed_demo(settings: Settings, session_maker: Any) -> None:
    """The demo's own data on a seeded database (imports kept inside: ``fuquan --help`` need not load them)."""
    from fuquan.platform.migrations.keys import key_ring
    from fuquan.platform.setup.demo import add_demo_grants, add_demo_service_points, add_demo_staff
    from fuquan.platform.setup.demo_cases import EXTRA_STAFF, add_demo_cases

    async with session_scope(session_maker) as session:
        staff = await add_demo_staff(session)
        points = await add_demo_service_points(session)
    console.print(f"服务点：{points} 个（便民服务中心/站，银行、邮政代办点）")
    registry = AuthorityRegistry()  # one engine for grants and cases
    await add_demo_grants(session_maker, registry, lambda step: console.print(f"· {step}"))
    counts = await add_demo_cases(
        session_maker, registry, key_ring(settings), settings.data_dir, lambda step: console.print(f"· {step}")
    )
    console.print("演示办件：" + "，".join(f"{status} {count}" for status, count in counts.items()))
    from fuquan.platform.catalog.services import CatalogCache
    from fuquan.platform.supervision.services.warnings import WarningJob

    told = await WarningJob(session_maker, CatalogCache(session_maker)).run()
    pushed = "，".join(f"{WARNING_LABELS.get(kind, kind)} {count}" for kind, count in told.items()) or "无"
    console.print(f"时限预警（已推送到经办人、单位负责人和电子监察的站内消息）：{pushed}")
    from fuquan.platform.setup.demo_escalations import add_demo_escalations

    problems = await add_demo_escalations(session_maker, key_ring(settings))
    console.print(f"办不成事反映：{len(problems)} 件（大武口区反映窗口 dwk_desk，值班领导 dwk_head）")
    from fuquan.platform.setup.demo_supervision import add_demo_supervision

    story = await add_demo_supervision(session_maker)
    console.print(
        f"电子监察：评价 {story['ratings']} 件（差评和投诉整改 {story['follow_ups']} 件），"
        f"督办单 {story['orders']} 份，责任追究 {story['accountability']} 件，月度评比 {story['rankings']} 项"
        "（dwk_supervisor、cs_head）"
    )
    table = Table(title="演示账号（仅供开发演示）")
    for column in ("用户名", "密码", "岗位", "单位"):
        table.add_column(column)
    from fuquan.platform.accounts.roles import ROLE_NAMES
    from fuquan.platform.setup.demo import DEMO_PASSWORD

    for member in [*staff, *EXTRA_STAFF]:
        role = ROLE_NAMES[member.role]
        table.add_row(member.username, DEMO_PASSWORD, role, f"{member.display_name}（{member.unit}）")
    console.print(table)
    from fuquan.platform.setup.demo_partners import add_demo_partners

    async with session_scope(session_maker) as session:
        partners = await add_demo_partners(session, key_ring(settings), "64")
    table = Table(title="演示共享应用（数据共享接口 /api/share/v1，签名密钥仅供开发演示）")
    for column in ("部门", "X-App-Key", "签名密钥", "授权"):
        table.add_column(column)
    for partner in partners:
        table.add_row(partner.department, partner.key_id, partner.secret, partner.grants)
    console.print(table)
    console.print(
        "管理员岗位（系统管理员、单位管理员、安全保密管理员、安全审计员）首次登录时，"
        "用任一身份验证器 App 扫描页面上的二维码绑定动态验证码，此后每次登录输入 App 上的 6 位验证码。"
    )
