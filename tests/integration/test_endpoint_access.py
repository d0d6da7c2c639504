"""Every endpoint: anonymous → 401, in scope without the permission → 403, other tenant or outside scope → 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from fuquan.platform.accounts.models import Staff
from fuquan.platform.core.db import create_engine, session_factory
from helpers import PASSWORD, enrol, login

pytestmark = pytest.mark.anyio

GRANT = {
    "item": "HRSS-04", "action": "accept", "unit": "640202", "scope": "subtree", "valid_from": "2026-01-01",
    "valid_until": None, "redelegable": True, "basis": "devolved", "instrument": "宁人社发〔2026〕9号",
}  # fmt: skip
POINT = {"kind": "center", "name": "便民服务中心", "address": "县城人民路 1 号", "hours": "工作日 9:00-17:00"}
STAFF = {"username": "access_new", "display_name": "新人", "unit": "640202", "roles": ["window_clerk"],
         "password": "quiet-harbor-maple-1987"}  # fmt: skip

# (method, path template, body, a user in scope lacking the permission, path/query for a foreign or out-of-scope target)
ENDPOINTS: list[tuple[str, str, Any, str | None, str | None]] = [
    ("GET", "/api/v1/units/640202", None, "nx_auditor", "/api/v1/units/4601"),
    ("GET", "/api/v1/units/640202/children", None, "nx_auditor", "/api/v1/units/46/children"),
    ("GET", "/api/v1/units/640202/organ", None, "nx_auditor", "/api/v1/units/4601/organ"),
    ("PUT", "/api/v1/units/640202/organ", {"organ_name": None}, "nx_supervisor", "/api/v1/units/4601/organ"),
    ("GET", "/api/v1/units/640202/service-points", None, "nx_auditor", "/api/v1/units/4601/service-points"),
    ("POST", "/api/v1/units/640202/service-points", POINT, "nx_supervisor", "/api/v1/units/4601/service-points"),
    ("PUT", "/api/v1/service-points/{point}", POINT, "cs_clerk", "/api/v1/service-points/{foreign_point}"),
    ("POST", "/api/v1/service-points/{point}/close", None, "cs_clerk", "/api/v1/service-points/{foreign_point}/close"),
    ("GET", "/api/v1/items", None, "nx_auditor", None),
    ("GET", "/api/v1/items/HRSS-04", None, "nx_auditor", "/api/v1/items/NOPE-99"),
    ("PUT", "/api/v1/items/HRSS-04", {"item": {}, "effective_from": "2026-12-31", "base_edition": 1, "note": "改"},
     "cs_clerk", None),
    ("GET", "/api/v1/catalog/editions", None, "nx_auditor", None),
    ("GET", "/api/v1/catalog/editions/1/diff", None, "nx_auditor", "/api/v1/catalog/editions/999/diff"),
    ("GET", "/api/v1/catalog/editions/1/items/HRSS-04", None, "nx_auditor", "/api/v1/catalog/editions/1/items/NOPE-9"),
    ("POST", "/api/v1/grants", GRANT, "nx_supervisor", "/api/v1/grants#unit=4601"),
    ("POST", "/api/v1/grants/batch", {"grants": [GRANT]}, "nx_supervisor", None),
    ("POST", "/api/v1/grants/{grant}/revoke", {"reason": "调整范围"}, "nx_supervisor",
     "/api/v1/grants/{foreign}/revoke"),
    ("GET", "/api/v1/grants", None, "nx_auditor", "/api/v1/grants?unit=4601"),
    ("GET", "/api/v1/grants/{grant}", None, "nx_auditor", "/api/v1/grants/{foreign}"),
    ("GET", "/api/v1/authority/check?unit=640202&item=HRSS-04&action=accept", None, "nx_auditor",
     "/api/v1/authority/check?unit=4601&item=HRSS-04&action=accept"),
    ("GET", "/api/v1/authority/matrix?unit=640202&depth=1", None, "nx_auditor", "/api/v1/authority/matrix?unit=46"),
    ("GET", "/api/v1/calendar/days?year=2026", None, "nx_auditor", None),
    ("PUT", "/api/v1/calendar/days/2026-05-06", {"workday": False, "note": "地方假日"}, "cs_clerk", None),
    ("DELETE", "/api/v1/calendar/days/2026-05-06", None, "cs_clerk", None),
    ("POST", "/api/v1/cases", {"item": "HRSS-04", "unit": "640202", "applicant": {"id_number": "11010519491231002X",
     "name": "张三"}}, "nx_supervisor", None),
    ("GET", "/api/v1/cases", None, "nx_auditor", None),
    ("GET", "/api/v1/cases/{case}", None, "nx_auditor", "/api/v1/cases/{foreign_case}"),
    ("GET", "/api/v1/cases/{case}/trace", None, "nx_auditor", "/api/v1/cases/{foreign_case}/trace"),
    ("GET", "/api/v1/cases/{case}/evidence", None, "nx_auditor", "/api/v1/cases/{foreign_case}/evidence"),
    ("POST", "/api/v1/cases/{case}/extension", {"days": 1, "reason": "需核实情况", "version": 1}, "cs_clerk",
     "/api/v1/cases/{foreign_case}/extension"),
    ("POST", "/api/v1/cases/{case}/revocation", {"reason": "经复议撤销", "version": 1}, "cs_clerk",
     "/api/v1/cases/{foreign_case}/revocation"),
    ("GET", "/api/v1/cases/{case}/certificates", None, "nx_auditor", "/api/v1/cases/{foreign_case}/certificates"),
    ("GET", "/api/v1/units/640202/signing-keys", None, "nx_auditor", "/api/v1/units/4601/signing-keys"),
    ("POST", "/api/v1/units/640202/signing-keys/rotation", None, "nx_admin",
     "/api/v1/units/4601/signing-keys/rotation"),
    ("POST", "/api/v1/cases/{case}/transitions", {"action": "submit", "version": 1}, "nx_supervisor",
     "/api/v1/cases/{foreign_case}/transitions"),
    ("POST", "/api/v1/cases/{case}/materials/1", {"pledge": True}, "nx_supervisor",
     "/api/v1/cases/{foreign_case}/materials/1"),
    ("GET", "/api/v1/cases/{case}/materials/1/file", None, "nx_auditor",
     "/api/v1/cases/{foreign_case}/materials/1/file"),
    ("GET", "/api/v1/cases/{case}/documents/receipt.pdf", None, "nx_auditor",
     "/api/v1/cases/{foreign_case}/documents/receipt.pdf"),
    ("POST", "/api/v1/cases/{case}/applicant/reveal", {"purpose": "核对身份"}, "nx_supervisor",
     "/api/v1/cases/{foreign_case}/applicant/reveal"),
    ("GET", "/api/v1/supervision/dashboard?unit=640202", None, "nx_auditor",
     "/api/v1/supervision/dashboard?unit=4601"),
    ("GET", "/api/v1/auth/me", None, None, None),
    ("DELETE", "/api/v1/auth/token", None, None, None),
    ("POST", "/api/v1/auth/password", {"current_password": "x", "new_password": "y"}, None, None),
    ("GET", "/api/v1/staff", None, "nx_auditor", "/api/v1/staff?unit=4601"),
    ("POST", "/api/v1/staff", STAFF, "nx_auditor", "/api/v1/staff#unit=4601"),
    ("GET", "/api/v1/staff/{staff}", None, "nx_auditor", "/api/v1/staff/{foreign_staff}"),
    ("POST", "/api/v1/staff/{staff}/disable", None, "nx_auditor", "/api/v1/staff/{foreign_staff}/disable"),
    ("POST", "/api/v1/staff/{staff}/enable", None, "nx_auditor", "/api/v1/staff/{foreign_staff}/enable"),
    ("POST", "/api/v1/staff/{staff}/password", {"password": "plum-river-lantern-42"}, "nx_auditor",
     "/api/v1/staff/{foreign_staff}/password"),
    ("POST", "/api/v1/staff/{staff}/roles", {"role": "approver"}, "nx_auditor", "/api/v1/staff/{foreign_staff}/roles"),
    ("DELETE", "/api/v1/staff/{staff}/roles/window_clerk", None, "nx_auditor",
     "/api/v1/staff/{foreign_staff}/roles/window_clerk"),
    ("POST", "/api/v1/staff/{staff}/unlock", None, "nx_auditor", "/api/v1/staff/{foreign_staff}/unlock"),
    ("POST", "/api/v1/staff/{staff}/second-factor/reset", None, "nx_auditor",
     "/api/v1/staff/{foreign_staff}/second-factor/reset"),
    ("GET", "/api/v1/audit/records", None, "nx_security", "/api/v1/audit/records?unit=4601"),
    ("GET", "/api/v1/audit/records.csv", None, "nx_security", "/api/v1/audit/records.csv?unit=4601"),
    ("GET", "/api/v1/inbox", None, None, None),  # one's own messages: another's item is 404 (test_inbox_and_templates)
    ("GET", "/api/v1/inbox/unread", None, None, None),
    ("POST", "/api/v1/inbox/read", None, None, None),
    ("POST", "/api/v1/inbox/1/read", None, None, None),
    ("GET", "/api/v1/notifications/sms/templates", None, "cs_clerk", None),
    ("PUT", "/api/v1/notifications/sms/templates/case_accepted",
     {"text": "您的${item}已受理", "vendor_template": "SMS_123456", "sign_name": "宁夏人社"}, "cs_clerk", None),
    ("GET", "/api/v1/notifications/sms/messages", None, "cs_clerk", None),
    ("POST", "/api/v1/escalations", {"channel": "in_person", "resident": {"name": "马建国"}, "summary": "未办成"},
     "cs_clerk", None),
    ("POST", "/api/v1/escalations/referrals", {"case_id": 1, "summary": "未办成"}, "nx_auditor", None),
    ("GET", "/api/v1/escalations", None, "cs_clerk", None),
    ("GET", "/api/v1/escalations/1", None, "cs_clerk", None),
    ("GET", "/api/v1/escalations/1/trace", None, "cs_clerk", None),
    ("GET", "/api/v1/escalations/1/transfer.pdf", None, "cs_clerk", None),
    ("POST", "/api/v1/escalations/1/steps", {"action": "classify", "version": 1}, "cs_clerk", None),
    ("GET", "/api/v1/escalations/roster/640202", None, "cs_clerk", None),
    ("GET", "/api/v1/supervision/follow-ups", None, "nx_auditor", None),
    ("POST", "/api/v1/supervision/follow-ups/1/steps", {"action": "callback", "version": 1}, "nx_auditor", None),
    ("GET", "/api/v1/supervision/follow-ups/rates", None, "cs_clerk", None),
    ("GET", "/api/v1/supervision/settings", None, "cs_clerk", None),
    ("PUT", "/api/v1/supervision/settings", {"rectify_working_days": 5}, "dwk_supervisor", None),
    ("GET", "/api/v1/supervision/orders", None, "cs_clerk", None),
    ("POST", "/api/v1/supervision/orders", {"case_id": 1, "demand": "请说明", "due_on": "2030-01-01"}, "cs_head",
     None),
    ("GET", "/api/v1/supervision/orders/1", None, "cs_clerk", None),
    ("POST", "/api/v1/supervision/orders/1/reply", {"version": 1, "reply": "已办"}, "dwk_supervisor", None),
    ("POST", "/api/v1/supervision/orders/1/review", {"version": 1, "outcome": "accepted"}, "cs_head", None),
    ("GET", "/api/v1/supervision/performance?first=2026-01-01&last=2026-01-31", None, "cs_clerk",
     "/api/v1/supervision/performance?first=2026-01-01&last=2026-01-31&unit=4601"),
    ("GET", "/api/v1/supervision/performance/export?first=2026-01-01&last=2026-01-31", None, "cs_clerk",
     "/api/v1/supervision/performance/export?first=2026-01-01&last=2026-01-31&unit=4601"),
    ("GET", "/api/v1/supervision/rankings", None, "nx_auditor", None),
    ("GET", "/api/v1/supervision/rankings/preview?month=2026-11", None, "cs_clerk",
     "/api/v1/supervision/rankings/preview?month=2026-11&unit=4601"),
    ("POST", "/api/v1/supervision/rankings", {"month": "2026-11", "kind": "flag"}, "cs_head", None),
    ("GET", "/api/v1/supervision/accountability", None, "nx_auditor", None),
    ("POST", "/api/v1/supervision/accountability", {"staff": "cs_clerk", "reason": "超期", "case_ids": [1]},
     "cs_head", None),
    ("GET", "/api/v1/supervision/accountability/1", None, "nx_auditor", None),
    ("POST", "/api/v1/supervision/accountability/1/statement", {"version": 1, "statement": "说明"}, "nx_auditor",
     None),
    ("POST", "/api/v1/supervision/accountability/1/decision", {"version": 1, "measure": "none", "decision": "不予追究"},
     "cs_head", None),
    ("PUT", "/api/v1/escalations/roster/640202/2026-05-06", {"staff": "dwk_head"}, "cs_clerk", None),
]  # fmt: skip
# who holds the permission of a route, for its foreign or out-of-scope target (anyone else: nx_admin)
INSIDERS = {
    "/api/v1/cases/{case}/extension": "cs_head",
    "/api/v1/cases/{case}/revocation": "cs_head",
    "/api/v1/units/640202/signing-keys/rotation": "nx_security",
    "/api/v1/cases": "cs_clerk",
    "/api/v1/staff": "nx_security",
    "/api/v1/audit": "nx_auditor",
}


# the citizens' pages (办件进度查询 and rating, 电子证照核验, 办事指南, 权力清单, 政策法规库) need no login; every
# other web page does
PUBLIC_PAGES = ("/login", "/logout", "/progress", "/verify", "/guide", "/lists/", "/policies/")


def _web_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path with sample parameters) of every session-authenticated page."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.opt.get("web_page") and not handler.opt.get("public"):
                path = re.sub(r"\{[a-z_]+:int\}", "1", route.path)
                path = re.sub(r"\{[a-z_]+:(str|path)\}", "HRSS-01", path)
                found += [(method, path) for method in sorted(handler.http_methods) if method != "OPTIONS"]
    return found


async def test_every_web_page_sends_anonymous_visitors_to_login(client: Any) -> None:
    routes = _web_routes(client.app)
    assert ("GET", "/") in routes
    for method, path in routes:
        if method == "GET":
            response = await client.get(path, follow_redirects=False)
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login"), path
        else:  # a form post without a session has no CSRF token either: refused before anything runs
            response = await client.request(method, path, data={}, follow_redirects=False)
            assert response.status_code == 403, (method, path)


async def _grants(client: Any, database_url: str) -> dict[str, int]:
    """In each tenant: a grant, a service point, and a case opened at a county front desk that accepts HRSS-06 by a
    clerk there."""
    ids: dict[str, int] = {}
    for tenant, admin, county, grant_key, case_key, staff_key, point_key in (
        ("64", "nx_admin", "640202", "grant", "case", "staff", "point"),
        ("46", "hn_admin", "460105", "foreign", "foreign_case", "foreign_staff", "foreign_point"),
    ):
        headers = await login(client, admin)
        point = await client.post(f"/api/v1/units/{county}/service-points", json=POINT, headers=headers)
        assert point.status_code == 201, point.text
        ids[point_key] = point.json()["id"]
        made = await client.post("/api/v1/grants", json={**GRANT, "unit": county}, headers=headers)
        desk = {**GRANT, "unit": county, "item": "HRSS-06", "scope": "unit", "redelegable": False}
        assert made.status_code == (await client.post("/api/v1/grants", json=desk, headers=headers)).status_code == 201
        ids[grant_key] = made.json()["id"]
        username = f"access_clerk_{county}"
        await enrol(database_url, username, tenant, county, ["window_clerk"])
        body = {"item": "HRSS-06", "unit": county, "applicant": {"id_number": "11010519491231002X", "name": "张三"}}
        case = await client.post("/api/v1/cases", json=body, headers=await login(client, username, PASSWORD))
        assert case.status_code == 201, case.text
        ids[case_key] = case.json()["id"]
        ids[staff_key] = await _staff_id(database_url, username)
    return ids


async def _staff_id(database_url: str, username: str) -> int:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        staff_id = await session.scalar(select(Staff.id).where(Staff.username == username))
    await engine.dispose()
    assert staff_id is not None
    return int(staff_id)


async def _call(client: Any, method: str, path: str, body: Any, headers: dict[str, str] | None) -> Any:
    if "#unit=" in path:  # a body whose target unit lies in another tenant
        path, unit = path.split("#unit=")
        body = {**body, "unit": unit}
    return await client.request(method, path, json=body, headers=headers or {})


async def test_every_endpoint_guards_access(client: Any, database_url: str) -> None:
    ids = await _grants(client, database_url)
    for method, template, body, unprivileged, foreign in ENDPOINTS:
        path = template.format(**ids)
        anonymous = await _call(client, method, path, body, None)
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        assert anonymous.headers["content-type"].startswith("application/problem+json")
        if unprivileged:
            denied = await _call(client, method, path, body, await login(client, unprivileged))
            assert denied.status_code == 403, (method, path, unprivileged, denied.text)
        if foreign:
            insider = next((who for prefix, who in INSIDERS.items() if template.startswith(prefix)), "nx_admin")
            hidden = await _call(client, method, foreign.format(**ids), body, await login(client, insider))
            assert hidden.status_code == 404, (method, foreign, hidden.text)


async def test_outside_scope_reads_as_not_found(client: Any) -> None:
    """A street's clerk sees their own subtree only; a sibling county looks like it does not exist."""
    clerk = await login(client, "cs_clerk")
    assert (await client.get("/api/v1/units/640202001001", headers=clerk)).status_code == 200
    for path in ("/api/v1/units/640205", "/api/v1/units/640202002", "/api/v1/units/64"):
        response = await client.get(path, headers=clerk)
        assert response.status_code == 404, path
    check = "/api/v1/authority/check?unit=640205001&item=HRSS-04&action=accept"
    assert (await client.get(check, headers=clerk)).status_code == 404


