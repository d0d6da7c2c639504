"""三员分立 as a rule over every pair of roles, who may give which role, and CSV cells a spreadsheet would run."""

from __future__ import annotations

import itertools

import pytest

from fuquan.platform.accounts.roles import (
    DUTIES,
    FRONT_LINE_ROLES,
    PERMISSIONS,
    ROLE_NAMES,
    assignable_by,
    check_separation,
    separation_conflict,
)
from fuquan.platform.auditing.services import safe_cell
from fuquan.platform.core.errors import RuleViolation


def _allowed_together(first: str, second: str) -> bool:
    """The rule, stated plainly: the auditor holds nothing else; two admin roles only of the same duty."""
    if "auditor" in (first, second):
        return first == second
    if first in DUTIES and second in DUTIES:
        return DUTIES[first] == DUTIES[second]
    return True


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations_with_replacement(ROLE_NAMES, 2)))
def test_every_pair_of_roles(first: str, second: str) -> None:
    conflict = separation_conflict([first, second])
    assert (conflict is None) is _allowed_together(first, second), (first, second, conflict)
    if conflict is not None:
        assert conflict.startswith("三员分立：")
        with pytest.raises(RuleViolation) as refused:
            check_separation([second, first])
        assert refused.value.rule == "separation_of_duties" and refused.value.status == 422


def test_the_three_admins_hold_disjoint_permissions() -> None:
    system, security, audit = (PERMISSIONS[role] for role in ("tenant_admin", "security_admin", "auditor"))
    assert audit == {"audit.read"}
    assert "staff.manage" in security and not security & {"grants.manage", "catalog.manage", "audit.read"}
    assert not system & {"staff.manage", "audit.read"}
    assert "share.manage" in system and not (security | audit) & {"share.manage"}  # 共享应用: a system duty
    assert {role for role in ROLE_NAMES if "share.manage" in PERMISSIONS[role]} == {"tenant_admin"}
    assert not any("audit.read" in PERMISSIONS[role] for role in ROLE_NAMES if role != "auditor")


def test_who_may_give_which_roles() -> None:
    assert assignable_by({"security_admin"}) == frozenset(ROLE_NAMES)
    assert assignable_by({"unit_admin"}) == FRONT_LINE_ROLES
    assert not FRONT_LINE_ROLES & set(DUTIES)
    assert assignable_by({"tenant_admin"}) == assignable_by({"auditor"}) == assignable_by({"window_clerk"}) == set()


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("nx_admin", "nx_admin"),
        ("a=1", "a=1"),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_quoted(value: object, shown: str) -> None:
    assert safe_cell(value) == shown
