"""What the supervision dashboard (电子监察看板) answers: figures per unit and the warning lists."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from fuquan.platform.cases.schemas import Clock, Signal


class UnitRef(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name: str
    level: int


class StatusCount(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    name: str  # 已受理, 审批中 …
    count: int


class UnitFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the per-unit table: a child unit rolled up over its whole subtree, the chosen unit's
    own cases (``own``: 本级), or the total.

    Rates are ``None`` when there is nothing to divide (shown as "—", never as 0 %).
    """

    code: str
    name: str
    level: int
    own: bool = False  # the chosen unit's own cases, not its children's
    drillable: bool = False  # has units below it: the page links to its own dashboard
    total: int  # all cases
    by_status: dict[str, int]
    open: int  # 在办: accepted, in review or in a special procedure — the clock has started, no decision yet
    yellow: int  # 预警 (黄牌): a third or less of the promised working days left
    red: int  # 逾期 (红牌): past the promised deadline
    finished: int  # decided (准予, 不予许可, 出件, 办结) after acceptance
    on_time: int  # … of which decided within the promised working days
    on_time_rate: float | None  # on_time / finished
    ratings: int  # 好差评 received
    rating_average: float | None  # 1–5
    good_ratings: int  # 非常满意、满意、基本满意
    bad_ratings: int  # 不满意、非常不满意 (each gets a follow-up, 整改回访)
    good_share: float | None  # good_ratings / ratings


class WarningRow(msgspec.Struct, frozen=True, kw_only=True):
    """An open case in the red (逾期) or yellow (预警) list, as the case API's clock reads it."""

    case_id: int
    receipt_no: str
    item: str
    item_name: str
    unit: str  # the unit it counts for (where it was accepted)
    unit_name: str
    status: str
    status_name: str
    signal: Signal
    clock: Clock
    deadline: date | None
    working_days_left: int  # negative: working days over the deadline
    applicant: str  # masked name (张*)
    link: str  # the case page


class DashboardRead(msgspec.Struct, frozen=True, kw_only=True):
    unit: UnitRef
    breadcrumb: list[UnitRef]  # from the caller's own unit down to ``unit`` (excluded)
    today: date  # the day the signals were computed for, in the tenant's time zone
    statuses: list[StatusCount]  # the whole subtree, every status (zeros included), in the state machine's order
    units: list[UnitFigures]  # the chosen unit's own cases (if any) first, then each child unit
    total: UnitFigures
    red: list[WarningRow]  # most overdue first
    yellow: list[WarningRow]  # fewest working days left first
    red_total: int
    yellow_total: int
    list_limit: int  # each list shows at most this many rows; the totals count them all


class FollowUpRead(msgspec.Struct, kw_only=True):
    id: int
    case_id: int
    receipt_no: str
    unit: str
    source: str  # rating (差评) | complaint (投诉)
    rating: int | None
    comment: str | None
    status: str
    status_name: str
    callback_due: date
    called_back_at: datetime | None
    rectify_due: date
    rectified_at: datetime | None
    rectification: str | None
    reply: str | None
    review: str | None
    version: int


