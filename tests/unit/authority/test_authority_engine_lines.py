"""Grant compilation: instants, chain windows, line shapes, line checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from fuquan.authority.engine.lines import (
    FOREVER,
    GrantSpec,
    bucket_index,
    chain_descendants,
    chain_window,
    check_line,
    children_index,
    compile_grant,
    grant_id_of,
    instant,
    role_line,
    statutory_lines,
)

CST = timezone(timedelta(hours=8))
BUCKETS = bucket_index(["64", "6402", "640202", "640202001", "640202002", "640205", "640205100"])


def g(gid: int, unit: str, *, subtree: bool = False, parent: int | None = None, **kw: datetime | None) -> GrantSpec:
    return GrantSpec(
        gid,
        "HRSS-04",
        "accept",
        unit,
        subtree,
        kw.get("valid_from") or datetime(2026, 1, 1, tzinfo=UTC),
        kw.get("valid_until"),
        kw.get("revoked_at"),
        parent,
    )


def test_instant_is_fixed_width_utc_floored() -> None:
    assert instant(datetime(2026, 1, 1, 8, 0, 0, 999_999, tzinfo=CST)) == "2026-01-01T00:00:00Z"
    assert instant(datetime(999, 3, 4, 5, 6, 7, tzinfo=UTC)) == "0999-03-04T05:06:07Z"
    assert len(instant(datetime(2026, 7, 1, tzinfo=UTC))) == len(FOREVER)
    with pytest.raises(ValueError, match="timezone-aware"):
        instant(datetime(2026, 1, 1))


def test_grant_spec_rejects_naive_datetimes_and_bad_codes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        GrantSpec(1, "HRSS-04", "accept", "640202", True, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="not a division code"):
        GrantSpec(1, "HRSS-04", "accept", "6402021", True, datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="may not contain"):
        GrantSpec(1, "HRSS-0*", "accept", "640202", True, datetime(2026, 1, 1, tzinfo=UTC))


def test_chain_window_intersects_the_chain() -> None:
    parent = g(1, "640202", subtree=True, valid_until=datetime(2026, 7, 1, tzinfo=UTC))
    child = g(
        2,
        "640202001",
        parent=1,
        valid_from=datetime(2026, 2, 1, tzinfo=UTC),
        revoked_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    grants = {1: parent, 2: child}
    assert chain_window(child, grants) == ("2026-02-01T00:00:00Z", "2026-05-01T00:00:00Z")
    assert chain_window(parent, grants) == ("2026-01-01T00:00:00Z", "2026-07-01T00:00:00Z")
    assert chain_descendants(1, children_index(grants.values())) == [1, 2]


def test_revoked_before_valid_from_compiles_to_nothing() -> None:
    grant = g(1, "640202001", revoked_at=datetime(2025, 12, 1, tzinfo=UTC))
    assert compile_grant(grant, chain_window(grant, {1: grant}), BUCKETS) == []


def test_line_shapes() -> None:
    win = "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#"
    unit = g(1, "640202001001")
    assert compile_grant(unit, chain_window(unit, {1: unit}), BUCKETS) == [
        ("640202001001", "HRSS-04|accept", "640202001001", win + "1", "allow")
    ]
    township = g(2, "640202001", subtree=True)
    assert compile_grant(township, chain_window(township, {}), BUCKETS) == [
        ("640202001", "HRSS-04|accept", "640202001*", win + "2", "allow")
    ]
    county = g(3, "640202", subtree=True)
    lines = compile_grant(county, chain_window(county, {}), BUCKETS)
    assert [line[0] for line in lines] == ["640202", "640202001", "640202002"]
    assert {line[2] for line in lines} == {"640202*"}
    assert grant_id_of(lines[0][3]) == 3
    for line in lines:
        check_line(line)


@pytest.mark.parametrize(
    "line",
    [
        ("640202*", "HRSS-04|accept", "640202*", "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#1", "allow"),
        ("640202", "HRSS-*|accept", "640202*", "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#1", "allow"),
        ("640205", "HRSS-04|accept", "640202*", "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#1", "allow"),
        ("640202001", "HRSS-04|accept", "640202001001", "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#1", "deny"),
        ("640202002", "HRSS-04|accept", "640202001001", "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#1", "allow"),
        ("640202001", "HRSS-04|read", "640202001001", "2026-01-01T00:00:00Z/9999-12-31T23:59:59Z#1", "allow"),
        ("640202001", "HRSS-04|accept", "640202001001", "2026-01-01T00:00:00Z/2026-01-01T00:00:00Z#1", "allow"),
        ("640202001", "HRSS-04|accept", "640202001001", "2026-01-01/9999-12-31#1", "allow"),
    ],
)
def test_check_line_refuses_what_compile_never_writes(line: tuple[str, str, str, str, str]) -> None:
    with pytest.raises(ValueError, match="policy line"):
        check_line(line)


def test_statutory_and_role_lines() -> None:
    assert statutory_lines("64", ["HRSS-01"]) == [
        ("64", "HRSS-01|accept", "64", "0001-01-01T00:00:00Z/9999-12-31T23:59:59Z#0", "allow"),
        ("64", "HRSS-01|decide", "64", "0001-01-01T00:00:00Z/9999-12-31T23:59:59Z#0", "allow"),
    ]
    assert role_line("approver", "HRSS-01", "decide") == ("approver", "HRSS-01|decide")
    with pytest.raises(ValueError, match="malformed role line"):
        role_line("HRSS-01|decide", "HRSS-01", "decide")
