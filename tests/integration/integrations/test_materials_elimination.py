"""Materials elimination end to end: the app asks the partner simulators over real HTTP on loopback.

With every partner up, each of the 20 items needs exactly what ``fuquan catalogue id-only`` says;
with a partner down, slow, or failing, no case is lost, the materials fall back and the API says
which source failed and why.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from fuquan.integrations.partners.schemas import PARTNERS
from fuquan.integrations.simulators import (
    Population,
    RunningSimulators,
    build_population,
    default_credentials,
    running_simulators,
)
from fuquan.integrations.simulators.model import Person
from fuquan.platform.catalog.schemas import ItemSpec
from fuquan.platform.catalog.services import default_catalog, needs_only_id_card, paper_needed
from fuquan.platform.cli.integrations import catalogue
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory
from helpers import connect_partners, login, sample_form

pytestmark = pytest.mark.anyio

SECRET = "elimination-test-secret"
TOWN, COUNTY, CITY = "640202001", "640202", "6402"
BUDGET = 1.5  # seconds for all lookups of one case (the module's settings)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
CATALOG = {spec.code: spec for spec in default_catalog()}


@pytest.fixture(scope="module")
def simulators() -> Iterator[RunningSimulators]:
    with running_simulators(default_credentials(SECRET)) as running:
        yield running


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, shared_data_budget_seconds=BUDGET)


async def _configure(database_url: str, settings: Settings, simulators: RunningSimulators, **overrides: Any) -> None:
    await connect_partners(
        settings, simulators, SECRET,
        timeout_seconds=overrides.get("timeout_seconds", 1.0), secrets=overrides.get("secret"),
    )  # fmt: skip


@pytest.fixture
async def connected(
    client: Any, database_url: str, settings: Settings, simulators: RunningSimulators
) -> AsyncIterator[RunningSimulators]:
    """Tenant 64's adapters point at the simulators; every item may be accepted at the town."""
    simulators.reset()
    await _configure(database_url, settings, simulators)
    admin = await login(client, "nx_admin")
    grants = []
    for spec in CATALOG.values():
        decider = next(unit for unit in (TOWN, COUNTY, CITY, "64") if len(unit) <= _code_length(spec.decide_floor))
        for action, unit in (("accept", TOWN), ("decide", decider)):
            grants.append({"item": spec.code, "action": action, "unit": unit, "scope": "unit",
                           "valid_from": "2026-01-01", "instrument": "宁人社发〔2026〕8号"})  # fmt: skip
    response = await client.post("/api/v1/grants/batch", json={"grants": grants}, headers=admin)
    assert response.status_code == 201, response.text
    yield simulators
    simulators.reset()


def _code_length(level: int) -> int:
    return {1: 2, 2: 4, 3: 6, 4: 9, 5: 12, 6: 15}[level]


# ---- who applies for what ------------------------------------------------------------------


def _supports(person: Person, evidence: str, population: Population) -> bool:
    """Whether the synthetic person's records satisfy one applicant-side evidence."""
    card = person.card
    checks: dict[str, Callable[[], bool]] = {
        "identity": lambda: person.status == "valid",
        "household": lambda: True,
        "photo": lambda: person.photo_taken_on is not None,
        "contribution_record": lambda: person.contributions is not None and person.contributions.months_paid > 0,
        "card_bank_account": lambda: card is not None and card.card_status == "normal"
        and card.financial_account_active,
        "employment_registration": lambda: bool(person.active_registrations("employment")),
        "unemployment_registration": lambda: bool(person.active_registrations("unemployment")),
        "employment_difficulty": lambda: bool(person.active_registrations("employment_difficulty")),
        "business_by_person": lambda: any(
            (e := population.enterprise(code)) is not None and e.active for code in person.business_codes
        ),
        "cremation_record": lambda: person.cremation is None,
    }  # fmt: skip
    return checks[evidence]()


