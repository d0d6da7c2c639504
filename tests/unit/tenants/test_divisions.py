from __future__ import annotations

import pytest

from fuquan.tenants.divisions import (
    Division,
    ancestor_codes,
    grid_count,
    grids_of,
    level_of,
    load_province,
    parent_code_of,
    province_names,
)


def test_levels_and_parents() -> None:
    assert level_of("64") == 1 and level_of("640202001001001") == 6
    assert parent_code_of("640202001001") == "640202001"
    assert parent_code_of("64") is None
    assert ancestor_codes("640202001001001") == ["64", "6402", "640202", "640202001", "640202001001"]
    for bad in ("6", "6402020", "64a2", ""):
        with pytest.raises(ValueError, match="区划代码"):
            level_of(bad)


def test_grids_are_deterministic_and_numbered() -> None:
    village = Division("640202001001", "骏马社区居委会", 5)
    grids = grids_of(village)
    assert grids == grids_of(village)
    assert 3 <= len(grids) <= 8
    assert [g.code for g in grids] == [f"640202001001{n:03d}" for n in range(1, len(grids) + 1)]
    assert {grid_count(f"6402020010{n:02d}") for n in range(1, 60)} <= set(range(3, 9))


def test_national_file_has_every_province() -> None:
    names = province_names()
    assert len(names) == 31 and names["37"] == "山东省" and names["64"] == "宁夏回族自治区"


def test_load_province_rejects_unknown_codes() -> None:
    with pytest.raises(ValueError, match="没有省级代码"):
        load_province("99")
    with pytest.raises(ValueError, match="2 位数字"):
        load_province("640")
