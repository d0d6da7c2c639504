"""Supervision endpoints (/api/v1/supervision…): the dashboard, 差评整改, 督办单 and 责任追究."""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Literal

from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.core.audit.services import append
from fuquan.platform.core.params import RowId, RowIdFilter
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.supervision import services
from fuquan.platform.supervision.schemas import (
    AccountabilityDecision,
    AccountabilityRead,
    AccountabilityStatement,
    AccountabilityWrite,
    DashboardRead,
    FollowUpRates,
    FollowUpRead,
    FollowUpSettings,
    FollowUpStep,
    Month,
    OrderRead,
    OrderReply,
    OrderReview,
    OrderWrite,
    PerformanceRead,
    RankingRead,
    RankingWrite,
)
from fuquan.platform.supervision.services import accountability, exports, followups, orders, performance, rankings
from fuquan.tenants.divisions import normalise_unit_code
from fuquan.tenants.schemas import UnitCode


class SupervisionController(Controller):
    path = "/api/v1/supervision"
    tags = ["supervision 电子监察"]

    @get("/dashboard", summary="电子监察看板：办件状态、预警与逾期、按时办结率、好差评",
         opt={"permission": "supervision.read"})  # fmt: skip
    async def dashboard(
        self,
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        unit: FromQuery[UnitCode | None] = None,
    ) -> DashboardRead:
        """Figures of the unit's subtree (default: the caller's own unit; outside the caller's subtree: 404), per
        child unit (rolled up over its own subtree) and in total, with the red (逾期) and yellow (预警) lists;
        signals as the case API computes them today."""
        unit = None if unit is None else normalise_unit_code(unit)
        return await services.dashboard(db_session, actor, unit, utcnow())

    @get("/follow-ups", summary="差评整改（本单位及下级）", opt={"permission": "cases.read"})
    async def follow_ups(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[Literal["open", "called_back", "rectified", "replied", "closed"] | None] = None,
    ) -> list[FollowUpRead]:  # fmt: skip
        return await followups.follow_ups(db_session, actor, status, 200)

    @post("/follow-ups/{follow_up_id:int}/steps", summary="回访、整改、答复申请人、复核", status_code=200,
          opt={"permission": "cases.read"})  # fmt: skip
    async def follow_up_step(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], follow_up_id: FromPath[RowId], data: JSONBody[FollowUpStep],
    ) -> FollowUpRead:  # fmt: skip
        return await followups.take_step(db_session, actor, follow_up_id, data, utcnow(), request_id_of(request))

    @get("/follow-ups/rates", summary="差评回访率和整改率（按下级单位）", opt={"permission": "supervision.read"})
    async def follow_up_rates(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        unit: FromQuery[UnitCode | None] = None,
    ) -> list[FollowUpRates]:  # fmt: skip
        return await followups.rates(db_session, actor, None if unit is None else normalise_unit_code(unit))

    @get("/settings", summary="电子监察设置（差评整改时限）", opt={"permission": "supervision.read"})
    async def get_settings(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> FollowUpSettings:
        return await followups.settings(db_session, actor)

    @put("/settings", summary="修改差评整改时限（留痕）", opt={"permission": "supervision.manage"})
    async def set_settings(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: JSONBody[FollowUpSettings],
    ) -> FollowUpSettings:  # fmt: skip
        return await followups.set_settings(db_session, actor, data, request_id_of(request))


class OrderController(Controller):
    path = "/api/v1/supervision/orders"
    tags = ["supervision 电子监察"]

    @get("/", summary="督办单（本级及下级收到的、本级及下级下发的）", opt={"permission": "supervision.read"})
    async def list_orders(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[Literal["issued", "replied", "closed"] | None] = None,
        case_id: RowIdFilter = None, escalation_id: RowIdFilter = None,
    ) -> list[OrderRead]:  # fmt: skip
        return await orders.orders(db_session, actor, status, case_id, escalation_id)

    @post("/", summary="下发督办单（针对办件或办不成事反映）", opt={"permission": "supervision.act"})
    async def issue(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: JSONBody[OrderWrite],
    ) -> OrderRead:  # fmt: skip
        return await orders.issue(db_session, actor, data, utcnow(), request_id_of(request))

    @get("/{order_id:int}", summary="督办单详情与办理过程", opt={"permission": "supervision.read"})
    async def get_order(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], order_id: FromPath[RowId]
    ) -> OrderRead:
        return await orders.order(db_session, actor, order_id)

    @post("/{order_id:int}/reply", summary="书面答复督办单（被督办单位负责人）", status_code=200,
          opt={"permission": "supervision.reply"})  # fmt: skip
    async def reply(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], order_id: FromPath[RowId], data: JSONBody[OrderReply],
    ) -> OrderRead:  # fmt: skip
        return await orders.reply(db_session, actor, order_id, data, utcnow(), request_id_of(request))

    @post("/{order_id:int}/review", summary="审核督办答复：通过办结或退回", status_code=200,
          opt={"permission": "supervision.act"})  # fmt: skip
    async def review(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], order_id: FromPath[RowId], data: JSONBody[OrderReview],
    ) -> OrderRead:  # fmt: skip
        return await orders.review(db_session, actor, order_id, data, utcnow(), request_id_of(request))


