"""The simulators' synthetic population: deterministic, valid, consistent across departments, and the
services' answers over it (no HTTP here)."""

from __future__ import annotations

import base64
import struct
from collections import Counter
from datetime import date

import msgspec
import pytest

from fuquan.integrations.gateway.protocol import ResultCode
from fuquan.integrations.partners import schemas
from fuquan.integrations.partners.uscc import normalise_credit_code, with_check_character
from fuquan.integrations.simulators.answers import photo_png
from fuquan.integrations.simulators.population import (
    AS_OF,
    EXAMPLE_NAMES,
    Population,
    build_population,
    generate_population,
)
from fuquan.platform.core.personal import parse_resident_id

RESULTS: dict[str, type[msgspec.Struct]] = {
    "identity": schemas.IdentityResult,
    "household": schemas.HouseholdResult,
    "death": schemas.DeathResult,
    "photo": schemas.PhotoResult,
    "marriage": schemas.MarriageResult,
    "assistance": schemas.AssistanceResult,
    "cremation": schemas.CremationResult,
    "enterprise": schemas.EnterpriseResult,
    "businesses": schemas.BusinessesResult,
    "certificate": schemas.CertificateResult,
    "status": schemas.VeteranResult,
    "contributions": schemas.ContributionsResult,
    "card": schemas.CardResult,
    "registrations": schemas.RegistrationsResult,
}
UNKNOWN_ID = "640104199001011230"  # valid check character, not in the population


@pytest.fixture(scope="module")
def pop() -> Population:
    return build_population()


@pytest.fixture(scope="module", params=[(2022, 3000), (31, 1500)], ids=["default", "seed31"])
def any_pop(request: pytest.FixtureRequest) -> Population:
    """The default population and another one: the invariants hold for every seed."""
    seed, households = request.param
    return build_population(seed, households)


def ask(pop: Population, partner: str, service: str, **body: object) -> tuple[ResultCode, str, object]:
    code, msg, data = pop.answer(partner, service, body)
    if code == ResultCode.OK:
        msgspec.convert(data, RESULTS[service])  # the adapters decode it this way
    return code, msg, data


# ---- determinism and shape ---------------------------------------------------------------------


def test_same_seed_same_population_and_default_is_cached() -> None:
    first, second = generate_population(7, 200), generate_population(7, 200)
    assert first == second
    assert list(first.persons) == list(second.persons)
    assert generate_population(8, 200) != first
    assert build_population() is build_population()


def test_population_size_and_rates(pop: Population) -> None:
    persons = list(pop.persons.values())
    assert len(pop.households) == 3000
    assert all(1 <= len(h.member_ids) <= 6 for h in pop.households.values())
    statuses = Counter(p.status for p in persons)
    assert 0.02 < statuses["deceased"] / len(persons) < 0.05
    assert 0.002 < statuses["cancelled"] / len(persons) < 0.012
    assert 0.9 < sum(p.card is not None for p in persons) / len(persons) < 0.98
    assert 0.015 < sum(p.certificate is not None for p in persons) / len(persons) < 0.05


def test_id_numbers_are_valid_and_encode_the_person(any_pop: Population) -> None:
    for person in any_pop.persons.values():
        resident = parse_resident_id(person.id_number, today=AS_OF)
        household = any_pop.households[person.household_no]
        assert resident.birth_date == person.birth_date
        assert resident.sex == person.sex
        assert resident.region_code == household.county_code
        assert resident.region_code.startswith("64")


def test_households_have_one_head_and_plausible_ages(any_pop: Population) -> None:
    for household in any_pop.households.values():
        members = any_pop.members(household)
        assert [m.relation for m in members].count("户主") == 1
        head = any_pop.persons[household.head_id]
        assert head.relation == "户主" and household.address.startswith(
            ("银川市", "石嘴山市", "吴忠市", "固原市", "中卫市")
        )
        for member in members:
            assert member.household_no == household.household_no
            gap = (member.birth_date - head.birth_date).days / 365.25
            if member.relation in ("子", "女"):
                assert gap >= 17
            elif member.relation in ("孙子", "孙女"):
                assert gap >= 36
            elif member.relation in ("父亲", "母亲"):
                assert gap <= -18


def test_spouses_have_matching_marriage_records(any_pop: Population) -> None:
    couples = 0
    for person in any_pop.persons.values():
        if person.spouse_id is None:
            continue
        spouse = any_pop.persons[person.spouse_id]
        couples += 1
        assert spouse.spouse_id == person.id_number
        assert spouse.household_no == person.household_no
        assert {person.sex, spouse.sex} == {"male", "female"}
        assert person.marriage.registered_on == spouse.marriage.registered_on is not None
        assert person.marriage.spouse_name == spouse.name
        expected = "married" if spouse.alive or not person.alive else "widowed"
        assert person.marriage.status == expected
    assert couples > 1000