def _applicant_evidence(spec: ItemSpec) -> list[str]:
    return [
        m.shared.evidence
        for m in spec.materials
        if m.required and m.shared is not None and m.shared.subject == "applicant"
    ]


def _subject_for(spec: ItemSpec, population: Population) -> dict[str, Any]:
    """The case body for someone whose records answer every required shared material of ``spec``."""
    needs = _applicant_evidence(spec)
    related = any(m.shared is not None and m.shared.subject == "related_person" for m in spec.materials)
    body: dict[str, Any] = {"item": spec.code, "unit": TOWN, "form": sample_form(spec.code)}
    if related:  # a living relative in the household of a deceased, registered person
        for deceased in population.persons.values():
            if deceased.status != "deceased" or deceased.death_registered_on is None:
                continue
            household = population.household_of(deceased.id_number)
            assert household is not None
            candidates = [p for p in population.members(household) if p.id_number != deceased.id_number]
            fits = [p for p in candidates if p.age >= 18 and all(_supports(p, e, population) for e in needs)]
            relative = fits[0] if fits else None
            if relative is not None:
                body["applicant"] = {"id_number": relative.id_number, "name": relative.name}
                body["related_person"] = {"id_number": deceased.id_number, "name": deceased.name}
                return body
        raise AssertionError(f"no relative of a deceased person fits {spec.code}")
    person = next(
        p for p in population.persons.values() if p.age >= 18 and all(_supports(p, e, population) for e in needs)
    )
    body["applicant"] = {"id_number": person.id_number, "name": person.name}
    if any(m.shared is not None and m.shared.subject == "enterprise" for m in spec.materials):
        body["enterprise_credit_code"] = population.examples()["enterprise_active"]
    return body


async def _create(client: Any, who: dict[str, str], body: dict[str, Any], expect: int = 201) -> dict[str, Any]:
    response = await client.post("/api/v1/cases", json=body, headers=who)
    assert response.status_code == expect, response.text
    return dict(response.json())


async def _step(client: Any, who: dict[str, str], case: dict[str, Any], action: str, expect: int = 200) -> Any:
    body = {"action": action, "version": case["version"]}
    response = await client.post(f"/api/v1/cases/{case['id']}/transitions", json=body, headers=who)
    assert response.status_code == expect, response.text
    return response.json()


def _by_name(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in case["materials"]}


# ---- every partner up -----------------------------------------------------------------------


async def test_every_item_needs_exactly_what_the_report_says(client: Any, connected: RunningSimulators) -> None:
    population = build_population()
    clerk = await login(client, "cs_clerk")
    observed: dict[str, bool] = {}
    for code, spec in CATALOG.items():
        case = await _create(client, clerk, _subject_for(spec, population))
        materials = _by_name(case)
        for material in spec.materials:
            if material.required and material.shared is not None:
                state = materials[material.name]
                assert state["state"] == "satisfied_by_shared_data", (code, material.name, state)
                evidence = state["evidence"]
                assert evidence["source"] == material.shared.source and evidence["fetched_at"], evidence
                assert len(evidence["response_hash"]) == 64 or evidence["facts"].get("origin") == "fuquan"
        missing = [m["name"] for m in case["materials"] if m["required"] and m["state"] == "missing"]
        assert missing == [m.name for m in paper_needed(spec)], (code, missing)
        assert case["unavailable_sources"] == []
        observed[code] = not missing
        submitted = await _step(client, clerk, case, "submit")
        if observed[code]:
            accepted = await _step(client, clerk, submitted, "accept")
            assert accepted["status"] == "accepted", code
        else:
            refused = await _step(client, clerk, submitted, "accept", expect=422)
            assert refused["rule"] == "materials_missing" and refused["missing"] == missing
    report = {code: needs_only_id_card(spec) for code, spec in CATALOG.items()}
    assert observed == report
    assert sum(observed.values()) == 16
    assert all(spec.id_only == observed[code] for code, spec in CATALOG.items())
    printed = CliRunner().invoke(catalogue, ["id-only"])  # not through `cli`: it reconfigures logging
    assert printed.exit_code == 0, printed.output
    assert "16 of 20 items need only an ID card" in printed.output