class FollowUpStep(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    action: Literal["callback", "rectify", "reply", "review"]
    version: Annotated[int, msgspec.Meta(ge=1)]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None
    outcome: Literal["accepted", "returned"] | None = None  # review


class FollowUpRates(msgspec.Struct, kw_only=True):
    unit: str
    name: str
    follow_ups: int
    called_back_in_time: int
    rectified_in_time: int
    callback_rate: float | None  # national target: 100%
    rectification_rate: float | None


class FollowUpSettings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    rectify_working_days: Annotated[int, msgspec.Meta(ge=1, le=30, description="差评整改时限（工作日）")]


# -- 督办单 --

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class OrderWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new 督办单 on one case or one escalation; the unit defaults to the one that has it in hand."""

    case_id: Annotated[int, msgspec.Meta(ge=1)] | None = None
    escalation_id: Annotated[int, msgspec.Meta(ge=1)] | None = None
    unit: str | None = None
    demand: Text  # 督办事项和要求
    due_on: date


class OrderReply(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)]
    reply: LongText  # 书面回复


class OrderReview(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)]
    outcome: Literal["accepted", "returned"]
    note: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    due_on: date | None = None  # returned: the new day to reply by


class OrderStep(msgspec.Struct, kw_only=True):
    at: datetime
    actor: str
    action: str  # issue | reply | accept | return | overdue
    name: str
    note: str | None = None


class OrderRead(msgspec.Struct, kw_only=True):
    id: int
    order_no: str
    case_id: int | None
    escalation_id: int | None
    subject: str  # the case's receipt number or the escalation's registration number
    link: str  # the case's or escalation's page
    unit: str
    unit_name: str
    issuer: str
    issuer_unit: str
    demand: str
    due_on: date
    status: str
    status_name: str
    overdue: bool
    reply: str | None
    replied_by: str | None
    replied_at: datetime | None
    review_note: str | None
    escalated_to: str | None
    escalated_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    steps: list[OrderStep]
    version: int


# -- 责任追究 --


class AccountabilityWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    staff: Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="被追究人员的账号")]
    reason: LongText
    case_ids: Annotated[list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(max_length=50)] = []
    order_ids: Annotated[list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(max_length=50)] = []
    escalation_ids: Annotated[list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(max_length=50)] = []


class AccountabilityStatement(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)]
    statement: LongText  # 陈述申辩


class AccountabilityDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: Annotated[int, msgspec.Meta(ge=1)]
    measure: Literal["none", "education", "written_review", "admonition", "circulated", "reassigned", "referred"]
    decision: Text


class Cited(msgspec.Struct, kw_only=True):
    kind: Literal["case", "order", "escalation"]
    id: int
    link: str


class AccountabilityRead(msgspec.Struct, kw_only=True):
    id: int
    record_no: str
    staff: str  # the person's name
    staff_username: str
    unit: str
    opened_by: str
    reason: str
    cited: list[Cited]
    status: str
    status_name: str
    statement: str | None
    stated_at: datetime | None
    measure: str | None
    measure_name: str | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    created_at: datetime
    version: int


# -- 绩效 and 办件结果比对 --


class Figures(msgspec.Struct, kw_only=True):
    """One staff member's or unit's work over a period. Rates and averages are ``None`` with nothing to divide."""

    accepted: int  # 受理
    refused: int  # 不予受理
    supplements: int  # 补正 requested
    decided: int  # 准予 + 不予许可
    denied: int  # 不予许可
    issued: int  # 出件
    on_time: int  # decided within the promised working days
    on_time_rate: float | None
    average_working_days: float | None  # acceptance to decision, pauses left out
    ratings: int  # of the cases decided in the period, by who accepted them
    rating_average: float | None
    poor_ratings: int
    follow_ups: int  # 差评 and 投诉 follow-ups opened
    callbacks_in_time: int
    callback_rate: float | None
    escalations: int  # 办不成事 traced back to them (the window's own failure, 倒逼)
    orders: int  # 督办单 received (units only)
    accountability: int  # 责任追究 records opened


class PerformanceRow(msgspec.Struct, kw_only=True):
    key: str  # a unit code, or a staff member's username
    name: str
    unit: str  # the unit (for a person, where they work)
    own: bool = False  # the chosen unit's own work (本级), not a child's
    figures: Figures
    previous: Figures | None  # the same row in the period compared against


class PerformanceRead(msgspec.Struct, kw_only=True):
    unit: str
    unit_name: str
    by: Literal["unit", "staff"]
    first: date
    last: date
    previous_first: date | None
    previous_last: date | None
    rows: list[PerformanceRow]  # the busiest first
    total: PerformanceRow


# -- 流动红旗 and 服务之星 --

Month = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份，如 2026-11")]


class RankingRow(msgspec.Struct, kw_only=True):
    rank: int
    key: str  # a unit code or a staff member's username
    name: str
    unit: str
    score: float  # out of 100, see ``services.rankings``
    handled: int  # accepted + decided
    on_time_rate: float | None
    rating_average: float | None
    callback_rate: float | None
    escalations: int
    orders: int
    accountability: int


class RankingWrite(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    unit: str | None = None  # default: the caller's unit
    month: Month
    kind: Literal["flag", "star"]
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RankingRead(msgspec.Struct, kw_only=True):
    id: int | None  # None: a preview, not published
    unit: str
    unit_name: str
    month: str
    kind: Literal["flag", "star"]
    kind_name: str  # 流动红旗 | 服务之星
    rows: list[RankingRow]
    note: str | None
    published_at: datetime | None
