"""The case state machine is exactly the transition table of DESIGN §7."""

from __future__ import annotations

import pytest

from fuquan.platform.cases.state_machine import (
    TERMINAL,
    Action,
    Status,
    allowed_actions,
    target_of,
    transition_for,
)
from fuquan.platform.core.errors import InvalidTransition

# DESIGN §7, row by row: (from, action, to)
TABLE = [
    ("draft", "submit", "submitted"),
    ("submitted", "accept", "accepted"),
    ("submitted", "refuse", "refused"),
    ("submitted", "request_supplement", "awaiting_supplement"),
    ("awaiting_supplement", "resubmit", "submitted"),
    ("accepted", "assign", "in_review"),
    ("accepted", "reroute", "accepted"),
    ("in_review", "reroute", "accepted"),
    ("accepted", "suspend", "suspended"),
    ("in_review", "suspend", "suspended"),
    ("in_review", "request_correction", "correcting"),  # 审查中补正 (issue 17): the clock stops, review resumes
    ("in_review", "approve", "approved"),
    ("in_review", "deny", "denied"),
    ("approved", "issue", "issued"),
    ("denied", "issue", "issued"),
    ("issued", "close", "closed"),
] + [(s, "revoke", "revoked") for s in ("approved", "issued", "closed")] + [(s, "withdraw", "withdrawn") for s in (
    "draft", "submitted", "accepted", "awaiting_supplement", "in_review", "suspended", "correcting", "approved",
    "denied",
)]  # fmt: skip


@pytest.mark.parametrize(("source", "action", "target"), TABLE)
def test_table_rows(source: str, action: str, target: str) -> None:
    transition = transition_for(Status(source), Action(action))
    assert target_of(transition, None) == Status(target)


def test_nothing_else_is_allowed() -> None:
    allowed = {(source, action) for source, action, _ in TABLE} | {("suspended", "resume"), ("correcting", "resume")}
    for status in Status:
        for action in Action:
            if (status.value, action.value) in allowed:
                continue
            with pytest.raises(InvalidTransition) as refused:
                transition_for(status, action)
            assert refused.value.extra["allowed"] == [a.value for a in allowed_actions(status)]
            assert refused.value.status == 409


def test_resume_returns_to_the_state_it_left() -> None:
    resume = transition_for(Status.SUSPENDED, Action.RESUME)
    assert target_of(resume, Status.IN_REVIEW) == Status.IN_REVIEW
    assert target_of(resume, Status.ACCEPTED) == Status.ACCEPTED
    with pytest.raises(InvalidTransition):
        target_of(resume, Status.DRAFT)


def test_a_correction_resumes_the_review_it_interrupted() -> None:
    resume = transition_for(Status.CORRECTING, Action.RESUME)
    assert target_of(resume, Status.IN_REVIEW) == Status.IN_REVIEW


def test_terminal_states_allow_nothing_but_revoking_a_closed_approval() -> None:
    for status in TERMINAL - {Status.CLOSED}:
        assert allowed_actions(status) == []
    assert allowed_actions(Status.CLOSED) == [Action.REVOKE]  # 撤销准予决定 (Art. 69) may come after 办结


def test_the_409_message_lists_the_allowed_actions_in_chinese() -> None:
    with pytest.raises(InvalidTransition) as refused:
        transition_for(Status.SUBMITTED, Action.APPROVE)
    assert "受理（accept）" in refused.value.detail and "已提交" in refused.value.detail
