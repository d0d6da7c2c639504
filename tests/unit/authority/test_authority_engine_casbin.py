"""Casbin wiring: the model file, the rows adapter, silence on deny, set semantics, atomic apply."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from casbin.persist import Adapter

from fuquan.authority.engine import CasbinAuthority, RowFilter, RowsAdapter, TenantAuthority
from fuquan.authority.engine.casbin_engine import model_text
from fuquan.authority.engine.lines import (
    GrantSpec,
    PolicyLine,
    bucket_index,
    chain_window,
    compile_grant,
    role_line,
    statutory_lines,
)

NOW = "2026-03-01T00:00:00Z"
BUCKETS = bucket_index(["64", "6402", "640202", "640202001", "37", "3701", "370102", "370102001"])


def lines_of(*grants: GrantSpec) -> list[PolicyLine]:
    by_id = {g.id: g for g in grants}
    return [line for g in grants for line in compile_grant(g, chain_window(g, by_id), BUCKETS)]


def grant(gid: int, unit: str, *, subtree: bool = True, item: str = "HRSS-04") -> GrantSpec:
    return GrantSpec(gid, item, "accept", unit, subtree, datetime(2026, 1, 1, tzinfo=UTC))


def test_model_file_ships_with_the_package() -> None:
    text = model_text()
    assert "p = key, perm, scope, win, eft" in text
    assert "e = some(where (p.eft == allow))" in text


def test_rows_adapter_is_a_casbin_adapter_and_loads_like_load() -> None:
    p_lines = lines_of(grant(1, "6402"), grant(2, "370102")) + statutory_lines("64", ["HRSS-04"])
    g_lines = [role_line("window_clerk", "HRSS-04", "accept")]
    rows = [("p", *line) for line in p_lines] + [("g", *line) for line in g_lines]
    adapter = RowsAdapter(rows)
    assert isinstance(adapter, Adapter)

    via_adapter = CasbinAuthority(adapter)
    direct = CasbinAuthority()
    direct.load(p_lines, g_lines)
    assert via_adapter.lines() == direct.lines() == set(p_lines)
    assert via_adapter.role_permissions() == g_lines
    assert via_adapter.decide("640202001001", "HRSS-04", "accept", "window_clerk", NOW) == (True, 1)

    tenant = CasbinAuthority(RowsAdapter(rows), RowFilter(key_prefix="64"))
    assert adapter.is_filtered() is False
    assert {line[0][:2] for line in tenant.lines()} == {"64"}
    assert tenant.decide("370102001001", "HRSS-04", "accept", "", NOW) == (False, None)
    assert tenant.decide("640202001001", "HRSS-04", "accept", "window_clerk", NOW) == (True, 1)


def test_deny_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    authority = CasbinAuthority()
    authority.load(lines_of(grant(1, "640202")))
    loggers = [logging.getLogger(name) for name in ("casbin", "casbin.enforcer")]
    was_disabled = [logger.disabled for logger in loggers]
    try:
        for logger in loggers:
            logger.disabled = False  # as after an application's logging.config.dictConfig
        with caplog.at_level(logging.DEBUG):
            assert authority.decide("640205001001", "HRSS-04", "accept", "", NOW) == (False, None)
            assert authority.decide("640202001001", "HRSS-04", "accept", "", NOW) == (True, 1)
    finally:
        for logger, disabled in zip(loggers, was_disabled, strict=True):
            logger.disabled = disabled
    assert [r for r in caplog.records if r.name.startswith("casbin")] == []


def test_matcher_is_compiled_once_and_sees_role_changes() -> None:
    authority = TenantAuthority()
    authority.load(lines_of(grant(1, "640202001")))
    assert authority.decide("640202001", "HRSS-04", "accept", "clerk", NOW, "casbin") == (False, None)
    authority.apply(added_roles=[role_line("clerk", "HRSS-04", "accept")])
    assert authority.decide("640202001", "HRSS-04", "accept", "clerk", NOW, "casbin") == (True, 1)
    authority.apply(removed_roles=[role_line("clerk", "HRSS-04", "accept")])
    assert authority.decide("640202001", "HRSS-04", "accept", "clerk", NOW, "casbin") == (False, None)
    assert len(authority.casbin.enforcer._expressions) == 1


def test_identical_grants_stay_distinct_lines() -> None:
    """Two grants with the same unit, item and window must not collapse into one set member."""
    twins = lines_of(grant(1, "6402"), grant(2, "6402"))
    authority = TenantAuthority()
    authority.load(twins)
    authority.apply(removed_lines=lines_of(grant(1, "6402")))
    for engine in ("casbin", "hot"):
        assert authority.decide("640202001001", "HRSS-04", "accept", "", NOW, engine) == (True, 2)


def test_role_names_cannot_alias_a_perm() -> None:
    """casbin's role manager answers g(x, x) true; a role named like a perm must still be denied."""
    authority = TenantAuthority()
    authority.load(lines_of(grant(1, "640202001")))
    for engine in ("casbin", "hot"):
        assert authority.decide("640202001", "HRSS-04", "accept", "HRSS-04|accept", NOW, engine) == (False, None)


def test_a_bad_line_in_a_change_set_changes_nothing() -> None:
    authority = TenantAuthority()
    authority.load(lines_of(grant(1, "640202001")))
    bad: PolicyLine = ("640202", "HRSS-04|accept", "640202*", "whenever#3", "allow")
    with pytest.raises(ValueError, match="malformed policy line"):
        authority.apply(lines_of(grant(2, "640202")), [*lines_of(grant(1, "640202001")), bad])
    assert authority.casbin.lines() == authority.hot.lines() == set(lines_of(grant(1, "640202001")))


def test_unit_lines_are_keyed_by_their_unit() -> None:
    """A village's unit line is found through its own key, not scanned with its township's."""
    authority = TenantAuthority()
    authority.load(lines_of(grant(1, "640202001001", subtree=False), grant(2, "640202001", subtree=False)))
    assert {line[0] for line in authority.casbin.lines()} == {"640202001001", "640202001"}
    for engine in ("casbin", "hot"):
        assert authority.decide("640202001001", "HRSS-04", "accept", "", NOW, engine) == (True, 1)
        assert authority.decide("640202001", "HRSS-04", "accept", "", NOW, engine) == (True, 2)
        assert authority.decide("640202001002", "HRSS-04", "accept", "", NOW, engine) == (False, None)
