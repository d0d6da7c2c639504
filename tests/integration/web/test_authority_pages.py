"""赋权管理 pages through HTTP, as a browser without JavaScript: matrix, grant form, grants, revoke, explain."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from sqlalchemy import select

from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory
from helpers import login, web_login, web_post

pytestmark = pytest.mark.anyio

CITY, COUNTY, TOWN, VILLAGE, VILLAGE_2, GRID = (
    "6402", "640202", "640202001", "640202001001", "640202001002", "640202001001001",
)  # fmt: skip
OTHER_COUNTY, OTHER_TOWN = "640205", "640202002"
ITEM = "HRSS-02"  # 失业登记: accepted down to villages, decided down to townships
ITEM_NAME = "失业登记"
NEW = "/authority/grants/new"
GRANT_PAGE = re.compile(r"^/authority/grants/(\d+)$")


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


async def as_user(client: Any, username: str) -> None:
    """Browse as ``username`` (a fresh session: the previous one's cookies are dropped)."""
    client.cookies.clear()
    await web_login(client, username)


def grant_form(
    unit: str, *, item: str = ITEM, scope: str = "unit", redelegable: bool = False, **extra: str
) -> dict[str, str]:
    form = {"item": item, "action": "accept", "unit": unit, "scope": scope, "valid_from": "2026-01-01",
            "valid_until": "", "instrument": "宁人社发〔2026〕8号", "basis": "devolved", **extra}  # fmt: skip
    if redelegable:
        form["redelegable"] = "on"
    return form


async def grant_through_form(client: Any, form: dict[str, str]) -> int:
    response = await web_post(client, NEW, "/authority/grants", form)
    assert response.status_code == 303, response.text[:2000]
    found = GRANT_PAGE.match(response.headers["location"])
    assert found, response.headers["location"]
    return int(found.group(1))


async def township_and_village_grants(client: Any) -> tuple[int, int, int]:
    """The province passes 失业登记 acceptance to 长胜街道 (re-delegable), which passes it to two communities."""
    await as_user(client, "nx_admin")
    town = await grant_through_form(client, grant_form(TOWN, scope="subtree", redelegable=True))
    await as_user(client, "cs_admin")
    village = await grant_through_form(client, grant_form(VILLAGE, instrument="长街发〔2026〕2号", basis="entrusted"))
    village_2 = await grant_through_form(client, grant_form(VILLAGE_2, instrument="长街发〔2026〕3号"))
    return town, village, village_2


async def api_check(client: Any, unit: str, item: str = ITEM, action: str = "accept") -> dict[str, Any]:
    headers = await login(client, "nx_admin")
    response = await client.get(f"/api/v1/authority/check?unit={unit}&item={item}&action={action}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def audit_rows(database_url: str, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        rows = await session.execute(
            select(AuditRecord.actor, AuditRecord.outcome, AuditRecord.detail).where(AuditRecord.action == action)
        )
        found = [(actor, outcome, detail) for actor, outcome, detail in rows.tuples()]
    await engine.dispose()
    return found


def h1(page: Any) -> str:
    found = re.search(r"<h1[^>]*>(.*?)</h1>", page.text, re.S)
    assert found, page.text[:1000]
    return found.group(1)


# -- matrix ---------------------------------------------------------------------------------------


async def test_province_admin_drills_the_matrix_down_to_a_grid(web: Any) -> None:
    headers = await login(web, "nx_admin")
    body = {"item": ITEM, "action": "accept", "unit": COUNTY, "scope": "subtree", "valid_from": "2026-01-01",
            "instrument": "宁人社发〔2026〕3号"}  # fmt: skip
    created = await web.post("/api/v1/grants", json=body, headers=headers)
    assert created.status_code == 201, created.text
    county_grant = created.json()["id"]
    await as_user(web, "nx_admin")

    page = await web.get("/authority")
    assert page.status_code == 200, page.text[:1000]
    assert "宁夏回族自治区" in h1(page) and "法定本级行使" in page.text
    assert page.text.count("<h1") == 1 and 'class="table-scroll authority-scroll"' in page.text
    assert f'href="/authority?unit={CITY}&amp;action=accept"' in page.text  # 石嘴山市, one level down
    assert "/static/web/authority.css" in page.text

    path = [CITY, COUNTY, TOWN, VILLAGE, GRID]
    for parent, child in itertools.pairwise(path):
        page = await web.get(f"/authority?unit={parent}")
        assert page.status_code == 200, (parent, page.text[:500])
        assert f'href="/authority?unit={child}&amp;action=accept"' in page.text, parent
        assert 'aria-label="breadcrumb"' in page.text and 'href="/authority?unit=64&amp;action=accept"' in page.text
    city = await web.get(f"/authority?unit={CITY}")
    assert "本级赋权 " in city.text and f'href="/authority/grants/{county_grant}"' in city.text
    county = await web.get(f"/authority?unit={COUNTY}")
    assert "随大武口区赋权 " in county.text  # the townships inherit the county's subtree grant
    grid = await web.get(f"/authority?unit={GRID}")
    assert grid.status_code == 200 and "最末一级" in grid.text
    assert f'href="/authority?unit={VILLAGE}&amp;action=accept"' in grid.text  # the way back up
    assert "✓ 可以" in grid.text and "✗ 不可以" in grid.text  # the state in words, not colour only

    decide = await web.get(f"/authority?unit={COUNTY}&action=decide")
    assert decide.status_code == 200 and "办理（审批）" in decide.text and "随大武口区赋权" not in decide.text
    bad = await web.get("/authority?action=approve")
    assert bad.status_code == 400 and "受理" in bad.text
    missing = await web.get("/authority?unit=649999")
    assert missing.status_code == 404


async def test_township_admin_sees_only_their_subtree(web: Any) -> None:
    await as_user(web, "cs_admin")
    page = await web.get("/authority")
    assert page.status_code == 200
    assert "长胜街道" in h1(page) and "骏马社区" in page.text
    assert f'href="/authority?unit={COUNTY}&amp;' not in page.text  # the breadcrumb starts at their own unit
    for outside in (OTHER_COUNTY, COUNTY, OTHER_TOWN, "64"):
        refused = await web.get(f"/authority?unit={outside}")
        assert refused.status_code == 404, outside
        assert "不在您的管辖范围内" in refused.text and refused.headers["content-type"].startswith("text/html")
    assert (await web.get(f"/authority/explain?unit={OTHER_COUNTY}&item={ITEM}&action=accept")).status_code == 404
    assert (await web.get(f"/authority/grants?unit={OTHER_TOWN}")).status_code == 404
    village = await web.get(f"/authority?unit={VILLAGE}")
    assert village.status_code == 200 and GRID in village.text


# -- grant form -----------------------------------------------------------------------------------


async def test_a_grant_through_the_form_reaches_the_village_agent(web: Any, database_url: str) -> None:
    await as_user(web, "nx_admin")
    form = await web.get(f"{NEW}?unit={TOWN}&item={ITEM}&action=accept")
    assert form.status_code == 200
    assert "只能下放本单位持有的权限" in form.text and "最低可下放层级" in form.text
    assert "不能超出本单位所持赋权的期限" in form.text and "允许对方再赋权" in form.text
    assert f'value="{TOWN}"' in form.text and "已选：长胜街道" in form.text
    assert f'<option value="{ITEM}" selected>' in form.text and 'name="_csrf_token"' in form.text

    town, village, _ = await township_and_village_grants(web)
    page = await web.get(f"/authority/grants/{village}")
    assert page.status_code == 200 and "生效中" in page.text and "长街发〔2026〕2号" in page.text
    assert f'href="/authority/grants/{town}"' in page.text  # the chain up to the province
    assert "上级委托" in page.text and "长胜街道管理员（cs_admin）" in page.text  # 经办人 by name, account in brackets

    await as_user(web, "jm_agent")
    home = await web.get("/")
    assert ITEM_NAME in home.text and f"/intake/new/{ITEM}" in home.text
    explained = await web.get(f"/authority/explain?unit={VILLAGE}&item={ITEM}&action=accept")
    assert explained.status_code == 200
    assert "✓ 可以" in explained.text and f"赋权 #{town}" in explained.text and f"赋权 #{village}" in explained.text
    assert (await api_check(web, VILLAGE))["allowed"] is True
    created = [(actor, outcome, d["unit"]) for actor, outcome, d in await audit_rows(database_url, "grant.create")]
    assert ("nx_admin", "success", TOWN) in created and ("cs_admin", "success", VILLAGE) in created


async def test_a_broken_rule_shows_the_servers_reason_and_writes_nothing(web: Any, database_url: str) -> None:
    await as_user(web, "cs_admin")
    refused = await web_post(web, NEW, "/authority/grants", grant_form(VILLAGE, item="HRSS-03"))
    assert refused.status_code == 422, refused.text[:1000]
    assert "未能赋权" in refused.text and "本单位没有" in refused.text and "只能下放本单位持有的权限" in refused.text
    assert 'role="alert"' in refused.text and f'value="{VILLAGE}"' in refused.text  # what was typed stays
    assert (await api_check(web, VILLAGE, "HRSS-03"))["allowed"] is False
    rejected = [d for actor, outcome, d in await audit_rows(database_url, "grant.create") if outcome == "rejected"]
    assert rejected and rejected[0]["rule"] == "grantor_holds"

    await as_user(web, "nx_admin")
    window = grant_form(TOWN, scope="subtree", redelegable=True, valid_until="2027-01-01")
    await grant_through_form(web, window)
    await as_user(web, "cs_admin")
    beyond = await web_post(web, NEW, "/authority/grants", grant_form(VILLAGE, valid_until="2028-01-01"))
    assert beyond.status_code == 422 and "不得超出上级赋权的期限" in beyond.text
    assert 'id="valid_until-error"' in beyond.text  # the reason also sits next to the date it is about
    forever = await web_post(web, NEW, "/authority/grants", grant_form(VILLAGE))
    assert forever.status_code == 422 and "期限不得超出" in forever.text

    await as_user(web, "nx_admin")
    floor = await web_post(web, NEW, "/authority/grants", grant_form(GRID))
    assert floor.status_code == 422 and "最低只能下放到村/社区级" in floor.text
    sideways = await web_post(web, NEW, "/authority/grants", grant_form("64"))
    assert sideways.status_code == 422 and "只能向本单位的下级单位赋权" in sideways.text
    elsewhere = await web_post(web, NEW, "/authority/grants", grant_form("460100"))
    assert elsewhere.status_code == 404 and "不在您的管辖范围内" in elsewhere.text


async def test_an_incomplete_form_is_a_400_with_messages_by_the_fields(web: Any) -> None:
    await as_user(web, "nx_admin")
    bad = grant_form("64020", item="NOPE", instrument="", valid_from="2026-13-01", action="approve", scope="all")
    response = await web_post(web, NEW, "/authority/grants", bad)
    assert response.status_code == 400
    for field in ("item", "unit", "valid_from", "instrument", "action", "scope"):
        assert f'id="{field}-error"' in response.text, field
    assert "请填写赋权依据的文件号" in response.text and 'aria-invalid="true"' in response.text
    # dates only as 年-月-日: Python's fromisoformat also reads these, the API's date fields do not
    for field, day in (("valid_from", "20261205"), ("valid_from", "2026-W49-1"), ("valid_until", "20261231")):
        odd = await web_post(web, NEW, "/authority/grants", grant_form(TOWN, **{field: day}))
        assert odd.status_code == 400 and f'id="{field}-error"' in odd.text and "年-月-日" in odd.text, (field, day)
    assert (await web.get("/api/v1/grants", headers=await login(web, "nx_admin"))).json() == []


async def test_a_supervisor_reads_but_may_not_grant(web: Any) -> None:
    await as_user(web, "nx_supervisor")
    assert (await web.get("/authority")).status_code == 200
    listing = await web.get("/authority/grants")
    assert listing.status_code == 200 and 'href="/authority/grants/new"' not in listing.text
    refused = await web.get(NEW)
    assert refused.status_code == 403 and "没有权限" in refused.text and "赋权与撤销" in refused.text
    token_page = await web.get("/authority/explain")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', token_page.text)
    assert token
    post = await web.post("/authority/grants", data={**grant_form(TOWN), "_csrf_token": token.group(1)})
    assert post.status_code == 403
    await as_user(web, "cs_clerk")  # a window clerk may ask "can we?", not read grant records
    assert (await web.get(f"/authority/explain?unit={TOWN}&item={ITEM}&action=accept")).status_code == 200
    assert (await web.get("/authority/grants")).status_code == 403
    web.cookies.clear()
    anonymous = await web.get("/authority/grants/new")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")


# -- grants, revoke -------------------------------------------------------------------------------


async def test_revoke_previews_the_cascade_then_the_village_can_no_longer(web: Any, database_url: str) -> None:
    town, village, village_2 = await township_and_village_grants(web)
    headers = await login(web, "nx_admin")
    matrix = await web.get(f"/api/v1/authority/matrix?unit={TOWN}&depth=3", headers=headers)
    holding = [u for u in matrix.json()["units"] if "accept" in u["allowed"].get(ITEM, [])]

    await as_user(web, "nx_admin")
    page = await web.get(f"/authority/grants/{town}")
    assert page.status_code == 200 and "撤销预览" in page.text
    assert "一并撤销 2 条" in page.text
    assert f'href="/authority/grants/{village}"' in page.text and f'href="/authority/grants/{village_2}"' in page.text
    assert "骏马社区居委会" in page.text and "金驼社区居委会" in page.text
    assert f"<strong>{len(holding)} 个单位</strong>" in page.text and len(holding) > 3

    empty = await web_post(web, f"/authority/grants/{town}", f"/authority/grants/{town}/revoke", {"reason": " "})
    assert empty.status_code == 400 and "请填写撤销理由" in empty.text
    assert (await api_check(web, VILLAGE))["allowed"] is True  # nothing happened

    reason = "试点调整，收回受理权"
    done = await web_post(web, f"/authority/grants/{town}", f"/authority/grants/{town}/revoke", {"reason": reason})
    assert done.status_code == 303 and done.headers["location"] == f"/authority/grants/{town}"
    revoked = await web.get(f"/authority/grants/{town}")
    assert "已撤销" in revoked.text and reason in revoked.text and "撤销预览" not in revoked.text
    assert "由 宁夏人社厅系统管理员（nx_admin） 撤销" in revoked.text
    cascaded = await web.get(f"/authority/grants/{village}")
    assert (
        "已撤销" in cascaded.text and f'随 <a href="/authority/grants/{town}">赋权 #{town}</a> 的撤销' in cascaded.text
    )
    revocations = [(actor, d["via"]) for actor, outcome, d in await audit_rows(database_url, "grant.revoke")]
    assert revocations == [("nx_admin", town)] * 3  # the grant and its two derived grants, one record each

    explained = await web.get(f"/authority/explain?unit={VILLAGE}&item={ITEM}&action=accept")
    assert "✗ 不可以" in explained.text and "撤销" in explained.text and reason in explained.text
    assert "赋权已被撤销" in explained.text
    assert (await api_check(web, VILLAGE))["allowed"] is False
    again = await web_post(web, "/authority/explain", f"/authority/grants/{town}/revoke", {"reason": "再次撤销"})
    assert again.status_code == 409 and "已于" in again.text

    await as_user(web, "jm_agent")
    home = await web.get("/")
    assert f"/intake/new/{ITEM}" not in home.text


async def test_only_the_granting_side_may_revoke(web: Any) -> None:
    town, village, _ = await township_and_village_grants(web)
    await as_user(web, "cs_admin")
    own = await web.get(f"/authority/grants/{town}")  # made to 长胜街道 by the province
    assert own.status_code == 200 and "只有作出赋权的单位或其上级单位可以撤销" in own.text
    refused = await web_post(web, f"/authority/grants/{village}", f"/authority/grants/{town}/revoke",
                             {"reason": "越权撤销"})  # fmt: skip
    assert refused.status_code == 403
    assert (await api_check(web, VILLAGE))["allowed"] is True
    await as_user(web, "dw_admin")  # another county's township: the grant reads as absent
    assert (await web.get(f"/authority/grants/{village}")).status_code == 404


async def test_grant_list_filters(web: Any) -> None:
    town, village, village_2 = await township_and_village_grants(web)
    await as_user(web, "nx_admin")
    everything = await web.get("/authority/grants")
    assert everything.status_code == 200 and all(f"#{g}</a>" in everything.text for g in (town, village, village_2))
    one = await web.get(f"/authority/grants?unit={VILLAGE}&item={ITEM}&action=accept&status=active")
    assert f"#{village}</a>" in one.text and f"#{village_2}</a>" not in one.text and f"#{town}</a>" not in one.text
    none = await web.get("/authority/grants?status=revoked")
    assert "没有符合条件的赋权记录" in none.text
    assert (await web.get("/authority/grants?status=bogus")).status_code == 400
    assert (await web.get("/authority/grants?item=NOPE")).status_code == 400
    assert (await web.get("/authority/grants?page=0")).status_code == 400


# -- explain --------------------------------------------------------------------------------------


async def test_explain_says_why_not_in_words(web: Any) -> None:
    await as_user(web, "nx_admin")
    blank = await web.get("/authority/explain")
    assert blank.status_code == 200 and "<datalist" in blank.text and "可以" not in h1(blank)
    none = await web.get(f"/authority/explain?unit={VILLAGE}&item={ITEM}&action=accept")
    assert "✗ 不可以" in none.text and "没有获得这项权限" in none.text
    assert f'href="/authority/grants/new?unit={VILLAGE}&amp;item={ITEM}&amp;action=accept"' in none.text

    later = grant_form(TOWN, valid_from="2027-03-01")
    await grant_through_form(web, later)
    scheduled = await web.get(f"/authority/explain?unit={TOWN}&item={ITEM}&action=accept")
    assert "✗ 不可以" in scheduled.text and "起才生效" in scheduled.text and "还没有到生效日期" in scheduled.text
    then = await web.get(f"/authority/explain?unit={TOWN}&item={ITEM}&action=accept&at=2027-03-02T09:00")
    assert "✓ 可以" in then.text and "2027-03-02 09:00" in then.text

    await grant_through_form(web, grant_form(TOWN, item="HRSS-03"))
    clerk = await web.get(f"/authority/explain?unit={TOWN}&item=HRSS-03&action=accept&role=window_clerk")
    assert "✓ 可以" in clerk.text
    approver = await web.get(f"/authority/explain?unit={TOWN}&item=HRSS-03&action=accept&role=approver")
    assert "✗ 不可以" in approver.text and "岗位权限" in approver.text

    bad = await web.get(f"/authority/explain?unit=12x&item={ITEM}&action=accept&at=yesterday")
    assert bad.status_code == 400 and 'id="unit-error"' in bad.text and 'id="at-error"' in bad.text
