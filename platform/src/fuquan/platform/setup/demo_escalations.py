"""The demo's 办不成事 desk at 大武口区: a duty roster (大武口区人社局负责人 on duty, a week back and two months ahead)
and escalations in every state and tier — registered, classified in each mode, answered, decided at tiers 3 and 5,
closed with the resident's confirmation — each made through the desk's own services, so each has its trace, audit
records, inbox items and SMS."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.core.db import session_scope
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.escalations.models import Escalation
from fuquan.platform.escalations.schemas import EscalationCreate, Resident, RosterWrite, StepRequest
from fuquan.platform.escalations.services import desk, handling
from fuquan.platform.escalations.services.tiers import TierJob
from fuquan.platform.escalations.state_machine import EscalationAction as A
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import scope_for

DESK = "640202"
PROBLEMS = (  # (channel, name, summary, steps)
    ("in_person", "马建国", "在长胜街道窗口三次申请失业登记未办成，每次被要求补交不同材料", "window_failure_closed"),
    ("hotline", "李秀英", "社保卡补办两个月没有结果，窗口说系统问题", "registered"),
    ("website", "王志强", "父亲去世后丧葬补助金申领被告知须户籍地办理，但户籍已迁出多年", "bottleneck_tier5"),
    ("in_person", "张桂兰", "不清楚灵活就业社保补贴需要哪些材料", "guidance_resolved"),
    ("in_person", "刘海燕", "养老保险历史缴费记录缺失，窗口无法补录", "bottleneck_tier3"),
)


async def _actor(session: AsyncSession, username: str, unit: str, role: str) -> Actor:
    tenant = await TenantRepository(session).by_code("64")
    staff = await StaffRepository(session).by_username(username)
    assert tenant is not None and staff is not None, "demo staff are added before the desk's problems"
    scope = scope_for(tenant.id, tenant.code, unit, tenant.timezone)
    return Actor(staff.id, username, staff.display_name, unit, frozenset({role}), scope)


async def add_demo_escalations(session_maker: async_sessionmaker[AsyncSession], keys: KeyRing) -> dict[str, int]:
    async with session_scope(session_maker) as session:
        admin = await _actor(session, "dwk_admin", DESK, "unit_admin")
        today = local_date(utcnow(), admin.scope.timezone)
        for offset in range(-7, 61):
            await desk.set_duty(session, admin, DESK, today + timedelta(days=offset), RosterWrite(staff="dwk_head"),
                                utcnow(), None)  # fmt: skip
    made: dict[str, int] = {}
    for number, (channel, name, summary, path) in enumerate(PROBLEMS):
        async with session_scope(session_maker) as session:
            clerk = await _actor(session, "dwk_desk", DESK, "escalation_clerk")
            owner = await _actor(session, "dwk_head", DESK, "unit_head")
            town_head = await _actor(session, "cs_head", "640202001", "unit_head")
            cipher = await keys.cipher(clerk.scope, session)
            calendar = await calendar_for(session, clerk.scope)
            recording = "12345-2026-0001" if channel == "hotline" else None
            resident = Resident(name=name, phone=f"139951{number:05d}")
            data = EscalationCreate(channel=channel, resident=resident, summary=summary, recording_ref=recording)  # type: ignore[arg-type]
            escalation = await desk.register(session, clerk, cipher, calendar, data, utcnow(), None)
            await _walk(session, escalation, path, owner, town_head, cipher, calendar)
            made[path] = escalation.id
    async with session_scope(session_maker) as session:  # two have waited past their tiers' days
        yesterday = local_date(utcnow(), "Asia/Shanghai") - timedelta(days=1)
        await session.execute(update(Escalation).where(Escalation.id.in_([made["bottleneck_tier3"],
                                                                          made["bottleneck_tier5"]]))
                              .values(tier_due=yesterday))  # fmt: skip
    await TierJob(session_maker, keys).run()
    return made


async def _walk(session: AsyncSession, escalation: Escalation, path: str, owner: Actor, town_head: Actor,
                cipher: Any, calendar: Any) -> None:  # fmt: skip
    async def step(who: Actor, action: A, **fields: Any) -> None:
        request = StepRequest(action=action, version=escalation.version, **fields)
        await handling.take_step(session, who, cipher, calendar, escalation.id, request, utcnow(), None)

    if path == "registered":
        return
    if path == "window_failure_closed":
        await step(owner, A.CLASSIFY, mode="window_failure", responsible_unit="640202001", responsible_staff="cs_clerk")
        await step(town_head, A.ANSWER, note="经核实，窗口未执行一次性告知，已当场告知全部材料并当日受理")
        await step(owner, A.CLOSE, confirmation="confirmed")
    elif path == "guidance_resolved":
        await step(owner, A.CLASSIFY, mode="guidance")
        await step(owner, A.HAND_OFF, note="已一次性告知：身份证、灵活就业登记证明，可在长胜街道综合窗口办理",
                   window_unit="640202001")  # fmt: skip
    else:
        await step(owner, A.CLASSIFY, mode="bottleneck")
        if path == "bottleneck_tier5":
            await step(owner, A.ESCALATE)
