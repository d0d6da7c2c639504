"""The demo's supervision that acts, over the past week at 大武口区: residents' ratings of issued cases (the poor ones
followed up — called back, rectified, replied and reviewed, or still waiting) and a complaint; 督办单 from the county's
supervisor to 长胜街道 in every state (issued, replied, closed, and two unanswered past their day and sent up to the
province); 责任追究 records (one with the person's statement, one decided); and last month's 流动红旗 and 服务之星.
Each is made through the services a person would use, with the day it happened as its ``now``, so each has its trace,
audit records and inbox items."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.accounts.repositories import StaffRepository
from fuquan.platform.cases.models import Case
from fuquan.platform.cases.schemas import ComplaintWrite, RatingWrite
from fuquan.platform.cases.services import public
from fuquan.platform.core.db import session_scope
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.supervision.models import SupervisionOrder
from fuquan.platform.supervision.repositories import FollowUpRepository
from fuquan.platform.supervision.schemas import (
    AccountabilityDecision,
    AccountabilityStatement,
    AccountabilityWrite,
    FollowUpStep,
    OrderReply,
    OrderReview,
    OrderWrite,
    RankingWrite,
)
from fuquan.platform.supervision.services import accountability, followups, orders, rankings
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import scope_for

COUNTY, TOWN = "640202", "640202001"
RATINGS = (5, 4, 2, 5, 3, 1, 4, 5, 2, 5)  # in turn, for the town's issued cases
POOR_COMMENTS = {2: "等了很久才叫号，窗口说明不清楚", 1: "来回跑了三趟，每次要的材料都不一样"}


async def _actor(session: AsyncSession, username: str, unit: str, role: str) -> Actor:
    tenant = await TenantRepository(session).by_code("64")
    staff = await StaffRepository(session).by_username(username)
    assert tenant is not None and staff is not None, "demo staff are added before the supervision story"
    scope = scope_for(tenant.id, tenant.code, unit, tenant.timezone)
    return Actor(staff.id, username, staff.display_name, unit, frozenset({role}), scope)


def _days_ago(days: int, hour: int = 10) -> datetime:
    """``hour`` o'clock Beijing time (UTC+8), ``days`` (≥ 1) days ago."""
    return (utcnow() - timedelta(days=days)).replace(hour=hour - 8, minute=0, second=0, microsecond=0)


async def _town_cases(session: AsyncSession, statuses: tuple[str, ...], limit: int) -> list[Case]:
    rows = await session.scalars(
        select(Case).where(Case.accepting_unit == TOWN, Case.status.in_(statuses)).order_by(Case.id).limit(limit)
    )
    return list(rows)


