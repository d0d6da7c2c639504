"""The escalation's steps as a table (like DESIGN §7's for cases): from which states each action may be taken, the
state it leads to, and who takes it.

| action    | from                    | to          | who                                           |
|-----------|-------------------------|-------------|-----------------------------------------------|
| register  | —                       | registered  | the desk; the owner: the day's duty leader     |
| classify  | registered              | in_handling | the owner                                     |
| hand_off  | in_handling (guidance)  | resolved    | the owner: 一次性告知 and a window, or 容缺    |
| answer    | in_handling (window_failure) | resolved | the responsible unit's head, on the spot      |
| decide    | in_handling             | resolved    | tier 1 the owner, 3 the center's, 5 the bureau's leaders |
| escalate  | registered, in_handling | (same)      | the tier job when a tier's day passes, or the owner |
| reopen    | resolved                | in_handling | the owner: the resident is not satisfied      |
| close     | resolved                | closed      | the owner: 销号, confirmed or with the reason  |
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from fuquan.platform.core.errors import Conflict


class EscalationStatus(StrEnum):
    REGISTERED = "registered"
    IN_HANDLING = "in_handling"
    RESOLVED = "resolved"
    CLOSED = "closed"


class EscalationAction(StrEnum):
    REGISTER = "register"
    CLASSIFY = "classify"
    HAND_OFF = "hand_off"
    ANSWER = "answer"
    DECIDE = "decide"
    ESCALATE = "escalate"
    REOPEN = "reopen"
    CLOSE = "close"


class Mode(StrEnum):
    GUIDANCE = "guidance"  # 咨询引导: unclear or incomplete request
    WINDOW_FAILURE = "window_failure"  # 窗口失职: the normal window's own failure (倒逼)
    BOTTLENECK = "bottleneck"  # 历史遗留或政策瓶颈: 特事特办


S, A = EscalationStatus, EscalationAction


@dataclass(frozen=True, slots=True)
class Step:
    action: EscalationAction
    sources: frozenset[EscalationStatus]
    target: EscalationStatus | None  # None: the status stays (escalate)
    modes: frozenset[Mode] | None = None  # only in these modes


STEPS: Final = {
    step.action: step
    for step in (
        Step(A.CLASSIFY, frozenset({S.REGISTERED}), S.IN_HANDLING),
        Step(A.HAND_OFF, frozenset({S.IN_HANDLING}), S.RESOLVED, frozenset({Mode.GUIDANCE})),
        Step(A.ANSWER, frozenset({S.IN_HANDLING}), S.RESOLVED, frozenset({Mode.WINDOW_FAILURE})),
        Step(A.DECIDE, frozenset({S.IN_HANDLING}), S.RESOLVED),
        Step(A.ESCALATE, frozenset({S.REGISTERED, S.IN_HANDLING}), None),
        Step(A.REOPEN, frozenset({S.RESOLVED}), S.IN_HANDLING),
        Step(A.CLOSE, frozenset({S.RESOLVED}), S.CLOSED),
    )
}

STATUS_NAMES: Final = {
    S.REGISTERED: "已登记",
    S.IN_HANDLING: "办理中",
    S.RESOLVED: "已解决，待销号",
    S.CLOSED: "已销号",
}
ACTION_NAMES: Final = {
    A.REGISTER: "登记", A.CLASSIFY: "分类", A.HAND_OFF: "一次性告知并转窗口", A.ANSWER: "责任单位当场答复",
    A.DECIDE: "作出处理决定", A.ESCALATE: "升级", A.REOPEN: "重新办理", A.CLOSE: "销号",
}  # fmt: skip
MODE_NAMES: Final = {
    Mode.GUIDANCE: "咨询引导类",
    Mode.WINDOW_FAILURE: "窗口失职类",
    Mode.BOTTLENECK: "历史遗留或政策瓶颈类",
}
TIERS: Final = (1, 3, 5)  # working days: the duty leader, the center's leadership, the bureau's leadership meeting
TIER_NAMES: Final = {1: "值班领导（1个工作日）", 3: "中心领导（3个工作日）", 5: "局领导班子会议（5个工作日）"}


def step_for(status: str, action: EscalationAction, mode: str | None) -> Step:
    step = STEPS[action]
    if status not in step.sources:
        raise Conflict(f"“{STATUS_NAMES[EscalationStatus(status)]}”的问题不能{ACTION_NAMES[action]}",
                       rule="escalation_state")  # fmt: skip
    if step.modes is not None and mode not in step.modes:
        raise Conflict(f"{ACTION_NAMES[action]}只适用于{'、'.join(MODE_NAMES[m] for m in step.modes)}问题",
                       rule="escalation_mode")  # fmt: skip
    return step


def next_tier(tier: int) -> int | None:
    later = [t for t in TIERS if t > tier]
    return later[0] if later else None