def test_deaths_are_registered_and_cremations_follow_them(any_pop: Population) -> None:
    deceased = [p for p in any_pop.persons.values() if p.status == "deceased"]
    for person in deceased:
        assert person.date_of_death is not None and person.death_registered_on is not None
        assert person.date_of_death < person.death_registered_on <= AS_OF
        if person.cremation is not None:
            assert person.date_of_death <= person.cremation.cremated_on <= AS_OF
        assert person.card is None or person.card.card_status == "cancelled"
    assert 0.6 < sum(p.cremation is not None for p in deceased) / len(deceased) < 0.97
    assert not any(p.cremation for p in any_pop.persons.values() if p.alive)


def test_subsistence_allowance_is_per_household(any_pop: Population) -> None:
    households = 0
    for household in any_pop.households.values():
        records = [(r.start_date, r.monthly_amount_yuan) for m in any_pop.members(household) for r in m.assistance]
        dibao = [r for m in any_pop.members(household) for r in m.assistance if r.kind == "dibao"]
        if dibao:
            households += 1
            assert len(set(records)) == 1
            alive = [m for m in any_pop.members(household) if m.status == "valid"]
            assert all(any(r.kind == "dibao" for r in m.assistance) for m in alive)
        for record in dibao:
            assert record.end_date is None or record.start_date < record.end_date <= AS_OF
    assert 0.03 < households / len(any_pop.households) < 0.08


def test_businesses_name_their_owner_and_have_valid_codes(any_pop: Population) -> None:
    owners = 0
    for enterprise in any_pop.enterprises.values():
        record = enterprise.record
        assert normalise_credit_code(record.credit_code) == record.credit_code
        assert record.credit_code[:2] == ("91" if record.kind == "company" else "92")
        assert (record.closed_on is None) == (record.status == "active")
        if record.closed_on is not None:
            assert record.established_on < record.closed_on <= AS_OF
        if enterprise.owner_id is not None:
            owner = any_pop.persons[enterprise.owner_id]
            assert record.legal_representative == owner.name
            assert record.credit_code in owner.business_codes
            assert record.credit_code[2:8] == any_pop.households[owner.household_no].county_code
    for person in any_pop.persons.values():
        if person.business_codes:
            owners += 1
            assert all(e.owner_id == person.id_number for e in any_pop.businesses_of(person.id_number))
    adults = sum(p.status == "valid" and 20 <= p.age <= 65 for p in any_pop.persons.values())
    assert 0.05 < owners / adults < 0.12
    employers = [e for e in any_pop.enterprises.values() if e.owner_id is None]
    assert employers and sum(e.active for e in employers) / len(employers) > 0.8


def test_hrss_records_are_consistent(any_pop: Population) -> None:
    for person in any_pop.persons.values():
        difficulty = person.active_registrations("employment_difficulty")
        if difficulty:
            assert person.active_registrations("unemployment")
            assert any(r.detail == "灵活就业" for r in person.active_registrations("employment"))
            assert person.contributions is not None
            assert person.card is not None and person.card.financial_account_active
        contributions = person.contributions
        if contributions is not None and contributions.employer_credit_code:
            employer = any_pop.enterprise(contributions.employer_credit_code)
            assert employer is not None and employer.record.name == contributions.employer_name


# ---- examples ----------------------------------------------------------------------------------


def test_examples_have_the_promised_properties(pop: Population) -> None:
    examples = pop.examples()
    assert list(examples) == list(EXAMPLE_NAMES)
    people = [v for k, v in examples.items() if not k.startswith("enterprise_")]
    assert len(set(people)) == len(people)
    for name in people:
        assert pop.household_of(name) is not None

    ordinary = pop.example("ordinary")
    assert ordinary.status == "valid" and 18 <= ordinary.age < 60
    assert ordinary.card is not None and ordinary.card.card_status == "normal"
    assert not ordinary.assistance and ordinary.certificate is None and ordinary.veteran is None

    deceased, relative = pop.example("deceased"), pop.example("relative_of_deceased")
    assert deceased.status == "deceased" and deceased.death_registered_on and deceased.cremation
    assert relative.status == "valid" and relative.age >= 18 and relative.household_no == deceased.household_no
    assert pop.example("deceased_not_cremated").cremation is None
    assert pop.example("cancelled").status == "cancelled"
    assert pop.example("cancelled").date_of_death is None

    assert pop.example("dibao_active").active_assistance("dibao")
    ended = pop.example("dibao_ended")
    assert ended.assistance and all(r.end_date is not None and r.end_date <= AS_OF for r in ended.assistance)
    assert pop.example("tekun").active_assistance("tekun")

    assert any(e.active for e in pop.businesses_of(examples["business_owner"]))
    closed = pop.businesses_of(examples["business_owner_deregistered"])
    assert closed and all(e.record.status in ("deregistered", "revoked") and e.record.closed_on for e in closed)

    valid_certificate = pop.example("disabled_valid").certificate
    expired_certificate = pop.example("disabled_expired").certificate
    assert valid_certificate is not None and valid_certificate.valid_until > date(2028, 12, 31)
    assert expired_certificate is not None and expired_certificate.valid_until < AS_OF
    assert pop.example("veteran").veteran is not None and pop.example("veteran").sex == "male"

    assert pop.example("unemployed").active_registrations("unemployment")
    difficulty = pop.example("employment_difficulty")
    assert difficulty.active_registrations("employment_difficulty") and difficulty.active_registrations("unemployment")
    assert difficulty.contributions is not None and difficulty.card is not None
    assert difficulty.card.card_status == "normal" and difficulty.card.financial_account_active
    assert pop.example("no_card").card is None and pop.example("no_card").status == "valid"
    assert pop.example("minor").age < 16

    active = pop.enterprise(examples["enterprise_active"])
    deregistered = pop.enterprise(examples["enterprise_deregistered"])
    assert active is not None and active.active and active.record.kind == "company"
    assert deregistered is not None and deregistered.record.status == "deregistered"