async def test_evidence_and_audit_of_every_call(client: Any, connected: RunningSimulators, database_url: str) -> None:
    population = build_population()
    clerk = await login(client, "cs_clerk")
    case = await _create(client, clerk, _subject_for(CATALOG["HRSS-05"], population))
    rows = (await client.get(f"/api/v1/cases/{case['id']}/evidence", headers=clerk)).json()
    assert {row["source"] for row in rows} == {"public_security", "hrss"}
    for row in rows:
        assert row["purpose"] == case["receipt_no"] and row["status"] == "satisfied"
        if row["service"] is not None:
            assert len(row["request_sm3"]) == 64 and len(row["response_sm3"]) == 64 and row["source_request_id"]
    assert "id_number" not in str(rows) and case["applicant"]["id_number"] not in str(rows)
    calls = await _partner_calls(database_url)
    assert len(calls) == sum(1 for row in rows if row["service"] is not None)
    assert all(c.purpose == case["receipt_no"] and c.actor == "cs_clerk" and c.outcome == "success" for c in calls)


async def _partner_calls(database_url: str) -> list[AuditRecord]:
    """The audit records of partner calls, oldest first."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        query = select(AuditRecord).where(AuditRecord.action == "partner.call").order_by(AuditRecord.id)
        calls = list(await session.scalars(query))
    await engine.dispose()
    return calls


async def test_a_deceased_applicant_fails_the_identity_check(client: Any, connected: RunningSimulators) -> None:
    population = build_population()
    deceased = population.example("deceased")
    clerk = await login(client, "cs_clerk")
    body = {"item": "HRSS-06", "unit": TOWN, "applicant": {"id_number": deceased.id_number, "name": deceased.name}}
    identity = (await _create(client, clerk, body))["materials"][0]
    assert identity["state"] == "missing" and "已死亡" in identity["note"]
    assert identity["evidence"]["status"] == "not_satisfied"
    wrong_name = {**body, "applicant": {"id_number": population.example("ordinary").id_number, "name": "王不对"}}
    identity = (await _create(client, clerk, wrong_name))["materials"][0]
    assert identity["state"] == "missing" and "姓名与身份证号码不一致" in identity["note"]


async def test_a_deregistered_enterprise_does_not_satisfy_a_business_licence(
    client: Any, connected: RunningSimulators
) -> None:
    population = build_population()
    examples = population.examples()
    owner = population.example("business_owner_deregistered")
    clerk = await login(client, "cs_clerk")
    body = {"item": "HRSS-07", "unit": TOWN, "applicant": {"id_number": owner.id_number, "name": owner.name}}
    licence = _by_name(await _create(client, clerk, body))["营业执照"]
    assert licence["state"] == "missing" and "注销或吊销" in licence["note"]
    complaint = {**body, "item": "HRSS-17", "enterprise_credit_code": examples["enterprise_deregistered"]}
    registration = _by_name(await _create(client, clerk, complaint))["被投诉单位登记信息"]
    assert registration["state"] == "missing" and "已注销" in registration["note"]
    active = {**complaint, "enterprise_credit_code": examples["enterprise_active"]}
    assert _by_name(await _create(client, clerk, active))["被投诉单位登记信息"]["state"] == "satisfied_by_shared_data"


async def test_a_malformed_credit_code_is_refused_before_any_call(client: Any, connected: RunningSimulators) -> None:
    clerk = await login(client, "cs_clerk")
    ordinary = build_population().example("ordinary")
    code = build_population().examples()["enterprise_active"]
    body = {"item": "HRSS-17", "unit": TOWN, "applicant": {"id_number": ordinary.id_number, "name": ordinary.name},
            "enterprise_credit_code": code[:17] + ("0" if code[17] != "0" else "1")}  # fmt: skip
    before = connected.stats("market_regulation")["total"]
    problem = await _create(client, clerk, body, expect=422)
    assert problem["rule"] == "credit_code" and "校验位" in problem["detail"]
    assert connected.stats("market_regulation")["total"] == before


async def test_fuquan_own_records_satisfy_later_items(client: Any, connected: RunningSimulators) -> None:
    """An issued 失业登记 (HRSS-02) satisfies the 失业登记证明 of a later 就业困难人员认定 (HRSS-04)."""
    ordinary = build_population().example("ordinary")
    person = {"id_number": ordinary.id_number, "name": ordinary.name}
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    before = _by_name(await _create(client, clerk, {"item": "HRSS-04", "unit": TOWN, "applicant": person}))
    assert before["失业登记证明"]["state"] == "missing"
    case = await _create(client, clerk, {"item": "HRSS-02", "unit": TOWN, "applicant": person})
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    for who, action in ((approver, "assign"), (approver, "approve"), (clerk, "issue")):
        case = await _step(client, who, case, action)
    after = _by_name(await _create(client, clerk, {"item": "HRSS-04", "unit": TOWN, "applicant": person}))
    proof = after["失业登记证明"]
    assert proof["state"] == "satisfied_by_shared_data" and case["receipt_no"] in proof["note"]
    assert proof["evidence"]["facts"]["origin"] == "fuquan"


# ---- partners down, slow, failing -----------------------------------------------------------

DOWN_CASES = {  # partner -> (item, example applicant) whose materials ask that partner
    "public_security": ("HRSS-06", "ordinary"),
    "civil_affairs": ("HRSS-12", "ordinary"),
    "market_regulation": ("HRSS-17", "ordinary"),
    "disabled_persons": ("HRSS-09", "disabled_valid"),
    "veterans": ("HRSS-04", "veteran"),
    "hrss": ("HRSS-05", "employment_difficulty"),
}


async def _fall_back(client: Any, clerk: dict[str, str], case: dict[str, Any]) -> dict[str, Any]:
    """The front desk's fallback for each required material still missing: pledge where allowed, else upload."""
    for material in case["materials"]:
        if not material["required"] or material["state"] != "missing":
            continue
        url = f"/api/v1/cases/{case['id']}/materials/{material['index']}"
        if material["pledge_allowed"]:
            response = await client.post(url, json={"pledge": True}, headers=clerk)
        else:
            response = await client.post(url, files={"file": ("scan.png", PNG, "image/png")}, headers=clerk)
        assert response.status_code == 200, response.text
        case = response.json()
    return case


