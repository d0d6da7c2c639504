"""Unit codes in their 12-digit statistical form (how other systems send them) are accepted wherever a unit
code is — API query and path parameters, JSON bodies, page fields, commands — and answers keep the short code.

640202000000 is 640202 (大武口区), 640202001000 is 640202001 (长胜街道); a real village code such as
640202001001 stays as it is, and a 15-digit grid code too. Anything else is not a unit code: a 400 saying so.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fuquan.platform.cli.main import cli
from fuquan.platform.core.personal import id_check_char
from helpers import login, web_login, web_post

pytestmark = pytest.mark.anyio

PROVINCE, CITY, COUNTY, TOWN, VILLAGE, GRID = (
    "64", "6402", "640202", "640202001", "640202001001", "640202001001001",
)  # fmt: skip
LONG = {PROVINCE: "640000000000", CITY: "640200000000", COUNTY: "640202000000", TOWN: "640202001000"}
ITEM = "HRSS-02"  # 失业登记: accepted down to villages, decided down to townships
NOT_CODES = ["6402x2", "645", "6402020", "6402020010", "64020200100", "６４０２０２"]
BODY = "64020219900101123"
RESIDENT = BODY + id_check_char(BODY)


def grant(unit: str, **changes: Any) -> dict[str, Any]:
    body = {"item": ITEM, "action": "accept", "unit": unit, "scope": "subtree", "valid_from": "2026-01-01",
            "instrument": "宁人社发〔2026〕8号", "redelegable": True}  # fmt: skip
    return {**body, **changes}


def h1(page: Any) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.S)
    assert found, page.text[:1000]
    return found.group(1)


def assert_not_a_code(response: Any) -> None:
    assert response.status_code == 400, (response.request.url, response.status_code, response.text[:300])
    assert "区划代码" in response.text and "2、4、6、9、12 或 15 位数字" in response.text, response.text[:500]


# -- API: units -----------------------------------------------------------------------------------


async def test_units_by_their_12_digit_form(client: Any) -> None:
    headers = await login(client, "nx_admin")
    for short, long in LONG.items():
        unit = await client.get(f"/api/v1/units/{long}", headers=headers)
        assert unit.status_code == 200, (long, unit.text)
        assert unit.json() == (await client.get(f"/api/v1/units/{short}", headers=headers)).json()
        assert unit.json()["code"] == short
        children = await client.get(f"/api/v1/units/{long}/children", headers=headers)
        assert children.status_code == 200
        assert children.json() == (await client.get(f"/api/v1/units/{short}/children", headers=headers)).json()
    village = await client.get(f"/api/v1/units/{VILLAGE}", headers=headers)
    assert village.json()["code"] == VILLAGE and village.json()["level"] == 5  # never shortened
    grid = await client.get(f"/api/v1/units/{GRID}", headers=headers)
    assert grid.json()["code"] == GRID and grid.json()["level"] == 6
    assert (await client.get("/api/v1/units/640202009000", headers=headers)).status_code == 404  # no such street
    for bad in NOT_CODES:
        assert_not_a_code(await client.get(f"/api/v1/units/{bad}", headers=headers))
        assert_not_a_code(await client.get(f"/api/v1/units/{bad}/children", headers=headers))


async def test_the_12_digit_form_is_still_bounded_by_tenant_and_scope(client: Any) -> None:
    hainan = await login(client, "hn_admin")
    assert (await client.get(f"/api/v1/units/{LONG[COUNTY]}", headers=hainan)).status_code == 404
    assert (await client.get("/api/v1/units/460100000000", headers=hainan)).json()["code"] == "4601"
    street_admin = await login(client, "cs_admin")
    assert (await client.get(f"/api/v1/units/{LONG[COUNTY]}", headers=street_admin)).status_code == 404
    assert (await client.get(f"/api/v1/units/{LONG[TOWN]}", headers=street_admin)).status_code == 200


# -- API: grants, check, matrix -------------------------------------------------------------------


async def test_grants_check_and_matrix_with_12_digit_codes(client: Any) -> None:
    admin = await login(client, "nx_admin")
    created = await client.post("/api/v1/grants", json=grant(LONG[COUNTY]), headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["unit"] == COUNTY
    county = await login(client, "dwk_admin")
    batch = await client.post("/api/v1/grants/batch", headers=county, json={"grants": [
        grant(LONG[TOWN], scope="unit", redelegable=False, instrument="大人社发〔2026〕2号"),
        grant(VILLAGE, scope="unit", redelegable=False, instrument="大人社发〔2026〕3号"),
    ]})  # fmt: skip
    assert batch.status_code == 201, batch.text
    assert [g["unit"] for g in batch.json()] == [TOWN, VILLAGE]

    listed = await client.get("/api/v1/grants", params={"unit": LONG[COUNTY]}, headers=admin)
    assert listed.status_code == 200 and [g["id"] for g in listed.json()] == [created.json()["id"]]
    by_town = await client.get("/api/v1/grants", params={"unit": LONG[TOWN]}, headers=admin)
    assert [g["unit"] for g in by_town.json()] == [TOWN]

    params = {"item": ITEM, "action": "accept"}
    for sent, kept in ((LONG[TOWN], TOWN), (LONG[COUNTY], COUNTY), (VILLAGE, VILLAGE)):
        check = await client.get("/api/v1/authority/check", params={"unit": sent, **params}, headers=admin)
        assert check.status_code == 200, (sent, check.text)
        assert check.json()["unit"] == kept and check.json()["allowed"], check.json()
    grid = await client.get("/api/v1/authority/check", params={"unit": GRID, **params}, headers=admin)
    assert grid.json()["unit"] == GRID and grid.json()["rule"] == "floor"  # a grid, below the item's floor
    province = await client.get("/api/v1/authority/check", params={"unit": LONG[PROVINCE], **params}, headers=admin)
    assert province.json()["unit"] == PROVINCE and province.json()["allowed"]  # the tenant root: by statute

    matrix = await client.get("/api/v1/authority/matrix", params={"unit": LONG[COUNTY]}, headers=admin)
    assert matrix.status_code == 200, matrix.text
    short = await client.get("/api/v1/authority/matrix", params={"unit": COUNTY}, headers=admin)
    assert matrix.json()["unit"] == COUNTY and matrix.json()["units"] == short.json()["units"]
    assert matrix.json()["units"][0]["code"] == COUNTY


async def test_api_refuses_what_is_not_a_unit_code_in_chinese(client: Any) -> None:
    admin = await login(client, "nx_admin")
    for bad in NOT_CODES:
        assert_not_a_code(await client.post("/api/v1/grants", json=grant(bad), headers=admin))
        assert_not_a_code(await client.post("/api/v1/grants/batch", json={"grants": [grant(bad)]}, headers=admin))
        assert_not_a_code(await client.get("/api/v1/grants", params={"unit": bad}, headers=admin))
        check = {"unit": bad, "item": ITEM, "action": "accept"}
        assert_not_a_code(await client.get("/api/v1/authority/check", params=check, headers=admin))
        assert_not_a_code(await client.get("/api/v1/authority/matrix", params={"unit": bad}, headers=admin))
        assert_not_a_code(await client.get("/api/v1/cases", params={"unit": bad}, headers=admin))
        assert_not_a_code(await client.get("/api/v1/supervision/dashboard", params={"unit": bad}, headers=admin))
    assert (await client.get("/api/v1/grants", headers=admin)).json() == []


async def test_the_openapi_document_describes_unit_codes(client: Any) -> None:
    document = (await client.get("/schema/openapi.json")).json()
    paths = document["paths"]
    for path in ("/api/v1/authority/check", "/api/v1/authority/matrix"):
        (unit,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "unit"]
        assert unit["required"] and "12 位" in unit["description"]
        assert unit["schema"]["pattern"] == "^(?:[0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$"
    (code,) = paths["/api/v1/units/{code}"]["get"]["parameters"]
    assert code["in"] == "path" and "pattern" in code["schema"]
    for path in ("/api/v1/grants", "/api/v1/cases", "/api/v1/supervision/dashboard"):
        (unit,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "unit"]
        assert not unit["required"] and "pattern" in str(unit["schema"]), (path, unit)
    schemas = document["components"]["schemas"]
    for name, schema in schemas.items():
        if name.endswith(("GrantCreate", "CaseCreate")):
            assert "pattern" in schema["properties"]["unit"], name


# -- API: cases, supervision ----------------------------------------------------------------------


async def test_a_case_opened_at_a_12_digit_code(client: Any) -> None:
    admin = await login(client, "nx_admin")
    for action in ("accept", "decide"):
        body = grant(LONG[TOWN], action=action, scope="unit", redelegable=False)
        assert (await client.post("/api/v1/grants", json=body, headers=admin)).status_code == 201
    clerk = await login(client, "cs_clerk")
    body = {"item": ITEM, "unit": LONG[TOWN], "applicant": {"id_number": RESIDENT, "name": "张三"}}
    opened = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert opened.status_code == 201, opened.text
    case = opened.json()
    assert case["unit"] == TOWN and case["receipt_no"].startswith(f"{TOWN}-")

    queue = await client.get("/api/v1/cases", params={"unit": LONG[TOWN]}, headers=clerk)
    assert queue.status_code == 200 and [c["id"] for c in queue.json()["items"]] == [case["id"]]
    supervisor = await login(client, "dwk_supervisor")
    board = await client.get("/api/v1/supervision/dashboard", params={"unit": LONG[TOWN]}, headers=supervisor)
    assert board.status_code == 200, board.text
    assert board.json()["unit"]["code"] == TOWN and board.json()["total"]["total"] == 1
    county = await client.get("/api/v1/supervision/dashboard", params={"unit": LONG[COUNTY]}, headers=supervisor)
    assert county.status_code == 200 and county.json()["unit"]["code"] == COUNTY

    elsewhere = {**body, "unit": "640202002000"}  # another street: not this clerk's desk, whatever its form
    assert (await client.post("/api/v1/cases", json=elsewhere, headers=clerk)).status_code in (403, 404)
    assert_not_a_code(await client.post("/api/v1/cases", json={**body, "unit": "6402020010"}, headers=clerk))


# -- pages ----------------------------------------------------------------------------------------


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


async def test_authority_pages_take_12_digit_codes(web: Any) -> None:
    await web_login(web, "nx_admin")
    matrix = await web.get(f"/authority?unit={LONG[COUNTY]}")
    assert matrix.status_code == 200, matrix.text[:500]
    assert "大武口区" in h1(matrix) and h1(matrix) == h1(await web.get(f"/authority?unit={COUNTY}"))
    assert f'href="/authority?unit={TOWN}&amp;action=accept"' in matrix.text  # its streets, by their own codes

    new = await web.get(f"/authority/grants/new?unit={LONG[TOWN]}&item={ITEM}&action=accept")
    assert new.status_code == 200 and f'value="{TOWN}"' in new.text and "已选：长胜街道" in new.text

    form = {"item": ITEM, "action": "accept", "unit": LONG[TOWN], "scope": "unit", "valid_from": "2026-01-01",
            "valid_until": "", "instrument": "宁人社发〔2026〕8号", "basis": "devolved"}  # fmt: skip
    created = await web_post(web, "/authority/grants/new", "/authority/grants", form)
    assert created.status_code == 303, created.text[:2000]
    grant_id = created.headers["location"].rsplit("/", 1)[1]
    api = await web.get(f"/api/v1/grants/{grant_id}", headers=await login(web, "nx_admin"))
    assert api.json()["unit"] == TOWN

    listed = await web.get(f"/authority/grants?unit={LONG[TOWN]}")
    assert listed.status_code == 200 and f"#{grant_id}</a>" in listed.text
    explained = await web.get(f"/authority/explain?unit={LONG[TOWN]}&item={ITEM}&action=accept")
    assert explained.status_code == 200 and "✓ 可以" in explained.text and f"赋权 #{grant_id}" in explained.text
    assert f'value="{TOWN}"' in explained.text  # the form shows the code as Fuquan keeps it


async def test_pages_refuse_what_is_not_a_unit_code_in_chinese(web: Any) -> None:
    await web_login(web, "nx_admin")
    for bad in ("6402x2", "6402020010"):
        for path in (f"/authority?unit={bad}", f"/authority/grants?unit={bad}", f"/supervision?unit={bad}"):
            page = await web.get(path)
            assert page.status_code == 400 and '<html lang="zh-CN">' in page.text, (path, page.status_code)
            assert "区划代码" in page.text, path
        explained = await web.get(f"/authority/explain?unit={bad}&item={ITEM}&action=accept")
        assert explained.status_code == 400 and 'id="unit-error"' in explained.text and "区划代码" in explained.text
        form = {"item": ITEM, "action": "accept", "unit": bad, "scope": "unit", "valid_from": "2026-01-01",
                "valid_until": "", "instrument": "宁人社发〔2026〕8号", "basis": "devolved"}  # fmt: skip
        refused = await web_post(web, "/authority/grants/new", "/authority/grants", form)
        assert refused.status_code == 400 and 'id="unit-error"' in refused.text and f'value="{bad}"' in refused.text


async def test_the_supervision_page_takes_12_digit_codes(web: Any) -> None:
    await web_login(web, "dwk_supervisor")
    page = await web.get(f"/supervision?unit={LONG[TOWN]}")
    assert page.status_code == 200, page.text[:500]
    assert "长胜街道" in page.text


# -- commands -------------------------------------------------------------------------------------


def test_staff_add_takes_a_12_digit_unit(database_url: str, tmp_path: Path) -> None:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    args = ["staff", "add", "cs_clerk_2", "--tenant", "64", "--unit", LONG[TOWN], "--role", "window_clerk",
            "--password-stdin"]  # fmt: skip
    added = runner.invoke(cli, args, input="a-good-long-password\n", env=env)
    assert added.exit_code == 0, added.output
    assert f"单位 {TOWN}" in added.output
    assert asyncio.run(_staff_units(database_url, "cs_clerk_2")) == (TOWN, [TOWN])
    bad = runner.invoke(cli, [*args[:2], "cs_clerk_3", *args[3:6], "6402020010", *args[7:]],
                        input="a-good-long-password\n", env=env)  # fmt: skip
    assert bad.exit_code == 2 and "区划代码" in bad.output, bad.output
    assert asyncio.run(_staff_units(database_url, "cs_clerk_3")) is None


async def _staff_units(database_url: str, username: str) -> tuple[str, list[str]] | None:
    """The staff member's unit and the units of their role assignments, as stored."""
    from fuquan.platform.accounts.repositories import StaffRepository
    from fuquan.platform.core.db import create_engine, session_factory

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            staff = await StaffRepository(session).by_username(username)
            return None if staff is None else (staff.unit_code, [role.unit_code for role in staff.roles])
    finally:
        await engine.dispose()