def test_a_tiny_population_says_what_it_lacks() -> None:
    with pytest.raises(LookupError, match="more households"):
        generate_population(1, 5).examples()


def test_repr_masks_personal_data(pop: Population) -> None:
    person = pop.example("ordinary")
    assert person.id_number not in repr(person) and person.name not in repr(person)


# ---- answers -----------------------------------------------------------------------------------


def test_identity(pop: Population) -> None:
    person = pop.example("ordinary")
    assert ask(pop, "public_security", "identity", id_number=person.id_number, name=person.name) == (
        ResultCode.OK,
        "查询成功",
        {"name_matches": True, "status": "valid"},
    )
    _, _, data = ask(pop, "public_security", "identity", id_number=person.id_number.lower(), name="某某某")
    assert data == {"name_matches": False, "status": "valid"}
    deceased = pop.example("deceased")
    _, _, data = ask(pop, "public_security", "identity", id_number=deceased.id_number, name=deceased.name)
    assert data == {"name_matches": True, "status": "deceased"}
    code, msg, data = ask(pop, "public_security", "identity", id_number=UNKNOWN_ID, name="张三")
    assert (code, msg, data) == (ResultCode.NOT_FOUND, "查无此人户籍信息", None)


def test_household_death_and_cremation(pop: Population) -> None:
    relative, deceased = pop.example("relative_of_deceased"), pop.example("deceased")
    code, _, data = ask(pop, "public_security", "household", id_number=relative.id_number)
    assert code == ResultCode.OK and isinstance(data, dict)
    members = {m["id_number"]: m for m in data["members"]}
    assert members[deceased.id_number]["status"] == "deceased"
    assert members[relative.id_number]["relation"] == relative.relation
    assert data["head_id_number"] == pop.households[relative.household_no].head_id

    _, _, data = ask(pop, "public_security", "death", id_number=deceased.id_number)
    assert data == {
        "deceased": True,
        "date_of_death": deceased.date_of_death.isoformat() if deceased.date_of_death else None,
        "registered_on": deceased.death_registered_on.isoformat() if deceased.death_registered_on else None,
    }
    _, _, data = ask(pop, "public_security", "death", id_number=relative.id_number)
    assert data == {"deceased": False, "date_of_death": None, "registered_on": None}

    code, _, data = ask(pop, "civil_affairs", "cremation", id_number=deceased.id_number)
    assert code == ResultCode.OK and isinstance(data, dict) and data["funeral_home"].endswith("殡仪馆")
    assert ask(pop, "civil_affairs", "cremation", id_number=relative.id_number)[0] == ResultCode.NOT_FOUND
    assert ask(pop, "public_security", "death", id_number=UNKNOWN_ID)[0] == ResultCode.NOT_FOUND