@pytest.mark.parametrize("partner", PARTNERS)
async def test_each_partner_down_loses_no_case(
    client: Any, connected: RunningSimulators, partner: str, database_url: str
) -> None:
    population = build_population()
    item, example = DOWN_CASES[partner]
    person = population.example(example)
    body: dict[str, Any] = {
        "item": item,
        "unit": TOWN,
        "applicant": {"id_number": person.id_number, "name": person.name},
        "form": sample_form(item),
    }
    if item == "HRSS-17":
        body["enterprise_credit_code"] = population.examples()["enterprise_active"]
    clerk = await login(client, "cs_clerk")
    connected.control(partner, down=True)
    headers = {**clerk, "Idempotency-Key": f"down-{partner}-0001"}
    response = await client.post("/api/v1/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    case = response.json()
    affected = [m for m in case["materials"] if m["source"] == partner]
    assert affected and all(m["state"] == "missing" for m in affected)
    assert all(m["evidence"]["status"] == "unavailable" and "暂不可用" in m["note"] for m in affected), affected
    (problem,) = [s for s in case["unavailable_sources"] if s["source"] == partner]
    assert problem["materials"] == [m["index"] for m in affected] and problem["failure"] == "failed"
    failures = [c for c in await _partner_calls(database_url) if c.outcome == "failure"]
    assert failures and all(c.purpose == case["receipt_no"] and c.detail["source"] == partner for c in failures)
    assert all(c.detail["failure"] == "failed" and c.actor == "cs_clerk" for c in failures)
    again = await client.post("/api/v1/cases", json=body, headers=headers)  # a retry finds the same case
    assert again.status_code == 201 and again.json()["id"] == case["id"]
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=clerk)).status_code == 200
    case = await _step(client, clerk, await _fall_back(client, clerk, case), "submit")
    accepted = await _step(client, clerk, case, "accept")
    assert accepted["status"] == "accepted"


