"""The departments' records about the generated people: assistance, market entities, certificates,
veterans, contributions, cards and registrations.

SYNTHETIC DATA — generated, not real people or enterprises. Each function draws from the draft's
random generator in a fixed order, so the same seed always yields the same records.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from fuquan.integrations.partners.schemas import (
    AssistanceRecord,
    CardResult,
    CertificateResult,
    ContributionsResult,
    EnterpriseResult,
    Registration,
    VeteranResult,
)
from fuquan.integrations.partners.uscc import with_check_character
from fuquan.integrations.simulators.generation import Draft, Place, add_years, between, ningxia_places, working_age
from fuquan.integrations.simulators.model import AS_OF, SEXES, Enterprise, Person
from fuquan.integrations.simulators.names import (
    BANKS,
    COMPANY_TRADES,
    COMPANY_WORDS,
    DISABILITY_CATEGORIES,
    SHOP_TRADES,
)

LAST_MONTH = (AS_OF - timedelta(days=1)).strftime("%Y-%m")
EMPLOYEE_SCHEMES: list[Literal["employee_pension", "resident_pension", "unemployment", "work_injury", "medical"]] = [
    "employee_pension",
    "unemployment",
    "work_injury",
    "medical",
]
FLEXIBLE = "灵活就业"
SELF_EMPLOYED = "个体经营"
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def months_between(first: date, last: date) -> int:
    return max(1, (last.year - first.year) * 12 + last.month - first.month + 1)


# ---- civil affairs 民政 ---------------------------------------------------------------------------


def assistance(draft: Draft) -> None:
    """低保 for about 5% of households (every member), 特困 for some lone elderly people."""
    rng = draft.rng
    for household in draft.households.values():
        members = [draft.persons[i] for i in household.member_ids]
        if rng.random() < 0.05:
            ended = rng.random() < 0.3
            start = AS_OF - timedelta(days=rng.randint(400 if ended else 60, 2500))
            end = between(rng, start + timedelta(days=180), AS_OF - timedelta(days=1)) if ended else None
            amount = rng.randrange(300, 700, 10)
            for person in members:
                stop = person.date_of_death or person.cancelled_on
                if stop is not None and stop <= start:
                    continue
                until = min(end, stop) if end and stop else (end or stop)
                person.assistance.append(
                    AssistanceRecord(kind="dibao", start_date=start, end_date=until, monthly_amount_yuan=amount)
                )
        elif len(members) == 1 and members[0].status == "valid" and members[0].age >= 65 and rng.random() < 0.3:
            start = AS_OF - timedelta(days=rng.randint(60, 3000))
            record = AssistanceRecord(kind="tekun", start_date=start, monthly_amount_yuan=rng.randrange(800, 1100, 10))
            members[0].assistance.append(record)


# ---- market regulation 市场监管 --------------------------------------------------------------------


def _organisation_code(draft: Draft) -> str:
    """Nine characters: eight digits and a GB 11714 check character."""
    body = "".join(str(draft.rng.randrange(10)) for _ in range(8))
    check = 11 - sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def _credit_code(draft: Draft, category: str, county_code: str) -> str:
    while True:
        code = with_check_character(f"9{category}{county_code}{_organisation_code(draft)}")
        if code not in draft.enterprises:
            return code


def _entity(
    draft: Draft, place: Place, kind: Literal["company", "individual_business"], representative: str, first: date
) -> EnterpriseResult:
    rng = draft.rng
    code = _credit_code(draft, "1" if kind == "company" else "2", place.county_code)
    for attempt in range(50):
        word = rng.choice(COMPANY_WORDS)
        if kind == "company":
            name = f"{place.county}{word}{rng.choice(COMPANY_TRADES)}有限公司"
        else:
            name = f"{place.county}{place.township}{word}{rng.choice(SHOP_TRADES)}"
        if attempt >= 40:
            name = name.replace(word, f"{word}{attempt}", 1)
        if name not in draft.enterprise_names:
            break
    draft.enterprise_names.add(name)
    closing = rng.random() < 0.2 and first < AS_OF - timedelta(days=400)
    established = between(rng, first, AS_OF - timedelta(days=400 if closing else 60))
    status: Literal["active", "deregistered", "revoked"] = "active"
    closed = None
    if closing:
        status = "deregistered" if rng.random() < 0.7 else "revoked"
        closed = between(rng, established + timedelta(days=90), AS_OF - timedelta(days=1))
    street = f"{rng.randint(1, 300)}号" if kind == "company" else f"{rng.randint(1, 60)}号商铺"
    return EnterpriseResult(
        credit_code=code,
        name=name,
        kind=kind,
        legal_representative=representative,
        status=status,
        established_on=established,
        closed_on=closed,
        address=f"{place.city}{place.county}{place.township}{place.village}{street}",
    )


def market_entities(draft: Draft, employers: int) -> None:
    """Businesses of about 8% of adults, registered in their county; companies employing people."""
    rng = draft.rng
    for person in draft.persons.values():
        if person.status != "valid" or not 20 <= person.age <= 65 or rng.random() >= 0.1:
            continue
        place = draft.places[person.household_no]
        for _ in range(1 if rng.random() < 0.85 else 2):
            kind: Literal["company", "individual_business"] = "individual_business" if rng.random() < 0.7 else "company"
            record = _entity(draft, place, kind, person.name, add_years(person.birth_date, 20))
            draft.enterprises[record.credit_code] = Enterprise(record, person.id_number)
            person.business_codes.append(record.credit_code)
    towns = [p for p in ningxia_places() if p.urban]
    for _ in range(employers):
        place = rng.choice(towns)
        record = _entity(draft, place, "company", draft.full_name(rng.choice(SEXES)), date(1998, 1, 1))
        if record.status == "revoked" or (record.status != "active" and rng.random() < 0.5):
            record = _reopened(record)
        draft.enterprises[record.credit_code] = Enterprise(record)


def _reopened(record: EnterpriseResult) -> EnterpriseResult:
    """Employers are mostly active: most closed draws are turned back into active ones."""
    return EnterpriseResult(
        credit_code=record.credit_code,
        name=record.name,
        kind=record.kind,
        legal_representative=record.legal_representative,
        status="active",
        established_on=record.established_on,
        address=record.address,
    )


# ---- disabled persons, veterans ----------------------------------------------------------------


def certificates(draft: Draft) -> None:
    """残疾人证 for about 3% of living people aged 3 or more; about 15% of them expired."""
    rng = draft.rng
    for person in draft.persons.values():
        if not person.alive or person.age < 3 or rng.random() >= 0.032:
            continue
        index = rng.randrange(len(DISABILITY_CATEGORIES))
        grade = rng.choices((1, 2, 3, 4), (15, 25, 30, 30))[0]
        first = person.birth_date + timedelta(days=365)
        if rng.random() < 0.18 and person.age >= 15:
            valid_from = between(rng, max(first, AS_OF - timedelta(days=5400)), AS_OF - timedelta(days=3700))
        else:
            valid_from = between(rng, max(first, AS_OF - timedelta(days=2000)), AS_OF - timedelta(days=30))
        person.certificate = CertificateResult(
            certificate_no=f"{person.id_number}{index + 1}{grade}",
            category=DISABILITY_CATEGORIES[index],
            grade=grade,
            valid_from=valid_from,
            valid_until=add_years(valid_from, 10) - timedelta(days=1),
        )


def veterans(draft: Draft) -> None:
    """About 2% of living adult men are registered veterans."""
    rng = draft.rng
    for person in draft.persons.values():
        if person.sex != "male" or not person.alive or person.age < 22 or rng.random() >= 0.024:
            continue
        kind: Literal["soldier", "officer"] = "soldier"
        if person.age >= 40 and rng.random() < 0.15:
            kind, years = "officer", rng.randint(35, min(50, person.age - 1))
        else:
            years = rng.randint(20, min(24, person.age - 1))
        discharged = add_years(person.birth_date, years) + timedelta(days=rng.randint(0, 200))
        person.veteran = VeteranResult(discharged_on=min(discharged, AS_OF - timedelta(days=30)), kind=kind)


# ---- hrss core system 人社 ------------------------------------------------------------------------


def _contributions(
    person: Person,
    schemes: list[Literal["employee_pension", "resident_pension", "unemployment", "work_injury", "medical"]],
    since: date,
    last: date,
    employer: Enterprise | None = None,
) -> None:
    person.contributions = ContributionsResult(
        schemes=schemes,
        months_paid=months_between(since, last),
        last_paid_month=last.strftime("%Y-%m"),
        employer_name=employer.record.name if employer else None,
        employer_credit_code=employer.credit_code if employer else None,
    )


def _difficulty_category(draft: Draft, person: Person, unemployed_since: date) -> str:
    """The category of 就业困难人员 the person's other records support."""
    if person.active_assistance("dibao"):
        return "低保家庭成员"
    if person.certificate is not None:
        return "残疾人"
    if person.age >= (50 if person.sex == "male" else 40):
        return "大龄失业人员"
    if AS_OF - unemployed_since > timedelta(days=365):
        return "连续失业一年以上人员"
    return draft.rng.choice(("零就业家庭成员", "脱贫人口"))


