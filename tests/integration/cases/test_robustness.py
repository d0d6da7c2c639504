"""Cases under stress through the API: racing deciders, authority revoked mid-case, pauses,
illegal steps, scope and desks, and the material rules (告知承诺、容缺、上传类型、受理后锁定)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import anyio
import httpx
import pytest
from test_lifecycle import COUNTY, PNG, TOWN, _grant, _new_case, _provide_required, _step

from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.services import materials, workflow
from helpers import PASSWORD, enrol, login

pytestmark = pytest.mark.anyio

CITY = "6402"  # 石嘴山市
PROBLEM = "application/problem+json"
T = TypeVar("T")


async def _attempt(client: Any, who: dict[str, str], case: dict[str, Any], action: str, reason: str | None = None,
                   version: int | None = None) -> Any:  # fmt: skip
    """One transition request, returning the raw response (for the refusals' problem bodies)."""
    body = {"action": action, "version": case["version"] if version is None else version}
    if reason is not None:
        body["reason"] = reason
    return await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)


def _refused(response: Any, status: int, rule: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers["content-type"]
    body = dict(response.json())
    assert body["status"] == status and body["detail"] and body["type"].startswith("https://")
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


async def _get(client: Any, who: dict[str, str], case_id: int) -> dict[str, Any]:
    response = await client.get(f"/api/v1/cases/{case_id}", headers=who)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _trace(client: Any, who: dict[str, str], case_id: int) -> list[dict[str, Any]]:
    response = await client.get(f"/api/v1/cases/{case_id}/trace", headers=who)
    assert response.status_code == 200, response.text
    return [e for e in response.json() if e["action"] != "material"]


async def _material(client: Any, who: dict[str, str], case: dict[str, Any], index: int, **body: Any) -> Any:
    return await client.post(f"/api/v1/cases/{case['id']}/materials/{index}", json=body, headers=who)


async def _upload(client: Any, who: dict[str, str], case: dict[str, Any], index: int, data: bytes,
                  name: str = "photo.png", content_type: str = "image/png") -> Any:  # fmt: skip
    files = {"file": (name, data, content_type)}
    return await client.post(f"/api/v1/cases/{case['id']}/materials/{index}", files=files, headers=who)


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


async def _accepted_town_case(client: Any, item: str = "HRSS-04") -> tuple[dict[str, Any], dict[str, str]]:
    """An item accepted and decided at the township (grants made here), accepted by cs_clerk."""
    admin = await login(client, "nx_admin")
    await _grant(client, admin, item, "accept", TOWN)
    await _grant(client, admin, item, "decide", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _provide_required(client, clerk, await _new_case(client, clerk, item))
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    assert case["status"] == "accepted" and case["routed_to"] == TOWN
    return case, clerk


# -- 1. racing requests ------------------------------------------------------------------------
#
# Litestar's AsyncTestClient hands each request to the app's event loop (a blocking portal in
# another thread) and waits for it, so requests sent through it never overlap. The races below
# run their requests as tasks on the app's own loop, through httpx's ASGI transport, so they
# interleave at every database await. Where an exact interleaving matters, a hook holds one
# request at a chosen point (never longer than HOLD seconds, so a product that locks the case
# instead cannot deadlock the test).

HOLD = 3.0
Post = tuple[str, dict[str, str], dict[str, Any]]  # path, headers, httpx keyword arguments (json= / files=)


async def _on_app_loop(client: Any, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
    async def run() -> T:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
            with anyio.fail_after(60):
                return await scenario(http)

    return await anyio.to_thread.run_sync(client.blocking_portal.call, run)


async def _concurrently(client: Any, requests: dict[str, Post]) -> dict[str, httpx.Response]:
    """POST several requests at the same time; their responses by name."""

    async def scenario(http: httpx.AsyncClient) -> dict[str, httpx.Response]:
        responses: dict[str, httpx.Response] = {}

        async def send(name: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]) -> None:
            responses[name] = await http.post(path, headers=headers, **kwargs)

        async with anyio.create_task_group() as group:
            for name, (path, headers, kwargs) in requests.items():
                group.start_soon(send, name, path, headers, kwargs)
        return responses

    return await _on_app_loop(client, scenario)


def _rendezvous(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, parties: int = 2) -> None:
    """Make ``owner.name`` (an async function) wait, once it has run, until ``parties`` calls have run it."""
    original = getattr(owner, name)
    state: dict[str, Any] = {"arrived": 0, "everyone": None}

    async def waiting(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        if state["everyone"] is None:
            state["everyone"] = anyio.Event()  # on the app's loop
        state["arrived"] += 1
        if state["arrived"] >= parties:
            state["everyone"].set()
        with anyio.move_on_after(HOLD):
            await state["everyone"].wait()
        return result

    monkeypatch.setattr(owner, name, waiting)


async def _racing_decisions(client: Any, database_url: str) -> tuple[dict[str, Any], dict[str, str], dict[str, Post]]:
    """An HRSS-04 case in review at the township, and two approvers there (cs_approver took it)."""
    case, clerk = await _accepted_town_case(client)
    await enrol(database_url, "cs_approver2", "64", TOWN, ["approver"])
    first, second = await login(client, "cs_approver"), await login(client, "cs_approver2", PASSWORD)
    case = await _step(client, first, case, "assign")
    assert case["status"] == "in_review"
    url = f"/api/v1/cases/{case['id']}/transitions"
    deny = {"action": "deny", "version": case["version"], "reason": "不符合就业困难人员认定条件"}
    requests: dict[str, Post] = {
        "approve": (url, first, {"json": {"action": "approve", "version": case["version"]}}),
        "deny": (url, second, {"json": deny}),
    }
    return case, clerk, requests


async def _check_one_decision(
    client: Any, clerk: dict[str, str], case: dict[str, Any], responses: dict[str, httpx.Response]
) -> httpx.Response:
    """Exactly one decision won, consistently in the response, the case and the trace; the loser's 409."""
    codes = sorted(r.status_code for r in responses.values())
    assert codes == [200, 409], {name: (r.status_code, r.text) for name, r in responses.items()}
    winner = next(name for name, r in responses.items() if r.status_code == 200)
    loser = next(r for r in responses.values() if r.status_code == 409)
    _refused(loser, 409, None)

    version = case["version"]
    expected = "approved" if winner == "approve" else "denied"
    decided = responses[winner].json()
    assert decided["status"] == expected and decided["version"] == version + 1
    final = await _get(client, clerk, case["id"])
    assert final["status"] == expected and final["version"] == version + 1 and final["decided_at"]
    trace = await _trace(client, clerk, case["id"])
    decisions = [e for e in trace if e["action"] in ("approve", "deny")]
    assert len(decisions) == 1 and decisions[0]["action"] == winner
    assert decisions[0]["from_status"] == "in_review" and decisions[0]["to_status"] == expected
    assert [e["action"] for e in trace] == ["create", "submit", "accept", "assign", winner]

    issued = await _step(client, clerk, final, "issue")  # the front desk carries on after the race
    assert issued["status"] == "issued" and issued["version"] == version + 2
    return loser


async def test_two_approvers_racing_exactly_one_decides(client: Any, database_url: str) -> None:
    case, clerk, requests = await _racing_decisions(client, database_url)
    loser = await _check_one_decision(client, clerk, case, await _concurrently(client, requests))
    # the loser either lost the optimistic lock or read the case after the winner had committed
    assert loser.json()["rule"] in ("stale_version", "transition"), loser.text


async def test_racing_approvers_both_read_before_either_writes(
    client: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests pass every check on the same version; the version column decides (乐观锁)."""
    case, clerk, requests = await _racing_decisions(client, database_url)
    _rendezvous(monkeypatch, workflow, "_effects")  # after the checks, before the write
    loser = await _check_one_decision(client, clerk, case, await _concurrently(client, requests))
    assert loser.json()["rule"] == "stale_version", loser.text


async def _decided_then_stale(client: Any, database_url: str) -> tuple[Any, dict[str, Any], dict[str, str]]:
    case, clerk, _requests = await _racing_decisions(client, database_url)
    second = await login(client, "cs_approver2", PASSWORD)
    approved = await _step(client, await login(client, "cs_approver"), case, "approve")
    late = await _attempt(client, second, case, "deny", "材料不全")  # after the approval committed
    return late, approved, clerk


async def test_sequential_stale_decision_is_a_conflict(client: Any, database_url: str) -> None:
    late, approved, clerk = await _decided_then_stale(client, database_url)
    _refused(late, 409, None)
    final = await _get(client, clerk, approved["id"])
    assert final["status"] == "approved" and final["version"] == approved["version"]
    assert [e["action"] for e in await _trace(client, clerk, approved["id"])].count("deny") == 0


async def test_sequential_stale_decision_names_stale_version(client: Any, database_url: str) -> None:
    late, _approved, _clerk = await _decided_then_stale(client, database_url)
    body = _refused(late, 409, None)
    assert body["rule"] == "stale_version", body


async def test_stale_version_on_a_still_legal_action(client: Any) -> None:
    case, clerk = await _accepted_town_case(client)
    approver = await login(client, "cs_approver")
    await _step(client, approver, case, "suspend", reason="需要实地核查")
    # the clerk's copy is stale; withdraw is still legal from 'suspended'
    _refused(await _attempt(client, clerk, case, "withdraw", "申请人撤回"), 409, "stale_version")
    assert (await _get(client, clerk, case["id"]))["status"] == "suspended"


async def test_concurrent_material_uploads(
    client: Any, backend: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two desks upload two different materials of one case at the same moment: both land, each
    with its own trace event (or one is told to retry) — never a 500."""
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _new_case(client, clerk, "HRSS-04")
    _rendezvous(monkeypatch, CaseRepository, "get")  # both reach for the case (and its trace length) at once
    base = f"/api/v1/cases/{case['id']}/materials"
    responses = await _concurrently(client, {
        "id_card": (f"{base}/1", clerk, {"files": {"file": ("id.png", PNG, "image/png")}}),
        "household": (f"{base}/2", clerk, {"files": {"file": ("hukou.png", PNG, "image/png")}}),
    })  # fmt: skip
    codes = {n: (r.status_code, r.text[:400]) for n, r in responses.items()}
    assert all(code in (200, 409) for code, _ in codes.values()), codes
    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)).json()
    assert [e["seq"] for e in trace] == list(range(1, len(trace) + 1))
    assert len([e for e in trace if e["action"] == "material"]) == sum(c == 200 for c, _ in codes.values())


async def test_upload_cannot_slip_in_after_acceptance(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-04"))
    case = await _step(client, clerk, case, "submit")
    original = materials._material

    async def scenario(http: httpx.AsyncClient) -> dict[str, httpx.Response]:
        checked, accepted = anyio.Event(), anyio.Event()

        async def held(*args: Any) -> Any:  # the upload passes its lock check, then the acceptance commits
            found = await original(*args)
            checked.set()
            with anyio.move_on_after(HOLD):
                await accepted.wait()
            return found

        monkeypatch.setattr(materials, "_material", held)
        responses: dict[str, httpx.Response] = {}

        async def upload() -> None:
            files = {"file": ("disability.png", PNG, "image/png")}
            responses["upload"] = await http.post(f"/api/v1/cases/{case['id']}/materials/3", files=files,
                                                  headers=clerk)  # fmt: skip

        async with anyio.create_task_group() as group:
            group.start_soon(upload)
            await checked.wait()
            body = {"action": "accept", "version": case["version"]}
            responses["accept"] = await http.post(f"/api/v1/cases/{case['id']}/transitions", json=body,
                                                  headers=clerk)  # fmt: skip
            accepted.set()
        return responses

    responses = await _on_app_loop(client, scenario)
    codes = {n: (r.status_code, r.text[:400]) for n, r in responses.items()}
    assert all(code in (200, 409) for code, _ in codes.values()), codes
    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)).json()
    accept = [e["seq"] for e in trace if e["action"] == "accept"]
    changes = [e["seq"] for e in trace if e["action"] == "material"]
    assert not accept or all(seq < accept[0] for seq in changes), codes


# -- 2. a grant revoked between acceptance and decision ----------------------------------------


async def test_revoked_decide_grant_is_rerouted_to_the_next_holder(client: Any, database_url: str) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-07", "accept", TOWN)
    county_grant = await _grant(client, admin, "HRSS-07", "decide", COUNTY)
    await _grant(client, admin, "HRSS-07", "decide", CITY)
    await enrol(database_url, "sz_approver", "64", CITY, ["approver"])
    clerk, county = await login(client, "cs_clerk"), await login(client, "dwk_approver")
    city = await login(client, "sz_approver", PASSWORD)

    case = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-07"))
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    assert case["routed_to"] == COUNTY

    revoked = await client.post(f"/api/v1/grants/{county_grant}/revoke", json={"reason": "区级审批权收回市级"},
                                headers=admin)  # fmt: skip
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked"] == [county_grant]

    _refused(await _attempt(client, county, case, "assign"), 403, "unit_authority")
    _refused(await _attempt(client, city, case, "assign"), 403, "wrong_desk")  # not routed there yet
    _refused(await _attempt(client, clerk, case, "reroute"), 422, "reason_required")
    case = await _step(client, clerk, case, "reroute", reason="大武口区审批权已撤销，改由石嘴山市审批")
    assert case["status"] == "accepted" and case["routed_to"] == CITY
    _refused(await _attempt(client, county, case, "assign"), 403, "wrong_desk")

    case = await _step(client, city, case, "assign")
    case = await _step(client, city, case, "approve")
    _refused(await _attempt(client, city, case, "issue"), 403, "wrong_desk")  # issued back at the front desk
    case = await _step(client, clerk, case, "issue")
    assert case["status"] == "issued" and case["unit"] == TOWN and case["routed_to"] == CITY

    trace = await _trace(client, clerk, case["id"])
    assert [e["action"] for e in trace] == ["create", "submit", "accept", "reroute", "assign", "approve", "issue"]
    accept, reroute, assign, approve, issue = trace[2:]
    assert accept["detail"]["routed_to"] == COUNTY and accept["unit"] == TOWN
    assert reroute["detail"] == {"from_unit": COUNTY, "to_unit": CITY}
    assert reroute["reason"] == "大武口区审批权已撤销，改由石嘴山市审批" and reroute["unit"] == TOWN
    assert reroute["from_status"] == reroute["to_status"] == "accepted"
    assert assign["unit"] == approve["unit"] == CITY and approve["to_status"] == "approved"
    assert issue["unit"] == TOWN


async def test_reroute_from_review_releases_the_case(client: Any, database_url: str) -> None:
    """Rerouting a case already taken at the county sends it back to 'accepted' at the new holder."""
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-07", "accept", TOWN)
    county_grant = await _grant(client, admin, "HRSS-07", "decide", COUNTY)
    await _grant(client, admin, "HRSS-07", "decide", CITY)
    await enrol(database_url, "sz_approver", "64", CITY, ["approver"])
    clerk, county = await login(client, "cs_clerk"), await login(client, "dwk_approver")
    case = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-07"))
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    case = await _step(client, county, case, "assign")
    assert (await client.post(f"/api/v1/grants/{county_grant}/revoke", json={"reason": "收回"},
                              headers=admin)).status_code == 200  # fmt: skip
    _refused(await _attempt(client, county, case, "approve"), 403, "unit_authority")
    case = await _step(client, clerk, case, "reroute", reason="改由市级审批")
    assert case["status"] == "accepted" and case["routed_to"] == CITY
    case = await _step(client, await login(client, "sz_approver", PASSWORD), case, "assign")
    assert case["status"] == "in_review"


# -- 3. pauses (补正、特别程序) ----------------------------------------------------------------------


async def test_supplement_and_special_procedure_stop_the_clock(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    case = await _step(client, clerk, await _new_case(client, clerk, "HRSS-04"), "submit")

    _refused(await _attempt(client, clerk, case, "request_supplement"), 422, "reason_required")
    _refused(await _attempt(client, clerk, case, "request_supplement", "   "), 422, "reason_required")
    case = await _step(client, clerk, case, "request_supplement", reason="请补充户口簿")
    assert case["status"] == "awaiting_supplement"
    assert case["allowed_actions"] == ["resubmit", "withdraw"]
    assert case["timing"]["clock"] == "not_started"  # never accepted: the promised days have not begun
    assert case["timing"]["deadline"] is None and case["deadline"] is None

    case = await _provide_required(client, clerk, await _step(client, clerk, case, "resubmit"))
    assert case["status"] == "submitted"
    case = await _step(client, clerk, case, "accept")
    assert case["timing"]["clock"] == "running" and case["timing"]["working_days_used"] == 0
    promised_deadline = case["deadline"]
    assert promised_deadline

    # special procedure from 'accepted'
    _refused(await _attempt(client, approver, case, "suspend"), 422, "reason_required")
    _refused(await _attempt(client, clerk, case, "suspend", "需鉴定"), 403, "role_permission")  # back office only
    case = await _step(client, approver, case, "suspend", reason="需要劳动能力鉴定")
    shown = await _get(client, clerk, case["id"])
    assert shown["status"] == "suspended" and shown["timing"]["clock"] == "stopped"
    assert shown["allowed_actions"] == ["resume", "withdraw"]
    _refused(await _attempt(client, approver, shown, "approve"), 409, "transition")
    case = await _step(client, approver, shown, "resume")
    assert case["status"] == "accepted" and case["timing"]["clock"] == "running"

    # special procedure from 'in_review' returns to 'in_review'
    case = await _step(client, approver, case, "assign")
    case = await _step(client, approver, case, "suspend", reason="等待外省协查")
    shown = await _get(client, approver, case["id"])
    assert shown["status"] == "suspended" and shown["timing"]["clock"] == "stopped"
    case = await _step(client, approver, shown, "resume")
    assert case["status"] == "in_review" and case["timing"]["clock"] == "running"
    assert case["deadline"] == promised_deadline  # same-day pauses cost no working day
    case = await _step(client, approver, case, "approve")
    assert case["status"] == "approved" and case["timing"]["clock"] == "finished"

    trace = await _trace(client, clerk, case["id"])
    assert [(e["action"], e["from_status"], e["to_status"]) for e in trace] == [
        ("create", None, "draft"),
        ("submit", "draft", "submitted"),
        ("request_supplement", "submitted", "awaiting_supplement"),
        ("resubmit", "awaiting_supplement", "submitted"),
        ("accept", "submitted", "accepted"),
        ("suspend", "accepted", "suspended"),
        ("resume", "suspended", "accepted"),
        ("assign", "accepted", "in_review"),
        ("suspend", "in_review", "suspended"),
        ("resume", "suspended", "in_review"),
        ("approve", "in_review", "approved"),
    ]
    reasons = {e["action"]: e["reason"] for e in trace if e["reason"]}
    assert reasons["request_supplement"] == "请补充户口簿" and reasons["suspend"] == "等待外省协查"


async def test_withdraw_while_suspended(client: Any) -> None:
    case, clerk = await _accepted_town_case(client)
    case = await _step(client, await login(client, "cs_approver"), case, "suspend", reason="需要实地核查")
    case = await _step(client, clerk, case, "withdraw", reason="申请人撤回申请")
    assert case["status"] == "withdrawn" and case["allowed_actions"] == []
    assert case["timing"]["clock"] == "finished"


# -- 4. illegal transitions --------------------------------------------------------------------


async def test_illegal_steps_are_refused(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    draft = await _new_case(client, clerk, "HRSS-04")
    assert draft["allowed_actions"] == ["submit", "withdraw"]

    body = _refused(await _attempt(client, clerk, draft, "approve"), 409, "transition")
    assert "submit" in body["detail"] and "withdraw" in body["detail"]
    unknown = await _attempt(client, clerk, draft, "explode")
    assert unknown.status_code == 400 and unknown.headers["content-type"].startswith(PROBLEM), unknown.text
    _refused(await _attempt(client, clerk, draft, "submit", version=0), 400, None)  # version must be >= 1
    _refused(await _attempt(client, clerk, draft, "withdraw"), 422, "reason_required")
    _refused(await _attempt(client, clerk, draft, "withdraw", "  "), 422, "reason_required")

    unchanged = await _get(client, clerk, draft["id"])
    assert unchanged["status"] == "draft" and unchanged["version"] == draft["version"]
    assert [e["action"] for e in await _trace(client, clerk, draft["id"])] == ["create"]

    withdrawn = await _step(client, clerk, draft, "withdraw", reason="申请人不再申请")
    body = _refused(await _attempt(client, clerk, withdrawn, "submit"), 409, "transition")
    assert withdrawn["allowed_actions"] == [] and "无" in body["detail"]  # a finished case allows nothing


async def test_illegal_step_body_lists_allowed_actions(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    draft = await _new_case(client, clerk, "HRSS-04")
    body = _refused(await _attempt(client, clerk, draft, "approve"), 409, "transition")
    assert body.get("allowed") == ["submit", "withdraw"], body


# -- 5. scope and desks ------------------------------------------------------------------------


async def test_scope_and_desks(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _provide_required(client, clerk, await _new_case(client, clerk, "HRSS-04"))
    case = await _step(client, clerk, case, "submit")

    village = await login(client, "jm_agent")  # 骏马社区, below the township: the case is outside its scope
    _refused(await _attempt(client, village, case, "accept"), 404, None)
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=village)).status_code == 404
    assert (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=village)).status_code == 404
    hidden = await client.post(f"/api/v1/cases/{case['id']}/materials/1", json={"pledge": True}, headers=village)
    _refused(hidden, 404, None)

    county = await login(client, "dwk_approver")  # in scope (the county's subtree) but not the front desk
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=county)).status_code == 200
    _refused(await _attempt(client, county, case, "accept"), 403, "wrong_desk")

    foreign = await login(client, "hn_admin")
    for path in (f"/api/v1/cases/{case['id']}", f"/api/v1/cases/{case['id']}/trace"):
        _refused(await client.get(path, headers=foreign), 404, None)
    listed = await client.get("/api/v1/cases", headers=foreign)
    assert listed.status_code == 200 and listed.json()["total"] == 0

    # nothing happened to the case
    assert (await _get(client, clerk, case["id"]))["version"] == case["version"]


