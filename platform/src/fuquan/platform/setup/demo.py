"""Demo data: one staff member per role at representative units, and a realistic set of grants.

The grants are made through the same service as the API (``delegate``), as the demo admins,
so every chain, window and audit record is real.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.schemas import GrantCreate
from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.accounts.services import add_staff
from fuquan.platform.catalog import services as catalog_services
from fuquan.platform.core.db import session_scope
from fuquan.platform.organs import services as organ_services
from fuquan.platform.organs.schemas import ServicePointWrite
from fuquan.tenants.repositories import TenantRepository, UnitRepository
from fuquan.tenants.scope import scope_for, whole_tenant

log = structlog.get_logger()

DEMO_PASSWORD = "fuquan-demo-2026"  # noqa: S105 - development only; printed by `fuquan demo`
PILOT_START = date(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class DemoStaff:
    username: str
    tenant: str
    unit: str
    role: str
    display_name: str


DEMO_STAFF = (
    DemoStaff("nx_admin", "64", "64", "tenant_admin", "宁夏人社厅系统管理员"),
    DemoStaff("nx_security", "64", "64", "security_admin", "宁夏人社厅安全保密管理员"),
    DemoStaff("nx_auditor", "64", "64", "auditor", "宁夏人社厅安全审计员"),
    DemoStaff("nx_supervisor", "64", "64", "supervisor", "宁夏人社厅电子监察"),
    DemoStaff("dwk_admin", "64", "640202", "unit_admin", "大武口区人社局管理员"),
    DemoStaff("dwk_security", "64", "640202", "security_admin", "大武口区人社局安全保密管理员"),  # 县级安全员
    DemoStaff("dwk_approver", "64", "640202", "approver", "大武口区人社局审批员"),
    DemoStaff("dwk_supervisor", "64", "640202", "supervisor", "大武口区电子监察"),
    DemoStaff("dwk_head", "64", "640202", "unit_head", "大武口区人社局负责人"),
    DemoStaff("dwk_desk", "64", "640202", "escalation_clerk", "大武口区办不成事反映窗口"),
    DemoStaff("cs_admin", "64", "640202001", "unit_admin", "长胜街道管理员"),
    DemoStaff("cs_clerk", "64", "640202001", "window_clerk", "长胜街道综合窗口"),
    DemoStaff("cs_approver", "64", "640202001", "approver", "长胜街道审批员"),
    DemoStaff("cs_head", "64", "640202001", "unit_head", "长胜街道便民服务中心负责人"),
    DemoStaff("jm_agent", "64", "640202001001", "village_agent", "骏马社区代办员"),
    DemoStaff("jm_grid", "64", "640202001001001", "grid_specialist", "骏马社区第1网格人社专员"),
    DemoStaff("dw_admin", "64", "640424203", "unit_admin", "泾源县大湾乡管理员"),
    DemoStaff("ny_agent", "64", "640424203209", "village_agent", "牛营村代办员"),
    DemoStaff("dzc_clerk", "64", "640521105", "window_clerk", "中宁县大战场镇综合窗口"),
    DemoStaff("dzc_approver", "64", "640521105", "approver", "中宁县大战场镇审批员"),
    DemoStaff("zbb_clerk", "64", "640105101", "window_clerk", "西夏区镇北堡镇综合窗口"),
    DemoStaff("hn_admin", "46", "46", "tenant_admin", "海南人社厅系统管理员"),
)


async def _actor(session: AsyncSession, tenant_code: str, username: str, unit: str, role: str) -> Actor:
    tenant = await TenantRepository(session).by_code(tenant_code)
    staff = await StaffRepository(session).by_username(username)
    assert tenant is not None and staff is not None, "demo staff are added before demo grants"
    scope = scope_for(tenant.id, tenant.code, unit, tenant.timezone)
    return Actor(staff.id, username, staff.display_name, unit, frozenset({role}), scope)


async def add_demo_staff(session: AsyncSession) -> list[DemoStaff]:
    for staff in DEMO_STAFF:
        await add_staff(
            session, username=staff.username, tenant_code=staff.tenant, unit_code=staff.unit, roles=[staff.role],
            password=DEMO_PASSWORD, display_name=staff.display_name, added_by="demo",
        )  # fmt: skip
    return list(DEMO_STAFF)


# seed 000's "1+N": each street's centre, a community's station, and outlets of a bank and the post acting as agents
WEEKDAYS = "周一至周五 8:30-12:00 14:30-18:00"
DEMO_POINTS = (
    ("640202001", "center", "长胜街道便民服务中心", "大武口区长胜街道（演示地址）", WEEKDAYS),
    ("640202001001", "station", "骏马社区便民服务站", "大武口区长胜街道骏马社区（演示地址）", "周一至周五 9:00-17:00"),
    ("640202001", "bank", "农业银行长胜支行（人社代办点）", "大武口区长胜街道（演示地址）", "周一至周日 9:00-17:00"),
    ("640424203", "post", "大湾乡邮政所（人社代办点）", "彭阳县大湾乡（演示地址）", "周一至周六 8:30-17:30"),
)


async def add_demo_service_points(session: AsyncSession) -> int:
    """The demo's service points, opened by the province's administrator (audited like any)."""
    admin = await _actor(session, "64", "nx_admin", "64", "tenant_admin")
    for unit, kind, name, address, hours in DEMO_POINTS:
        point = ServicePointWrite(kind=kind, name=name, address=address, hours=hours)  # type: ignore[arg-type]
        await organ_services.open_service_point(session, admin, unit, point, request_id="demo")
    return len(DEMO_POINTS)


async def add_demo_grants(
    session_maker: async_sessionmaker[AsyncSession], registry: AuthorityRegistry, progress: Callable[[str], None]
) -> int:
    """The province devolves; 大武口区 and 大湾乡 pilot acceptance in their villages, communities and grids."""

    def request(item: str, action: str, unit: str, scope: str, redelegable: bool, doc: str, basis: str) -> GrantCreate:
        return GrantCreate(
            item=item, action=action, unit=unit, scope=scope, valid_from=PILOT_START,  # type: ignore[arg-type]
            instrument=doc, basis=basis, redelegable=redelegable,  # type: ignore[arg-type]
        )  # fmt: skip

    made = 0
    async with session_scope(session_maker) as session:
        tenant = await TenantRepository(session).by_code("64")
        assert tenant is not None
        catalog = await catalog_services.current(session, whole_tenant(tenant))
        province = await _actor(session, "64", "nx_admin", "64", "tenant_admin")
        units = await UnitRepository(session).subtree(province.scope, "64", max_level=4)
        items = list(catalog.items.values())
        village_items = [i for i in items if i.accept_floor >= 5]
        pilots = (("640202", "dwk_admin", "大人社发〔2026〕3号"), ("640424203", "dw_admin", "大湾乡发〔2026〕1号"))

        progress("省厅向全部乡镇（街道）下放受理权和乡镇级事项的审批权，县级审批事项下放到各县（区）")
        doc = "宁人社发〔2026〕1号"
        batch = [
            request(item.code, action, unit.code, "unit", False, doc, "devolved")
            for unit in units
            for item in items
            for action in ("accept", "decide")
            if (unit.level == 4 and (action == "accept" or item.decide_floor >= 4))
            or (unit.level == 3 and action == "decide" and item.decide_floor == 3)
        ]
        batch += [
            request(item.code, "accept", pilot, "subtree", True, "宁人社发〔2026〕3号", "devolved")
            for pilot, _admin, _doc in pilots
            for item in village_items
        ]
        made += len(await authority.delegate_many(session, province, batch, catalog, registry, request_id="demo"))

        progress("大武口区、大湾乡试点村（社区）和网格受理")
        for pilot, admin, pilot_doc in pilots:
            pilot_admin = await _actor(session, "64", admin, pilot, "unit_admin")
            villages = await UnitRepository(session).subtree(province.scope, pilot, max_level=5)
            batch = [
                request(item.code, "accept", village.code, "subtree", False, pilot_doc, "entrusted")
                for village in villages
                if village.level == 5
                for item in village_items
            ]
            made += len(
                await authority.delegate_many(session, pilot_admin, batch, catalog, registry, request_id="demo")
            )
    log.info("demo_grants_created", grants=made)
    return made
