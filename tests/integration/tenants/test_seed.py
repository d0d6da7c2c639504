"""Seeded tenants hold every real unit of their province plus the generated grids."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import func, select

from fuquan.platform.core.db import create_engine, session_factory
from fuquan.tenants.divisions import grid_count
from fuquan.tenants.models import Tenant, Unit
from helpers import login

pytestmark = pytest.mark.anyio

# The Ningxia statistical file (2022), counted independently of the importer.
NINGXIA_REAL = {1: 1, 2: 5, 3: 22, 4: 259, 5: 2912}


def _ningxia_rows() -> list[dict[str, str]]:
    from importlib import resources

    text = (resources.files("fuquan.tenants") / "data" / "divisions_ningxia_2022.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


async def test_seed_counts_match_the_real_data(database_url: str) -> None:
    rows = _ningxia_rows()
    expected_grids = sum(grid_count(r["code"]) for r in rows if r["level"] == "5")
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        tenants = {t.code: t for t in await session.scalars(select(Tenant))}
        assert set(tenants) == {"64", "46"}
        assert tenants["64"].name == "宁夏回族自治区人力资源和社会保障厅"
        counts = dict(
            (await session.execute(
                select(Unit.level, func.count()).where(Unit.tenant_id == tenants["64"].id).group_by(Unit.level)
            )).tuples().all()
        )  # fmt: skip
        codes = set(await session.scalars(select(Unit.code).where(Unit.tenant_id == tenants["64"].id, Unit.level <= 5)))
        orphans = await session.scalar(
            select(func.count()).select_from(Unit).where(Unit.tenant_id == tenants["64"].id, Unit.level > 1,
                                                         Unit.parent_code.not_in(select(Unit.code)))
        )  # fmt: skip
    await engine.dispose()
    assert {level: counts[level] for level in NINGXIA_REAL} == NINGXIA_REAL
    assert counts[6] == expected_grids
    assert 3 * 2912 <= counts[6] <= 8 * 2912
    assert codes == {r["code"] for r in rows}
    assert orphans == 0


async def test_unit_lookups(client: Any) -> None:
    headers = await login(client, "nx_admin")
    unit = (await client.get("/api/v1/units/640202001001", headers=headers)).json()
    assert unit == {"code": "640202001001", "name": unit["name"], "level": 5, "parent_code": "640202001"}
    children = (await client.get("/api/v1/units/640202001001/children", headers=headers)).json()
    assert [c["code"] for c in children] == [f"640202001001{n:03d}" for n in range(1, len(children) + 1)]
    assert 3 <= len(children) <= 8 and all(c["level"] == 6 for c in children)
    streets = (await client.get("/api/v1/units/640202/children", headers=headers)).json()
    assert {"640202001", "640202100"} <= {c["code"] for c in streets}