# -- 6. materials ------------------------------------------------------------------------------


async def test_pledge_only_where_the_catalogue_allows(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-01", "accept", TOWN)
    clerk = await login(client, "cs_clerk")
    case = await _new_case(client, clerk, "HRSS-01")
    contract = case["materials"][1]
    assert contract["name"].startswith("劳动合同") and contract["pledge_allowed"] is True
    assert case["materials"][0]["pledge_allowed"] is False

    pledged = await _material(client, clerk, case, 2, pledge=True)
    assert pledged.status_code == 200, pledged.text
    assert pledged.json()["materials"][1]["state"] == "pledged"
    _refused(await _material(client, clerk, case, 1, pledge=True), 422, "pledge_not_allowed")
    _refused(await _material(client, clerk, case, 1, defer_until=str(_today() + timedelta(days=1))), 422,
             "deferral_not_allowed")  # fmt: skip
    _refused(await _material(client, clerk, case, 2, pledge=False), 422, "material_choice")
    _refused(await _material(client, clerk, case, 9, pledge=True), 404, None)
    county = await login(client, "dwk_approver")  # in scope, but materials are taken at the front desk
    _refused(await _material(client, county, case, 2, pledge=True), 403, "wrong_desk")
    assert (await _get(client, clerk, case["id"]))["materials"][0]["state"] == "missing"


async def test_only_the_front_desk_role_handles_materials(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-01", "accept", TOWN)
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    case = await _new_case(client, clerk, "HRSS-01")
    _refused(await _material(client, approver, case, 2, pledge=True), 403, "role_permission")


async def test_deferral_types_and_lock_after_acceptance(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-07", "accept", TOWN)
    await _grant(client, admin, "HRSS-07", "decide", COUNTY)
    clerk = await login(client, "cs_clerk")
    case = await _new_case(client, clerk, "HRSS-07")
    guarantee = case["materials"][4]
    assert guarantee["name"] == "反担保材料" and guarantee["deferral_allowed"] is True

    today = _today()
    for too_late in (today + timedelta(days=120), today):
        _refused(await _material(client, clerk, case, 5, defer_until=str(too_late)), 422, "deferral_date")
    _refused(await _material(client, clerk, case, 4, defer_until=str(today + timedelta(days=1))), 422,
             "deferral_not_allowed")  # fmt: skip
    both = await _material(client, clerk, case, 5, pledge=True, defer_until=str(today + timedelta(days=1)))
    _refused(both, 422, "material_choice")
    deferred = await _material(client, clerk, case, 5, defer_until=str(today + timedelta(days=1)))
    assert deferred.status_code == 200, deferred.text
    material = deferred.json()["materials"][4]
    assert material["state"] == "deferred" and material["defer_until"] == str(today + timedelta(days=1))

    # a text file declared as a PNG photo is judged by its bytes
    fake = await _upload(client, clerk, case, 4, b"this is not a picture, just text\n")
    _refused(fake, 422, "upload_type")
    assert (await _get(client, clerk, case["id"]))["materials"][3]["state"] == "missing"

    case = await _provide_required(client, clerk, await _get(client, clerk, case["id"]))
    assert case["materials"][4]["state"] == "deferred"  # a deferred material does not block acceptance
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    assert case["status"] == "accepted" and case["routed_to"] == COUNTY

    _refused(await _upload(client, clerk, case, 5, PNG), 409, "materials_locked")
    _refused(await _material(client, clerk, case, 5, defer_until=str(today + timedelta(days=2))), 409,
             "materials_locked")  # fmt: skip
    after = await _get(client, clerk, case["id"])
    assert after["materials"][4]["state"] == "deferred" and after["version"] == case["version"]
