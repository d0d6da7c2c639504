"""办件状态机: the explicit transition table of DESIGN §7.

Each row says which action moves a case from which state to which, and which authority the
acting unit must hold for it: ``accept`` for the front-desk side (受理、补正、出件), ``decide``
for the back-office side (审批). An action not in the table for a state is a 409 that lists the
actions the state does allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from fuquan.platform.core.errors import InvalidTransition


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"  # 受理
    REFUSED = "refused"  # 不予受理
    AWAITING_SUPPLEMENT = "awaiting_supplement"  # 补齐补正, clock stopped
    IN_REVIEW = "in_review"
    SUSPENDED = "suspended"  # 特别程序, clock stopped
    CORRECTING = "correcting"  # 审查中补正: the reviewer asked for corrected materials, clock stopped
    APPROVED = "approved"
    DENIED = "denied"  # 不予许可
    ISSUED = "issued"  # 出件
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"  # 准予决定已撤销 (行政许可法 Art. 69, or reversed on 复议/诉讼): its certificate revoked


class Action(StrEnum):
    SUBMIT = "submit"
    ACCEPT = "accept"
    REFUSE = "refuse"
    REQUEST_SUPPLEMENT = "request_supplement"
    RESUBMIT = "resubmit"
    ASSIGN = "assign"
    REROUTE = "reroute"
    SUSPEND = "suspend"
    REQUEST_CORRECTION = "request_correction"
    RESUME = "resume"
    APPROVE = "approve"
    DENY = "deny"
    ISSUE = "issue"
    CLOSE = "close"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"


Right = Literal["accept", "decide"]
Side = Literal["front", "back"]  # the accepting unit's front desk, or the deciding unit's back office
RESUME_TO_PREVIOUS: Final = "previous"


@dataclass(frozen=True, slots=True)
class Transition:
    action: Action
    sources: frozenset[Status]
    target: Status | Literal["previous"]
    right: Right
    side: Side
    needs_reason: bool = False
    clock: Literal["runs", "stops", "resumes"] = "runs"


_BEFORE_ISSUE = frozenset(Status) - {Status.ISSUED, Status.CLOSED, Status.WITHDRAWN, Status.REFUSED, Status.REVOKED}
_OPEN_AFTER_ACCEPT = frozenset({Status.ACCEPTED, Status.IN_REVIEW})
_APPROVED = frozenset(
    {Status.APPROVED, Status.ISSUED, Status.CLOSED}
)  # a denial issued is not revoked: nothing granted

TRANSITIONS: Final[tuple[Transition, ...]] = (
    Transition(Action.SUBMIT, frozenset({Status.DRAFT}), Status.SUBMITTED, "accept", "front"),
    Transition(Action.ACCEPT, frozenset({Status.SUBMITTED}), Status.ACCEPTED, "accept", "front"),
    Transition(Action.REFUSE, frozenset({Status.SUBMITTED}), Status.REFUSED, "accept", "front", needs_reason=True),
    Transition(
        Action.REQUEST_SUPPLEMENT, frozenset({Status.SUBMITTED}), Status.AWAITING_SUPPLEMENT, "accept", "front",
        needs_reason=True, clock="stops",
    ),
    Transition(
        Action.RESUBMIT, frozenset({Status.AWAITING_SUPPLEMENT}), Status.SUBMITTED, "accept", "front", clock="resumes"
    ),
    Transition(Action.ASSIGN, frozenset({Status.ACCEPTED}), Status.IN_REVIEW, "decide", "back"),
    Transition(Action.REROUTE, _OPEN_AFTER_ACCEPT, Status.ACCEPTED, "accept", "front", needs_reason=True),
    Transition(
        Action.SUSPEND, _OPEN_AFTER_ACCEPT, Status.SUSPENDED, "decide", "back", needs_reason=True, clock="stops"
    ),
    Transition(
        Action.REQUEST_CORRECTION, frozenset({Status.IN_REVIEW}), Status.CORRECTING, "decide", "back",
        needs_reason=True, clock="stops",
    ),
    Transition(
        Action.RESUME, frozenset({Status.SUSPENDED, Status.CORRECTING}), RESUME_TO_PREVIOUS, "decide", "back",
        clock="resumes",
    ),
    Transition(Action.APPROVE, frozenset({Status.IN_REVIEW}), Status.APPROVED, "decide", "back"),
    Transition(Action.DENY, frozenset({Status.IN_REVIEW}), Status.DENIED, "decide", "back", needs_reason=True),
    Transition(Action.ISSUE, frozenset({Status.APPROVED, Status.DENIED}), Status.ISSUED, "accept", "front"),
    Transition(Action.CLOSE, frozenset({Status.ISSUED}), Status.CLOSED, "accept", "front"),
    Transition(Action.WITHDRAW, _BEFORE_ISSUE, Status.WITHDRAWN, "accept", "front", needs_reason=True),
    Transition(Action.REVOKE, _APPROVED, Status.REVOKED, "decide", "back", needs_reason=True),
)  # fmt: skip

_BY_ACTION: Final = {transition.action: transition for transition in TRANSITIONS}
TERMINAL: Final = frozenset({Status.REFUSED, Status.CLOSED, Status.WITHDRAWN, Status.REVOKED})
CLOCK_STOPPED: Final = frozenset({Status.AWAITING_SUPPLEMENT, Status.SUSPENDED, Status.CORRECTING})

ACTION_NAMES: Final = {
    Action.SUBMIT: "提交",
    Action.ACCEPT: "受理",
    Action.REFUSE: "不予受理",
    Action.REQUEST_SUPPLEMENT: "一次性告知补正",
    Action.RESUBMIT: "补正后重新提交",
    Action.ASSIGN: "领办",
    Action.REROUTE: "改派审批单位",
    Action.SUSPEND: "进入特别程序",
    Action.REQUEST_CORRECTION: "审查中一次性告知补正",
    Action.RESUME: "恢复办理",
    Action.APPROVE: "准予",
    Action.DENY: "不予许可",
    Action.ISSUE: "出件",
    Action.CLOSE: "办结",
    Action.WITHDRAW: "撤回申请",
    Action.REVOKE: "撤销准予决定",
}
STATUS_NAMES: Final = {
    Status.DRAFT: "草稿",
    Status.SUBMITTED: "已提交",
    Status.ACCEPTED: "已受理",
    Status.REFUSED: "不予受理",
    Status.AWAITING_SUPPLEMENT: "待补正",
    Status.IN_REVIEW: "审批中",
    Status.SUSPENDED: "特别程序中",
    Status.CORRECTING: "审查中待补正",
    Status.APPROVED: "准予",
    Status.DENIED: "不予许可",
    Status.ISSUED: "已出件",
    Status.CLOSED: "已办结",
    Status.WITHDRAWN: "已撤回",
    Status.REVOKED: "准予决定已撤销",
}


def allowed_actions(status: Status) -> list[Action]:
    """The actions the table allows from ``status``, in table order."""
    return [transition.action for transition in TRANSITIONS if status in transition.sources]


def transition_for(status: Status, action: Action) -> Transition:
    """The row for ``action`` from ``status``, or InvalidTransition listing what is allowed (409)."""
    transition = _BY_ACTION[action]
    if status not in transition.sources:
        allowed = allowed_actions(status)
        names = "、".join(f"{ACTION_NAMES[a]}（{a.value}）" for a in allowed) or "无（办件已结束）"
        raise InvalidTransition(
            f"办件当前状态为“{STATUS_NAMES[status]}”，不能{ACTION_NAMES[action]}；可执行的操作：{names}",
            rule="transition",
            allowed=[a.value for a in allowed],
        )
    return transition


def target_of(transition: Transition, previous: Status | None) -> Status:
    """Where the transition lands; ``resume`` returns to the state the case was suspended from."""
    if transition.target == RESUME_TO_PREVIOUS:
        if previous is None or previous not in _OPEN_AFTER_ACCEPT:
            raise InvalidTransition("无法确定特别程序前的办理状态", rule="resume_state")
        return previous
    return transition.target