def test_tenants_import_reads_a_12_digit_province_code(database_url: str, tmp_path: Path) -> None:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path)}
    runner = CliRunner()
    absent = runner.invoke(cli, ["tenants", "import", "--province", "990000000000"], env=env)
    assert absent.exit_code == 2 and "没有省级代码 99" in absent.output, absent.output  # read as 99
    bad = runner.invoke(cli, ["tenants", "import", "--province", "6300x"], env=env)
    assert bad.exit_code == 2 and "区划代码" in bad.output, bad.output


def test_tenant_options_take_the_twelve_digit_form_too(database_url: str, tmp_path: Path) -> None:
    """``--tenant 640000000000`` is tenant 64 for every command that names a tenant; a wrong code is a usage error."""
    env = {"FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_DATABASE_URL": database_url}
    runner = CliRunner()
    shown = runner.invoke(cli, ["calendar", "show", "--tenant", "640000000000", "--year", "2026"], env=env)
    assert shown.exit_code == 0, shown.output
    assert runner.invoke(cli, ["partners", "list", "--tenant", "640000000000"], env=env).exit_code == 0
    for command in (["calendar", "show", "--tenant"], ["partners", "list", "--tenant"]):
        refused = runner.invoke(cli, [*command, "6400000000000"], env=env)
        assert refused.exit_code == 2 and "区划代码格式不正确" in refused.output, refused.output