async def add_demo_supervision(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    counts: dict[str, int] = {}
    counts["ratings"], counts["follow_ups"] = await _ratings(session_maker)
    counts["orders"] = await _orders(session_maker)
    counts["accountability"] = await _accountability(session_maker)
    counts["rankings"] = await _rankings(session_maker)
    return counts


async def _rankings(session_maker: async_sessionmaker[AsyncSession]) -> int:
    """Last month's 流动红旗 and 服务之星 of 大武口区, published on the first of this month."""
    published = 0
    kinds: tuple[rankings.Kind, ...] = ("flag", "star")
    for kind in kinds:
        async with session_scope(session_maker) as session:
            supervisor = await _actor(session, "dwk_supervisor", COUNTY, "supervisor")
            today = local_date(utcnow(), supervisor.scope.timezone)
            month = today.replace(day=1) - timedelta(days=1)
            ranking = await rankings.preview(session, supervisor, None, f"{month:%Y-%m}", kind)
            if not ranking.rows:
                continue
            note = f"{month.month}月{rankings.KIND_NAMES[kind]}"
            data = RankingWrite(month=f"{month:%Y-%m}", kind=kind, note=note)
            await rankings.publish(session, supervisor, data, utcnow(), None)
            published += 1
    return published


async def _ratings(session_maker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    """好差评 of the town's issued cases, a complaint on an open one, and the follow-ups at different steps."""
    async with session_scope(session_maker) as session:
        rated = [(case.receipt_no, case.query_code) for case in await _town_cases(session, ("issued", "closed"), 10)]
        open_case = next(iter(await _town_cases(session, ("accepted", "in_review"), 1)), None)
        complaint = (open_case.receipt_no, open_case.query_code) if open_case else None
    for (receipt_no, code), level in zip(rated, RATINGS, strict=False):
        async with session_scope(session_maker) as session:
            await public.rate_case(session, receipt_no, RatingWrite(code=code, level=level,
                                                                    comment=POOR_COMMENTS.get(level)))  # fmt: skip
    if complaint:
        async with session_scope(session_maker) as session:
            text = "提交材料一周了还没有消息，电话也打不通"
            await public.complain(session, complaint[0], ComplaintWrite(code=complaint[1], text=text))
    async with session_scope(session_maker) as session:
        clerk = await _actor(session, "cs_clerk", TOWN, "window_clerk")
        supervisor = await _actor(session, "dwk_supervisor", COUNTY, "supervisor")
        found = await FollowUpRepository(session).page(clerk.scope, None, 50)
    walks = (("callback", "rectify", "reply", "review"), ("callback", "rectify"), ("callback",), ())
    notes = {"callback": "已电话回访申请人，了解到等候时间过长、告知不清",
             "rectify": "增设叫号提示屏，窗口一次性告知清单上墙", "reply": "已电话告知申请人整改措施",
             "review": "整改到位"}  # fmt: skip
    for (follow_up, _receipt), walk in zip(sorted(found, key=lambda pair: pair[0].id), walks, strict=False):
        version = follow_up.version
        for action in walk:
            async with session_scope(session_maker) as session:
                who = supervisor if action == "review" else clerk
                step = FollowUpStep(action=action, version=version, note=notes[action],  # type: ignore[arg-type]
                                    outcome="accepted" if action == "review" else None)  # fmt: skip
                version = (await followups.take_step(session, who, follow_up.id, step, utcnow(), None)).version
    return len(rated), len(found)


async def _orders(session_maker: async_sessionmaker[AsyncSession]) -> int:
    """督办单 over the past week: issued four and three days ago, replied, reviewed; one left past its day."""
    async with session_scope(session_maker) as session:
        cases = await _town_cases(session, ("accepted", "in_review", "submitted"), 4)
        supervisor = await _actor(session, "dwk_supervisor", COUNTY, "supervisor")
        head = await _actor(session, "cs_head", TOWN, "unit_head")
    demands = ("该件已超过承诺时限，请说明原因并于期限内办结", "申请人反映多次补交材料，请核实是否执行一次性告知",
               "请核实该件受理后未流转审批的原因", "请报告该件办理进度")  # fmt: skip
    made = []
    for number, (case, demand) in enumerate(zip(cases, demands, strict=False)):
        issued_at = _days_ago(6 - number)
        due = local_date(issued_at, supervisor.scope.timezone) + timedelta(days=2)
        async with session_scope(session_maker) as session:
            order = await orders.issue(session, supervisor, OrderWrite(case_id=case.id, unit=TOWN, demand=demand,
                                                                      due_on=due),
                                       issued_at, None)  # fmt: skip
            made.append(order)
    if len(made) >= 3:
        for order in made[:2]:  # replied the next day
            async with session_scope(session_maker) as session:
                answer = OrderReply(
                    version=order.version, reply="经核实，该件因申请人补充材料延误，已于当日办结并告知申请人"
                )
                await orders.reply(session, head, order.id, answer, order.created_at + timedelta(days=1), None)
        async with session_scope(session_maker) as session:  # the first reviewed and closed
            current = await orders.order(session, supervisor, made[0].id)
            review = OrderReview(version=current.version, outcome="accepted", note="答复属实，同意办结")
            await orders.review(session, supervisor, made[0].id, review, current.created_at + timedelta(days=2), None)
    await orders.OrderJob(session_maker).run()  # the two not answered by their day go up to the province
    return len(made)


async def _accountability(session_maker: async_sessionmaker[AsyncSession]) -> int:
    async with session_scope(session_maker) as session:
        supervisor = await _actor(session, "dwk_supervisor", COUNTY, "supervisor")
        clerk = await _actor(session, "cs_clerk", TOWN, "window_clerk")
        cited = await _town_cases(session, ("accepted", "in_review", "submitted"), 2)
        order_ids = list(await session.scalars(select(SupervisionOrder.id).order_by(SupervisionOrder.id).limit(1)))
    if not cited:
        return 0
    records: list[Any] = []
    grounds: list[tuple[str, str, list[int], list[int]]] = [
        ("cs_clerk", "受理后未及时流转审批，督办后仍未说明原因", [cited[0].id], order_ids),
        ("cs_approver", "审批超过承诺时限", [cited[-1].id], []),
    ]
    for number, (username, reason, case_ids, orders_cited) in enumerate(grounds):
        async with session_scope(session_maker) as session:
            data = AccountabilityWrite(staff=username, reason=reason, case_ids=case_ids, order_ids=orders_cited)
            records.append(await accountability.open_record(session, supervisor, data, _days_ago(3 - number), None))
    async with session_scope(session_maker) as session:
        statement = AccountabilityStatement(version=records[0].version, statement="当日系统故障无法流转，已报修")
        await accountability.state(session, clerk, records[0].id, statement, _days_ago(1), None)
    async with session_scope(session_maker) as session:
        decision = AccountabilityDecision(
            version=records[1].version, measure="education", decision="情况属实，予以批评教育"
        )
        await accountability.decide(session, supervisor, records[1].id, decision, _days_ago(1, 15), None)
    return len(records)