def test_photo_is_a_small_deterministic_png(pop: Population) -> None:
    person = pop.example("ordinary")
    code, _, data = ask(pop, "public_security", "photo", id_number=person.id_number)
    assert code == ResultCode.OK and isinstance(data, dict)
    png = base64.b64decode(data["image_png_base64"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (24, 32)
    assert png == photo_png(person.id_number) != photo_png(pop.example("veteran").id_number)
    assert len(png) < 2000


def test_civil_affairs_answers(pop: Population) -> None:
    ordinary = pop.example("ordinary")
    code, _, data = ask(pop, "civil_affairs", "marriage", id_number=ordinary.id_number)
    assert code == ResultCode.OK and isinstance(data, dict) and data["status"] == ordinary.marriage.status
    assert ask(pop, "civil_affairs", "assistance", id_number=ordinary.id_number)[2] == {"records": []}
    _, _, data = ask(pop, "civil_affairs", "assistance", id_number=pop.example("dibao_active").id_number)
    assert isinstance(data, dict) and data["records"][0]["kind"] == "dibao" and data["records"][0]["end_date"] is None
    _, _, data = ask(pop, "civil_affairs", "assistance", id_number=pop.example("dibao_ended").id_number)
    assert isinstance(data, dict) and data["records"][0]["end_date"] is not None
    assert ask(pop, "civil_affairs", "marriage", id_number=UNKNOWN_ID)[0] == ResultCode.NOT_FOUND


def test_market_regulation_answers(pop: Population) -> None:
    examples = pop.examples()
    code, _, data = ask(pop, "market_regulation", "enterprise", credit_code=examples["enterprise_active"].lower())
    assert code == ResultCode.OK and isinstance(data, dict) and data["status"] == "active"
    _, _, data = ask(pop, "market_regulation", "enterprise", credit_code=examples["enterprise_deregistered"])
    assert isinstance(data, dict) and data["status"] == "deregistered" and data["closed_on"]
    unknown = with_check_character("91640104000000001")
    assert ask(pop, "market_regulation", "enterprise", credit_code=unknown)[0] == ResultCode.NOT_FOUND
    assert ask(pop, "market_regulation", "enterprise", credit_code="not-a-code")[0] == ResultCode.BAD_REQUEST

    owner = pop.example("business_owner")
    _, _, data = ask(pop, "market_regulation", "businesses", id_number=owner.id_number)
    assert isinstance(data, dict) and {b["legal_representative"] for b in data["businesses"]} == {owner.name}
    ordinary = pop.example("ordinary").id_number
    assert ask(pop, "market_regulation", "businesses", id_number=ordinary)[2] == {"businesses": []}
    assert ask(pop, "market_regulation", "businesses", id_number=UNKNOWN_ID)[0] == ResultCode.NOT_FOUND


@pytest.mark.parametrize(
    ("partner", "service", "holder", "lacking"),
    [
        ("disabled_persons", "certificate", "disabled_valid", "ordinary"),
        ("veterans", "status", "veteran", "ordinary"),
        ("hrss", "card", "ordinary", "no_card"),
        ("hrss", "contributions", "employment_difficulty", None),
    ],
)
def test_records_or_not_found(pop: Population, partner: str, service: str, holder: str, lacking: str | None) -> None:
    assert ask(pop, partner, service, id_number=pop.examples()[holder])[0] == ResultCode.OK
    if lacking:
        assert ask(pop, partner, service, id_number=pop.examples()[lacking])[0] == ResultCode.NOT_FOUND
    assert ask(pop, partner, service, id_number=UNKNOWN_ID)[0] == ResultCode.NOT_FOUND


def test_registrations(pop: Population) -> None:
    _, _, data = ask(pop, "hrss", "registrations", id_number=pop.examples()["employment_difficulty"])
    assert isinstance(data, dict)
    assert {r["kind"] for r in data["registrations"]} >= {"unemployment", "employment_difficulty", "employment"}
    assert ask(pop, "hrss", "registrations", id_number=pop.examples()["minor"])[2] == {"registrations": []}


def test_every_service_answers_every_example_in_its_schema(pop: Population) -> None:
    examples = pop.examples()
    for partner, services in schemas.SERVICES.items():
        for service in services:
            for name, key in examples.items():
                if service == "enterprise":
                    body: dict[str, object] = {"credit_code": key}
                elif name.startswith("enterprise_"):
                    continue
                else:
                    body = {"id_number": key, "name": "某某"} if service == "identity" else {"id_number": key}
                code, msg, _ = ask(pop, partner, service, **body)
                assert code in (ResultCode.OK, ResultCode.NOT_FOUND, ResultCode.BAD_REQUEST), msg
                if service != "enterprise" or name.startswith("enterprise_"):
                    assert code != ResultCode.BAD_REQUEST, (partner, service, name, msg)


def test_bad_requests(pop: Population) -> None:
    assert ask(pop, "public_security", "identity", id_number=UNKNOWN_ID)[0] == ResultCode.BAD_REQUEST  # no name
    assert ask(pop, "hrss", "card", id_number="12345")[0] == ResultCode.BAD_REQUEST
    assert ask(pop, "hrss", "card", id_number=UNKNOWN_ID, extra=1)[0] == ResultCode.BAD_REQUEST
    assert ask(pop, "hrss", "no_such_service", id_number=UNKNOWN_ID)[0] == ResultCode.BAD_REQUEST
    assert pop.answer("hrss", "card", schemas.PersonQuery(id_number=UNKNOWN_ID)).code == ResultCode.NOT_FOUND
