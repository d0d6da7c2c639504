"""What the citizens' pages show: a case's progress by 受理编号 and 查询码, who has used the applicant's data
(谁查询过我的信息, ``share.services.uses``), and one rating (好差评).

The rules (which receipt/code pair opens which case, when and how often a case may be rated, the
follow-up a poor rating triggers, the audit record) are the public API's, in ``cases/public.py``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.models import CaseEvent
from fuquan.platform.cases.schemas import ComplaintWrite, RatingWrite
from fuquan.platform.cases.services import public
from fuquan.platform.cases.services.public import (
    RATABLE,
    RATING_NAMES,
    Complained,
    PublicCase,
    Rated,
    public_case,
    public_progress,
)
from fuquan.platform.cases.services.reads import case_events
from fuquan.platform.cases.state_machine import Action, Status
from fuquan.platform.catalog import services as catalog_services
from fuquan.platform.core.errors import BadRequest, NotFound
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.share.services import uses

WRONG_PAIR: Final = "回执编号或查询码不正确"  # the same words whether the receipt exists or not (no enumeration)
MAX_FIELD = 64  # longer than any receipt number or query code: anything longer is not one
MAX_COMMENT = 500  # RatingWrite.comment
RATING_SCALE: Final = sorted(RATING_NAMES.items(), reverse=True)  # 非常满意 (5) first, as on a paper form

# Steps of the trace a citizen sees, in plain words; material uploads and anything else stay internal.
STEP_LABELS: Final[dict[str, str]] = {
    "create": "窗口登记申请",
    Action.SUBMIT: "提交申请",
    Action.ACCEPT: "正式受理",
    Action.REFUSE: "不予受理",
    Action.REQUEST_SUPPLEMENT: "通知补正材料（暂停计时）",
    Action.RESUBMIT: "补正材料后重新提交",
    Action.ASSIGN: "开始审批",
    Action.REROUTE: "转交有审批权的部门",
    Action.SUSPEND: "进入特别程序（暂停计时）",
    Action.REQUEST_CORRECTION: "审查中通知补正材料（暂停计时）",
    Action.RESUME: "恢复办理",
    Action.APPROVE: "审批通过",
    Action.DENY: "决定不予许可",
    Action.ISSUE: "出件（办理结果已出具）",
    Action.CLOSE: "办结",
    Action.WITHDRAW: "撤回申请",
    Action.REVOKE: "准予决定被依法撤销",
}
EXPLANATIONS: Final[dict[str, str]] = {
    Status.DRAFT: "窗口正在为您登记申请，尚未正式提交。",
    Status.SUBMITTED: "申请已提交，正在等待窗口审核材料、决定是否受理。",
    Status.ACCEPTED: "您的申请已受理，正在办理中。",
    Status.REFUSED: "您的申请不予受理，原因请见窗口出具的《不予受理通知书》。如有疑问，请联系受理单位。",
    Status.AWAITING_SUPPLEMENT: "需要补正材料：请按《补正材料通知书》一次性补齐后交到受理窗口。补正期间暂停计时。",
    Status.IN_REVIEW: "工作人员正在审批您的申请。",
    Status.SUSPENDED: "办件进入特别程序（如核查、公示），这段时间不计入办理时限。",
    Status.CORRECTING: "审查中发现材料需要补正，请按补正材料通知书补正；补正期间不计入办理时限。",
    Status.APPROVED: "审批已通过，正在准备出件。",
    Status.DENIED: "审批决定不予许可，正在准备出件；结果通知书会写明理由。",
    Status.ISSUED: "办理结果已出具（出件）。请到受理单位领取结果，或按窗口告知的方式接收。",
    Status.CLOSED: "办件已办结。",
    Status.WITHDRAWN: "已按您的要求撤回申请。",
    Status.REVOKED: (
        "原准予决定已被依法撤销，相应电子证照已注销。撤销的理由和救济途径以撤销决定书为准；如有疑问，请联系作出决定的单位。"
    ),
}
PAUSED: Final = frozenset({Status.AWAITING_SUPPLEMENT, Status.SUSPENDED, Status.CORRECTING})
ENDED_UNISSUED: Final = frozenset({Status.REFUSED, Status.WITHDRAWN})  # over without a result: nothing to rate


def clean(value: str) -> str:
    """What a citizen typed, as the receipt prints it: full-width characters (a Chinese input method's
    －, ０–９, Ａ–Ｚ) folded to ASCII, dashes unified, spaces dropped, letters in upper case."""
    folded = unicodedata.normalize("NFKC", value)
    for dash in ("—", "–", "‐", "‑", "−"):
        folded = folded.replace(dash, "-")
    return "".join(folded.split()).upper()[: MAX_FIELD + 1]


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


async def rate_case(session: AsyncSession, receipt_no: str, code: str, level: int, comment: str | None) -> Rated:
    """好差评 by the public API's rules (once, after issuance, audited); Conflict otherwise."""
    try:
        rating = msgspec.convert({"code": code, "level": level, "comment": comment}, RatingWrite)
    except msgspec.ValidationError as error:
        raise BadRequest("评价内容不符合要求，请检查后重新提交。", rule="rating_form") from error
    return await public.rate_case(session, receipt_no, rating)


