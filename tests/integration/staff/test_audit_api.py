"""审计查阅 API: the auditor alone reads the audit records of their tenant and subtree, filtered and exported as
CSV (cells a spreadsheet would run are quoted); each reading is itself audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from helpers import PASSWORD, enrol, login

pytestmark = pytest.mark.anyio

STRONG = "quiet-harbor-maple-1987"


async def search(client: Any, who: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/audit/records", params=params, headers=who)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_the_auditor_searches_by_time_actor_unit_action_and_outcome(client: Any) -> None:
    security = await login(client, "dwk_security")
    body = {"username": "cs_clerk_3", "display_name": "窗口三", "unit": "640202001", "roles": ["window_clerk"],
            "password": STRONG}  # fmt: skip
    made = (await client.post("/api/v1/staff", json=body, headers=security)).json()
    refused = await client.post("/api/v1/staff", json={**body, "roles": ["auditor", "window_clerk"]}, headers=security)
    assert refused.status_code == 422
    await client.post(f"/api/v1/staff/{made['id']}/disable", headers=security)
    auditor = await login(client, "nx_auditor")

    mine = await search(client, auditor, actor="dwk_security", action="staff")
    assert [r["action"] for r in mine] == ["staff.disable", "staff.add", "staff.add"]  # newest first
    assert [r["outcome"] for r in mine] == ["success", "rejected", "success"]
    assert mine[0]["resource"] == f"staff:{made['id']}" and mine[0]["unit"] == "640202"
    assert mine[0]["role"] == "security_admin" and mine[0]["detail"]["username"] == "cs_clerk_3"
    rejected = await search(client, auditor, actor="dwk_security", outcome="rejected")
    assert [r["detail"]["rule"] for r in rejected] == ["separation_of_duties"]
    assert [r["action"] for r in await search(client, auditor, action="staff.disable")] == ["staff.disable"]
    assert await search(client, auditor, action="staff.dis") == []  # a full name matches exactly
    county = {r["unit"] for r in await search(client, auditor, unit="640202", limit=500)}
    assert "640202" in county and all(unit.startswith("640202") for unit in county)
    assert await search(client, auditor, unit="640205", actor="dwk_security") == []
    now = datetime.now(UTC)
    later = (now + timedelta(hours=1)).isoformat()
    assert await search(client, auditor, since=later) == []
    recent = await search(client, auditor, actor="dwk_security", since=(now - timedelta(hours=1)).isoformat(),
                          until=later)  # fmt: skip
    assert [r["action"] for r in recent][:3] == ["staff.disable", "staff.add", "staff.add"]
    assert "auth.login" in {r["action"] for r in recent}
    first = await search(client, auditor, actor="dwk_security", limit=1)
    second = await search(client, auditor, actor="dwk_security", limit=1, offset=1)
    assert first[0]["action"] == "staff.disable" and second[0]["action"] == "staff.add"
    backwards = await client.get("/api/v1/audit/records", params={"since": later, "until": now.isoformat()},
                                 headers=auditor)  # fmt: skip
    assert backwards.status_code == 422 and backwards.json()["rule"] == "time_range"

    # reading is itself audited, with what was asked
    reads = await search(client, auditor, action="audit.search", actor="nx_auditor")
    assert len(reads) >= 10 and reads[-1]["detail"]["actor"] == "dwk_security"
    assert reads[-1]["detail"]["action"] == "staff" and reads[-1]["detail"]["returned"] == 3


async def test_only_the_auditor_reads_and_only_their_tenant_and_subtree(client: Any, database_url: str) -> None:
    for who in ("nx_admin", "nx_security", "dwk_security", "cs_clerk", "nx_supervisor", "dwk_admin"):
        headers = await login(client, who)
        for path in ("/api/v1/audit/records", "/api/v1/audit/records.csv"):
            response = await client.get(path, headers=headers)
            assert response.status_code == 403, (who, path)
    auditor = await login(client, "nx_auditor")
    assert (await client.delete("/api/v1/audit/records", headers=auditor)).status_code == 405  # nobody edits
    await login(client, "hn_admin")  # a record in the other tenant
    assert all(r["actor"] != "hn_admin" for r in await search(client, auditor, action="auth", limit=500))
    assert (await client.get("/api/v1/audit/records?unit=46", headers=auditor)).status_code == 404

    # a county's auditor reads their county's records only
    await enrol(database_url, "dwk_auditor", "64", "640202", ["auditor"])
    county = await login(client, "dwk_auditor", PASSWORD)
    await login(client, "dzc_clerk")  # 中宁县: another county
    await login(client, "cs_clerk")  # 长胜街道, in 大武口区
    seen = await search(client, county, action="auth.login", limit=500)
    assert {r["actor"] for r in seen} >= {"cs_clerk", "dwk_auditor"}
    assert all((r["unit"] or "").startswith("640202") for r in seen)
    assert (await client.get("/api/v1/audit/records?unit=640521", headers=county)).status_code == 404
    assert (await client.get("/api/v1/audit/records.csv?unit=6405", headers=county)).status_code == 404


async def test_bad_filters_are_clear_4xx(client: Any) -> None:
    auditor = await login(client, "nx_auditor")
    for query in ("outcome=maybe", "unit=64x", "since=yesterday", "limit=0", "limit=501", "offset=-1",
                  "actor=" + "x" * 65, "since=0001-01-01T00:00:00"):  # fmt: skip
        response = await client.get(f"/api/v1/audit/records?{query}", headers=auditor)
        assert 400 <= response.status_code < 500 and response.status_code != 404, (query, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_csv_export_streams_every_match_with_formula_cells_quoted(client: Any, database_url: str) -> None:
    """A username a spreadsheet would run as a formula (enrolled by the operator's command, which allows any
    name) comes out as text; the export is audited before any row leaves."""
    for name in ("=HYPERLINK(1)", "+sum", "-2+3", "@cmd"):
        await enrol(database_url, name, "64", "640202001", ["window_clerk"])
        await login(client, name, PASSWORD)
    auditor = await login(client, "nx_auditor")
    response = await client.get("/api/v1/audit/records.csv", params={"action": "auth.login"}, headers=auditor)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.headers["cache-control"] == "no-store"
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff记录编号,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header[3] == "操作人" and header[6] == "动作"
    actors = {row[3] for row in body}
    assert {"'=HYPERLINK(1)", "'+sum", "'-2+3", "'@cmd", "nx_auditor"} <= actors
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert {row[6] for row in body} == {"auth.login"} and {row[9] for row in body} == {"success"}
    ids = [int(row[0]) for row in body]
    assert ids == sorted(ids, reverse=True) and body[0][2] >= body[-1][2]  # newest first (times to the second)
    assert body[0][2].endswith("+08:00")
    exports = await search(client, auditor, action="audit.export")
    assert [r["detail"] for r in exports] == [{"action": "auth.login"}]


async def test_csv_export_walks_past_a_page(client: Any, monkeypatch: Any) -> None:
    """The export reads a page at a time: with pages of 3, every record still comes out once."""
    from fuquan.platform.auditing import services

    monkeypatch.setattr(services, "EXPORT_BATCH", 3)
    auditor = await login(client, "nx_auditor")
    for _ in range(4):
        await search(client, auditor)
    listed = await search(client, auditor, action="audit", limit=500)
    response = await client.get("/api/v1/audit/records.csv?action=audit.search", headers=auditor)
    ids = [row[0] for row in list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))[1:]]
    # the listing's own record is the newest: written after it read
    assert ids[1:] == [str(r["id"]) for r in listed if r["action"] == "audit.search"] and len(ids) == 5