async def test_every_route_is_public_or_names_a_permission(client: Any) -> None:
    """New endpoints cannot slip in unguarded: each is public on purpose or names its permission."""
    covered = {template.split("?")[0].split("#")[0] for _, template, *_ in ENDPOINTS}
    for route in client.app.routes:
        for handler in getattr(route, "route_handlers", []):
            if route.path.startswith(("/schema", "/static")) or handler.http_methods == {"OPTIONS"}:
                continue  # the OpenAPI pages, vendored assets and Litestar's automatic OPTIONS answers
            if handler.opt.get("public"):
                public = {"/health", "/ready", "/favicon.ico", "/api/v1/auth/token", "/api/v1/auth/enrolment",
                          "/api/v1/public/cases/{receipt_no:str}",
                          "/api/v1/public/cases/{receipt_no:str}/rating",
                          "/api/v1/public/cases/{receipt_no:str}/complaints",
                          "/api/v1/public/cases/{receipt_no:str}/data-uses",
                          "/api/v1/public/escalations/{reg_no:str}",
                          "/api/v1/public/certificates/{number:str}",
                          "/api/v1/public/guides/{tenant:str}/{code:str}",
                          "/api/v1/public/units/{unit:str}/powers",
                          "/api/v1/public/policies/{tenant:str}",
                          "/metrics"}  # no staff login: its own scrape token (test_metrics)  # fmt: skip
                # the data-sharing API: every call signed by a partner's key instead (test_share_api)
                signed = route.path.startswith("/api/share/v1/")
                assert route.path in public or signed or route.path.startswith(PUBLIC_PAGES), route.path
                continue
            if handler.opt.get("web_page"):  # session-authenticated pages, checked by the page actor dependency
                assert handler.opt.get("permission"), f"{route.path} names no permission"
                continue  # anonymous visitors: test_every_web_page_sends_anonymous_visitors_to_login
            assert handler.opt.get("permission"), f"{route.path} names no permission"
            normalised = (
                route.path.replace("{grant_id:int}", "{grant}")
                .replace("{code:str}", "640202")
                .replace("{day:str}", "2026-05-06")
                .replace("{case_id:int}", "{case}")
                .replace("{index:int}", "1")
                .replace("{document:str}", "receipt.pdf")
                .replace("{staff_id:int}", "{staff}")
                .replace("{role:str}", "window_clerk")
                .replace("{item_id:int}", "1")
                .replace("{kind:str}", "case_accepted")
                .replace("{escalation_id:int}", "1")
                .replace("{follow_up_id:int}", "1")
                .replace("{order_id:int}", "1")
                .replace("{record_id:int}", "1")
                .replace("{unit:str}", "640202")
                .replace("{point_id:int}", "{point}")
                .replace("{day:date}", "2026-05-06")
                .replace("{number:int}", "1")
            )
            assert normalised in covered or route.path.endswith("{code:str}"), f"{route.path} missing from ENDPOINTS"