async def complain(session: AsyncSession, receipt_no: str, code: str, text: str) -> Complained:
    """投诉 by the public API's rules (one open at a time, audited, a follow-up for the unit)."""
    return await public.complain(session, receipt_no, ComplaintWrite(code=code, text=text))


# -- the result page --------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Step:
    label: str
    on: date

    @property
    def date_text(self) -> str:
        return chinese_date(self.on)


@dataclass(frozen=True, slots=True)
class ProgressView:
    """The result page: the public API's facts, the item's name and the public timeline (steps and dates)."""

    receipt_no: str
    item_name: str
    status: str
    status_name: str
    explanation: str
    unit: str
    applicant: str  # masked (张*), as the API shows it
    deadline: date | None
    paused: bool
    ended: bool
    steps: list[Step]
    rated: bool
    may_rate: bool
    data_uses: list[uses.DataUse]  # 谁查询过我的信息: partners' answered calls about the applicant (12 months)

    @property
    def deadline_text(self) -> str:
        return chinese_date(self.deadline) if self.deadline else ""


def public_steps(events: list[CaseEvent], tz: str) -> list[Step]:
    """The trace as a citizen may see it: what happened and on which day — never who, where or why."""
    return [Step(STEP_LABELS[e.action], local_date(e.at, tz)) for e in events if e.action in STEP_LABELS]


async def _item_name(session: AsyncSession, found: PublicCase) -> str:
    case = found.case
    try:  # the edition the case was opened under: a later rename does not change what the citizen applied for
        catalog = await catalog_services.edition(session, found.scope, case.catalog_edition)
    except NotFound:
        return case.item_code
    item = catalog.items.get(case.item_code)
    return item.name if item else case.item_code


async def progress_view(session: AsyncSession, receipt_no: str, code: str) -> ProgressView:
    """The result page for a receipt/code pair; NotFound (→ ``WRONG_PAIR``) for any wrong pair."""
    facts = await public_progress(session, receipt_no, code)
    found = await public_case(session, receipt_no, code)
    case, tz = found.case, found.scope.timezone
    status = Status(facts.status)
    return ProgressView(
        receipt_no=facts.receipt_no, item_name=await _item_name(session, found), status=facts.status,
        status_name=facts.status_name, explanation=EXPLANATIONS.get(status, ""), unit=facts.unit,
        applicant=facts.applicant, deadline=facts.deadline, paused=status in PAUSED, ended=status in ENDED_UNISSUED,
        steps=public_steps(await case_events(session, case.id), tz), rated=facts.rated,
        may_rate=status in RATABLE and not facts.rated, data_uses=await uses.data_uses(session, receipt_no, code),
    )  # fmt: skip