def _unemployed(draft: Draft, person: Person) -> bool:
    """An active unemployment registration; ``True`` if also recognised as having employment difficulty
    (then employed flexibly, contributing, with a working card — the card is forced by ``cards``)."""
    rng = draft.rng
    adult = add_years(person.birth_date, 18)
    since = between(rng, max(adult, AS_OF - timedelta(days=700)), AS_OF - timedelta(days=20))
    person.registrations.append(Registration(kind="unemployment", since=since))
    if rng.random() < 0.3:
        recognised = between(rng, since, AS_OF - timedelta(days=10))
        category = _difficulty_category(draft, person, since)
        person.registrations.append(Registration(kind="employment_difficulty", since=recognised, detail=category))
        person.registrations.append(Registration(kind="employment", since=recognised, detail=FLEXIBLE))
        last = AS_OF - timedelta(days=1)
        _contributions(person, ["employee_pension", "medical"], between(rng, adult, recognised), last)
        return True
    if rng.random() < 0.6:
        _contributions(person, EMPLOYEE_SCHEMES, between(rng, adult, since), since - timedelta(days=1))
    return False


def work(draft: Draft) -> set[str]:
    """Contributions and registrations; returns the people recognised as having employment difficulty."""
    rng = draft.rng
    pool = [e for e in draft.enterprises.values() if e.active and e.record.kind == "company"]
    difficulty: set[str] = set()
    last = AS_OF - timedelta(days=1)
    for person in draft.persons.values():
        adult = add_years(person.birth_date, 18)
        if person.status != "valid":
            if working_age(person) and rng.random() < 0.7:
                stop = (person.date_of_death or person.cancelled_on or AS_OF) - timedelta(days=1)
                _contributions(person, ["resident_pension", "medical"], between(rng, adult, stop), stop)
            continue
        if person.age >= 60:
            if rng.random() < 0.7:
                start = add_years(person.birth_date, 45)
                _contributions(person, ["resident_pension", "medical"], start, add_years(person.birth_date, 60))
            continue
        if not working_age(person):
            continue
        owns = any(draft.enterprises[c].active for c in person.business_codes)
        roll = rng.random()
        if owns:
            since = between(rng, adult, last)
            person.registrations.append(Registration(kind="employment", since=since, detail=SELF_EMPLOYED))
            _contributions(person, ["employee_pension", "medical"], since, last)
        elif roll < 0.05:
            if _unemployed(draft, person):
                difficulty.add(person.id_number)
        elif roll < 0.45 and pool:
            employer = rng.choice(pool)
            since = between(rng, max(adult, employer.record.established_on), last)
            if rng.random() < 0.05 and since - adult > timedelta(days=400):
                before = between(rng, adult, since - timedelta(days=200))
                ended = Registration(kind="unemployment", since=before, until=since - timedelta(days=1))
                person.registrations.append(ended)
            person.registrations.append(Registration(kind="employment", since=since, detail=employer.record.name))
            _contributions(person, EMPLOYEE_SCHEMES, since, last, employer)
        elif roll < 0.6:
            since = between(rng, adult, last)
            person.registrations.append(Registration(kind="employment", since=since, detail=FLEXIBLE))
            _contributions(person, ["employee_pension", "medical"], since, last)
        elif roll < 0.9:
            _contributions(person, ["resident_pension", "medical"], between(rng, adult, last), last)
    return difficulty


def cards(draft: Draft, difficulty: set[str]) -> None:
    """社会保障卡 for about 95% of people; a few lost or suspended; cancelled for the dead."""
    rng = draft.rng
    for person in draft.persons.values():
        forced = person.id_number in difficulty
        if not forced and rng.random() >= 0.95:
            continue
        end = person.date_of_death or person.cancelled_on or AS_OF
        issued = between(rng, max(person.birth_date + timedelta(days=30), AS_OF - timedelta(days=4000)), end)
        bank, prefix = rng.choice(BANKS)
        roll = rng.random()
        status: Literal["normal", "lost", "suspended", "cancelled"] = "normal"
        if person.status != "valid":
            status = "cancelled"
        elif not forced and roll >= 0.96:
            status = "lost" if roll < 0.985 else "suspended"
        active = status == "normal" and (forced or rng.random() < (0.95 if person.age >= 16 else 0.3))
        person.card = CardResult(
            card_status=status,
            issued_on=issued,
            bank=bank,
            account_masked=f"{prefix} **** **** {rng.randrange(10000):04d}",
            financial_account_active=active,
        )
