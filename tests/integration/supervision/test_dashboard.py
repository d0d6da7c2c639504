"""The supervision dashboard API (电子监察): figures of a known set of cases, the red and yellow lists, scope."""

from __future__ import annotations

from typing import Any

import pytest

from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from helpers import PASSWORD, accepted_days_ago, enrol, login, open_case, step

pytestmark = pytest.mark.anyio

TZ = "Asia/Shanghai"
COUNTY, TOWN, SIBLING, VILLAGE = "640202", "640202001", "640202002", "640202001001"
ITEM = "HRSS-04"  # 就业困难人员认定: 5 promised working days, accepted from villages up, decided at townships
PROMISED_DAYS = 5
DASHBOARD = "/api/v1/supervision/dashboard"


def resident(n: int) -> str:
    body = f"640202199001{n:02d}123"[:17]
    return body + id_check_char(body)


async def grant(client: Any, admin: dict[str, str], action: str, unit: str, scope: str = "unit") -> None:
    body = {"item": ITEM, "action": action, "unit": unit, "scope": scope, "valid_from": "2026-01-01",
            "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
    response = await client.post("/api/v1/grants", json=body, headers=admin)
    assert response.status_code == 201, response.text


async def new_case(client: Any, clerk: dict[str, str], unit: str, n: int, name: str) -> dict[str, Any]:
    return await open_case(client, clerk, ITEM, unit, resident(n), name)


async def rate(client: Any, case: dict[str, Any], level: int) -> None:
    response = await client.post(
        f"/api/v1/public/cases/{case['receipt_no']}/rating", json={"code": case["query_code"], "level": level}
    )
    assert response.status_code == 201, response.text


async def known_cases(client: Any, database_url: str) -> dict[str, dict[str, Any]]:
    """Eight cases in two townships of 大武口区 (and a village of one), with known signals and ratings:

    长胜街道 (本级): A in review, 7 working days used (red, 2 over); B accepted, 4 used (yellow, 1 left);
      C closed on time, rated 5; D issued, decided after 8 working days (late), rated 2; H only submitted.
    骏马社区 (a village of 长胜街道): E accepted today (normal).
    朝阳街道: F accepted 10 working days ago (red, 5 over); G issued on time, rated 3.
    """
    admin = await login(client, "nx_admin")
    await grant(client, admin, "accept", TOWN, scope="subtree")
    await grant(client, admin, "decide", TOWN)
    await grant(client, admin, "accept", SIBLING)
    await grant(client, admin, "decide", SIBLING)
    await enrol(database_url, "zy_clerk", "64", SIBLING, ["window_clerk"])
    await enrol(database_url, "zy_approver", "64", SIBLING, ["approver"])
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    agent = await login(client, "jm_agent")
    zy_clerk, zy_approver = await login(client, "zy_clerk", PASSWORD), await login(client, "zy_approver", PASSWORD)
    cases: dict[str, dict[str, Any]] = {}

    cases["A"] = await step(client, clerk, await new_case(client, clerk, TOWN, 1, "赵一"), "submit", "accept")
    cases["A"] = await step(client, approver, cases["A"], "assign")
    await accepted_days_ago(database_url, cases["A"], 7, PROMISED_DAYS)
    cases["B"] = await step(client, clerk, await new_case(client, clerk, TOWN, 2, "钱二"), "submit", "accept")
    await accepted_days_ago(database_url, cases["B"], 4, PROMISED_DAYS)
    cases["C"] = await step(client, clerk, await new_case(client, clerk, TOWN, 3, "孙三"), "submit", "accept")
    cases["C"] = await step(client, approver, cases["C"], "assign", "approve")
    cases["C"] = await step(client, clerk, cases["C"], "issue", "close")
    await rate(client, cases["C"], 5)
    cases["D"] = await step(client, clerk, await new_case(client, clerk, TOWN, 4, "李四"), "submit", "accept")
    await accepted_days_ago(database_url, cases["D"], 8, PROMISED_DAYS)
    cases["D"] = await step(client, approver, cases["D"], "assign", "approve")
    cases["D"] = await step(client, clerk, cases["D"], "issue")
    await rate(client, cases["D"], 2)
    cases["H"] = await step(client, clerk, await new_case(client, clerk, TOWN, 5, "周五"), "submit")
    cases["E"] = await step(client, agent, await new_case(client, agent, VILLAGE, 6, "吴六"), "submit", "accept")
    cases["F"] = await step(client, zy_clerk, await new_case(client, zy_clerk, SIBLING, 7, "郑七"), "submit", "accept")
    await accepted_days_ago(database_url, cases["F"], 10, PROMISED_DAYS)
    cases["G"] = await step(client, zy_clerk, await new_case(client, zy_clerk, SIBLING, 8, "王八"), "submit", "accept")
    cases["G"] = await step(client, zy_approver, cases["G"], "assign", "approve")
    cases["G"] = await step(client, zy_clerk, cases["G"], "issue")
    await rate(client, cases["G"], 3)
    return cases


def row_of(board: dict[str, Any], code: str, own: bool = False) -> dict[str, Any]:
    return next(row for row in board["units"] if row["code"] == code and row["own"] == own)


async def test_county_figures_lists_and_rates(client: Any, database_url: str) -> None:
    cases = await known_cases(client, database_url)
    supervisor = await login(client, "dwk_supervisor")
    response = await client.get(DASHBOARD, headers=supervisor)  # defaults to the supervisor's own unit
    assert response.status_code == 200, response.text
    board = response.json()
    assert board["unit"] == {"code": COUNTY, "name": "大武口区", "level": 3}
    assert board["breadcrumb"] == [] and board["today"] == local_date(utcnow(), TZ).isoformat()
    assert {s["status"]: s["count"] for s in board["statuses"] if s["count"]} == {
        "submitted": 1, "accepted": 3, "in_review": 1, "issued": 2, "closed": 1,
    }  # fmt: skip
    assert all(not row["own"] for row in board["units"])  # nothing was accepted at the county itself

    town = row_of(board, TOWN)  # rolled up over its village
    assert town["name"] == "长胜街道" and town["drillable"]
    assert town["by_status"] == {"submitted": 1, "accepted": 2, "in_review": 1, "issued": 1, "closed": 1}
    assert (town["total"], town["open"], town["yellow"], town["red"]) == (6, 3, 1, 1)
    assert (town["finished"], town["on_time"], town["on_time_rate"]) == (2, 1, 0.5)
    assert (town["ratings"], town["rating_average"], town["good_ratings"], town["bad_ratings"]) == (2, 3.5, 1, 1)
    assert town["good_share"] == 0.5

    sibling = row_of(board, SIBLING)
    assert (sibling["total"], sibling["open"], sibling["yellow"], sibling["red"]) == (2, 1, 0, 1)
    assert (sibling["finished"], sibling["on_time"], sibling["on_time_rate"]) == (1, 1, 1.0)
    assert (sibling["ratings"], sibling["rating_average"], sibling["good_share"]) == (1, 3.0, 1.0)

    idle = row_of(board, "640202003")  # a street without cases: no rate rather than 0 %
    assert idle["total"] == 0 and idle["on_time_rate"] is None and idle["rating_average"] is None
    assert idle["good_share"] is None

    total = board["total"]
    assert (total["total"], total["open"], total["yellow"], total["red"]) == (8, 4, 1, 2)
    assert (total["finished"], total["on_time"], total["on_time_rate"]) == (3, 2, 0.6667)
    assert (total["ratings"], total["rating_average"], total["good_ratings"], total["bad_ratings"]) == (3, 3.33, 2, 1)

    # red: most overdue first; yellow: the case with one working day left; both as the case API says
    assert [row["receipt_no"] for row in board["red"]] == [cases["F"]["receipt_no"], cases["A"]["receipt_no"]]
    assert [row["working_days_left"] for row in board["red"]] == [-5, -2] and board["red_total"] == 2
    first = board["red"][0]
    assert first["unit"] == SIBLING and first["unit_name"] == "朝阳街道" and first["applicant"] == "郑*"
    assert first["item_name"] == "就业困难人员认定" and first["link"] == f"/cases/{cases['F']['id']}"
    assert first["status_name"] == "已受理" and first["signal"] == "red"
    assert "id_number" not in str(board) and resident(7) not in response.text
    assert [row["receipt_no"] for row in board["yellow"]] == [cases["B"]["receipt_no"]]
    assert board["yellow"][0]["working_days_left"] == 1 and board["yellow_total"] == 1
    for row in board["red"] + board["yellow"]:
        api = (await client.get(f"/api/v1/cases/{row['case_id']}", headers=supervisor)).json()
        timing = api["timing"]
        assert (timing["signal"], timing["working_days_left"], timing["deadline"]) == (
            row["signal"], row["working_days_left"], row["deadline"],
        )  # fmt: skip


async def test_township_scope_drill_down_and_not_found(client: Any, database_url: str) -> None:
    cases = await known_cases(client, database_url)
    admin = await login(client, "cs_admin")  # 长胜街道's unit admin holds supervision.read
    board = (await client.get(DASHBOARD, headers=admin)).json()
    assert board["unit"]["code"] == TOWN
    own = row_of(board, TOWN, own=True)  # cases accepted at the street's own desk
    assert (own["total"], own["open"], own["red"], own["yellow"], own["on_time_rate"]) == (5, 2, 1, 1, 0.5)
    village = row_of(board, VILLAGE)
    assert (village["total"], village["open"], village["red"], village["yellow"]) == (1, 1, 0, 0)
    assert board["total"]["total"] == 6 and board["units"][0]["own"]
    assert [row["receipt_no"] for row in board["red"]] == [cases["A"]["receipt_no"]]  # not the sibling's case

    down = await client.get(DASHBOARD, params={"unit": VILLAGE}, headers=admin)
    assert down.status_code == 200, down.text
    village_board = down.json()
    assert [unit["code"] for unit in village_board["breadcrumb"]] == [TOWN]  # never above the caller's unit
    assert village_board["total"]["total"] == 1 and village_board["red"] == []
    own_row, *grids = village_board["units"]  # the village's own desk, then its grids (网格)
    assert own_row["own"] and own_row["code"] == VILLAGE and own_row["open"] == 1
    assert grids and all(row["code"].startswith(VILLAGE) and len(row["code"]) == 15 for row in grids)

    for unit in (SIBLING, COUNTY, "64", "4601", "640202009999"):  # sibling, above, other tenant, absent
        hidden = await client.get(DASHBOARD, params={"unit": unit}, headers=admin)
        assert hidden.status_code == 404, (unit, hidden.text)
    assert (await client.get(DASHBOARD, params={"unit": "64x"}, headers=admin)).status_code == 400
    foreign = await client.get(DASHBOARD, params={"unit": COUNTY}, headers=await login(client, "hn_admin"))
    assert foreign.status_code == 404
    other = await client.get(DASHBOARD, headers=await login(client, "hn_admin"))  # their own tenant: no cases
    assert other.status_code == 200 and other.json()["total"]["total"] == 0 and other.json()["red"] == []

    # the province sees both streets under 石嘴山市; a clerk without supervision.read is refused
    province = (await client.get(DASHBOARD, headers=await login(client, "nx_supervisor"))).json()
    assert row_of(province, "6402")["total"] == 8 and province["total"]["red"] == 2
    denied = await client.get(DASHBOARD, headers=await login(client, "cs_clerk"))
    assert denied.status_code == 403
    assert (await client.get(DASHBOARD)).status_code == 401