class AccountabilityController(Controller):
    path = "/api/v1/supervision/accountability"
    tags = ["supervision 电子监察"]

    @get("/", summary="责任追究记录（监察人员：本级及下级；其他人员：本人的）", opt={"permission": "cases.read"})
    async def list_records(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor],
        status: FromQuery[Literal["open", "decided"] | None] = None,
    ) -> list[AccountabilityRead]:  # fmt: skip
        return await accountability.records(db_session, actor, status)

    @post("/", summary="发起责任追究（引用办件、督办单或办不成事反映）", opt={"permission": "supervision.act"})
    async def open_record(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: JSONBody[AccountabilityWrite],
    ) -> AccountabilityRead:  # fmt: skip
        return await accountability.open_record(db_session, actor, data, utcnow(), request_id_of(request))

    @get("/{record_id:int}", summary="责任追究记录详情", opt={"permission": "cases.read"})
    async def get_record(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], record_id: FromPath[RowId]
    ) -> AccountabilityRead:
        return await accountability.record(db_session, actor, record_id)

    @post("/{record_id:int}/statement", summary="陈述申辩（被追究人员本人）", status_code=200,
          opt={"permission": "cases.read"})  # fmt: skip
    async def state(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], record_id: FromPath[RowId], data: JSONBody[AccountabilityStatement],
    ) -> AccountabilityRead:  # fmt: skip
        return await accountability.state(db_session, actor, record_id, data, utcnow(), request_id_of(request))

    @post("/{record_id:int}/decision", summary="作出处理结果", status_code=200,
          opt={"permission": "supervision.act"})  # fmt: skip
    async def decide(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], record_id: FromPath[RowId], data: JSONBody[AccountabilityDecision],
    ) -> AccountabilityRead:  # fmt: skip
        return await accountability.decide(db_session, actor, record_id, data, utcnow(), request_id_of(request))


XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV: Final = "text/csv; charset=utf-8"


class PerformanceController(Controller):
    path = "/api/v1/supervision/performance"
    tags = ["supervision 电子监察"]

    @get("/", summary="办件绩效与办件结果比对（按下级单位或按人员，与上期或去年同期对比）",
         opt={"permission": "supervision.read"})  # fmt: skip
    async def performance_figures(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], first: FromQuery[date],
        last: FromQuery[date], unit: FromQuery[UnitCode | None] = None, by: FromQuery[performance.By] = "unit",
        compare: FromQuery[performance.Compare] = "previous",
    ) -> PerformanceRead:  # fmt: skip
        return await performance.performance(db_session, actor, unit, first, last, by, compare)

    @get("/export", summary="导出办件绩效（XLSX 或 CSV）", opt={"permission": "supervision.read"},
         media_type=XLSX)  # fmt: skip
    async def export(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], first: FromQuery[date], last: FromQuery[date],
        unit: FromQuery[UnitCode | None] = None, by: FromQuery[performance.By] = "unit",
        compare: FromQuery[performance.Compare] = "previous", format: FromQuery[Literal["xlsx", "csv"]] = "xlsx",
    ) -> Response[bytes]:  # fmt: skip
        """The export is audited (``supervision.export``): it carries staff figures out of the system."""
        read = await performance.performance(db_session, actor, unit, first, last, by, compare)
        await append(db_session, actor.audit_entry(
            "supervision.export", request_id=request_id_of(request),
            detail={"unit": read.unit, "by": by, "first": str(first), "last": str(last), "format": format},
        ))  # fmt: skip
        name = f"performance-{read.unit}-{by}-{first}-{last}.{format}"
        body, media = (exports.to_xlsx(read), XLSX) if format == "xlsx" else (exports.to_csv(read), CSV)
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                         "Cache-Control": "no-store"})  # fmt: skip


class RankingController(Controller):
    path = "/api/v1/supervision/rankings"
    tags = ["supervision 电子监察"]

    @get("/", summary="已发布的流动红旗和服务之星（本单位、上级单位和下级单位的）", opt={"permission": "cases.read"})
    async def published(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor]
    ) -> list[RankingRead]:
        return await rankings.published(db_session, actor)

    @get("/preview", summary="月度评比预览（按当前数据计算，未发布）", opt={"permission": "supervision.read"})
    async def preview(
        self, db_session: NamedDependency[AsyncSession], actor: NamedDependency[Actor], month: FromQuery[Month],
        kind: FromQuery[rankings.Kind] = "flag", unit: FromQuery[UnitCode | None] = None,
    ) -> RankingRead:  # fmt: skip
        actor.require("supervision.read")
        return await rankings.preview(db_session, actor, unit, month, kind)

    @post("/", summary="发布月度流动红旗或服务之星（月份结束后，每月每类一次）", opt={"permission": "supervision.act"})
    async def publish(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor], data: JSONBody[RankingWrite],
    ) -> RankingRead:  # fmt: skip
        return await rankings.publish(db_session, actor, data, utcnow(), request_id_of(request))