async def test_a_partner_back_at_submission_satisfies_what_it_could_not(
    client: Any, connected: RunningSimulators
) -> None:
    ordinary = build_population().example("ordinary")
    body = {"item": "HRSS-06", "unit": TOWN, "applicant": {"id_number": ordinary.id_number, "name": ordinary.name}}
    clerk = await login(client, "cs_clerk")
    connected.control("public_security", down=True)
    case = await _create(client, clerk, body)
    assert case["materials"][0]["state"] == "missing"
    connected.reset("public_security")
    submitted = await _step(client, clerk, case, "submit")
    assert submitted["materials"][0]["state"] == "satisfied_by_shared_data"
    assert submitted["unavailable_sources"] == []
    assert (await _step(client, clerk, submitted, "accept"))["status"] == "accepted"


async def test_a_slow_partner_keeps_creation_within_the_budget(
    client: Any, connected: RunningSimulators, database_url: str, settings: Settings
) -> None:
    """Public security answers after 5 s; its timeout is longer than the case's budget, so the budget
    is what ends the wait — and the case is created with the other sources' answers."""
    await _configure(database_url, settings, connected, timeout_seconds=10.0)
    connected.control("public_security", latency_ms=5000)
    person = build_population().example("employment_difficulty")
    body = {"item": "HRSS-05", "unit": TOWN, "applicant": {"id_number": person.id_number, "name": person.name}}
    clerk = await login(client, "cs_clerk")
    started = time.perf_counter()
    case = await _create(client, clerk, body)
    elapsed = time.perf_counter() - started
    assert elapsed < BUDGET + 1.0, elapsed  # the budget, plus the case's own writes on a slow CI machine
    identity = case["materials"][0]
    assert identity["state"] == "missing" and identity["evidence"]["failure"] == "budget_exceeded"
    assert all(m["state"] == "satisfied_by_shared_data" for m in case["materials"][1:])


async def test_wrong_credentials_are_an_unavailable_source_with_a_reason(
    client: Any, connected: RunningSimulators, database_url: str, settings: Settings
) -> None:
    await _configure(database_url, settings, connected, secret={"public_security": "not-the-secret"})
    ordinary = build_population().example("ordinary")
    body = {"item": "HRSS-06", "unit": TOWN, "applicant": {"id_number": ordinary.id_number, "name": ordinary.name}}
    case = await _create(client, await login(client, "cs_clerk"), body)
    (problem,) = case["unavailable_sources"]
    assert problem["source"] == "public_security" and problem["failure"] == "rejected"
    assert connected.stats("public_security")["rejected"], connected.stats("public_security")


@pytest.mark.parametrize(
    ("example", "material", "state", "says"),
    [
        ("disabled_valid", "重度残疾证明(代缴对象)", "satisfied_by_shared_data", "残疾人证有效"),
        ("disabled_expired", "重度残疾证明(代缴对象)", "missing", "过期"),
        ("dibao_active", "低保或特困证明(代缴对象)", "satisfied_by_shared_data", "正在享受"),
        ("dibao_ended", "低保或特困证明(代缴对象)", "missing", "已于"),
    ],
)
async def test_a_certificate_or_allowance_counts_only_while_valid(
    client: Any, connected: RunningSimulators, example: str, material: str, state: str, says: str
) -> None:
    person = build_population().example(example)
    body = {"item": "HRSS-09", "unit": TOWN, "applicant": {"id_number": person.id_number, "name": person.name}}
    found = _by_name(await _create(client, await login(client, "cs_clerk"), body))[material]
    assert found["state"] == state and says in found["note"], found
