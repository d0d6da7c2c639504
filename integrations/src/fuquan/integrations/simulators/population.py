"""A deterministic synthetic population shared by every partner simulator (DESIGN §8).

SYNTHETIC DATA — generated, not real people. Names, resident ID numbers (valid GB 11643 numbers
over real Ningxia county codes), households, businesses and every other record are drawn from
``random.Random(seed)``; any resemblance to a real person or enterprise is a coincidence. Never log
them as if they were anonymous: they look exactly like real personal data.

The same person is consistent across departments: the household in public security, the marriage
record (both spouses, same date) and the assistance of the household in civil affairs, the
businesses in market regulation naming them as legal representative, the certificate, the
veteran status, and the contributions, card and registrations in the HRSS core system.

``build_population()`` (cached) gives the default population; ``examples()`` names people and
enterprises with known properties for tests and the demo; ``answer()`` computes what a partner's
service says about a query.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import msgspec

from fuquan.integrations.simulators import departments
from fuquan.integrations.simulators.answers import Answer, answer
from fuquan.integrations.simulators.generation import Draft, add_years
from fuquan.integrations.simulators.model import AS_OF, Enterprise, Household, Person

__all__ = [
    "AS_OF",
    "DEFAULT_HOUSEHOLDS",
    "DEFAULT_SEED",
    "EXAMPLE_NAMES",
    "Enterprise",
    "Household",
    "Person",
    "Population",
    "build_population",
    "generate_population",
]

DEFAULT_SEED = 2022
DEFAULT_HOUSEHOLDS = 3000

# What each example guarantees (people are distinct; every one has a household; "adult" means a valid,
# registered person aged 18-59 on AS_OF):
#   ordinary                     adult; normal card with an active financial account; contributions; no
#                                assistance, certificate, veteran status, business or unemployment;
#                                everyone in the household valid
#   deceased                     deceased, with a death registration and a cremation record; an adult of
#                                the household (relative_of_deceased) is alive
#   relative_of_deceased         valid, 18 or older, same household as ``deceased`` (spouse or child first)
#   deceased_not_cremated        deceased, death registered, no cremation record
#   cancelled                    户口注销 for another reason than death (status "cancelled")
#   dibao_active / dibao_ended   adult whose household receives 低保 / received it (every record ended)
#   tekun                        valid, 特困 support in force
#   business_owner               adult with at least one active business
#   business_owner_deregistered  adult whose every business is deregistered or revoked
#   disabled_valid               adult, certificate valid until at least AS_OF + 3 years
#   disabled_expired             adult, certificate expired before AS_OF
#   veteran                      adult man, registered veteran
#   unemployed                   adult, unemployment registration in force, normal card, no assistance
#   employment_difficulty        adult, recognised 就业困难人员 in force, unemployment registration in force,
#                                employment registration 灵活就业, contributions paid up to last month,
#                                normal card with an active financial account
#   no_card                      adult without a social security card; everyone in the household valid
#   minor                        valid, under 16, with a card
#   enterprise_active            credit code of an active employer company (someone contributes through it)
#   enterprise_deregistered      credit code of a deregistered employer company
EXAMPLE_NAMES = (
    "ordinary",
    "deceased",
    "relative_of_deceased",
    "deceased_not_cremated",
    "cancelled",
    "dibao_active",
    "dibao_ended",
    "tekun",
    "business_owner",
    "business_owner_deregistered",
    "disabled_valid",
    "disabled_expired",
    "veteran",
    "unemployed",
    "employment_difficulty",
    "no_card",
    "minor",
    "enterprise_active",
    "enterprise_deregistered",
)


class Population:
    """People, households and market entities, with the lookups the simulators need. Read-only."""

    def __init__(
        self,
        seed: int,
        persons: dict[str, Person],
        households: dict[str, Household],
        enterprises: dict[str, Enterprise],
    ) -> None:
        self.seed = seed
        self.persons: Mapping[str, Person] = persons
        self.households: Mapping[str, Household] = households
        self.enterprises: Mapping[str, Enterprise] = enterprises
        self._examples: dict[str, str] | None = None

    def __repr__(self) -> str:
        return f"Population(seed={self.seed}, {len(self.persons)} persons, {len(self.households)} households)"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Population):
            return NotImplemented
        return (self.persons, self.households, self.enterprises) == (
            other.persons,
            other.households,
            other.enterprises,
        )

    __hash__ = object.__hash__

    # ---- lookups -------------------------------------------------------------------------------

    def person(self, id_number: str) -> Person | None:
        return self.persons.get(id_number.strip().upper())

    def household_of(self, id_number: str) -> Household | None:
        person = self.person(id_number)
        return self.households.get(person.household_no) if person else None

    def members(self, household: Household) -> list[Person]:
        return [self.persons[i] for i in household.member_ids]

    def enterprise(self, credit_code: str) -> Enterprise | None:
        return self.enterprises.get(credit_code.strip().upper())

    def businesses_of(self, id_number: str) -> list[Enterprise]:
        person = self.person(id_number)
        return [self.enterprises[c] for c in person.business_codes] if person else []

    def answer(self, partner: str, service: str, body: Mapping[str, Any] | msgspec.Struct) -> Answer:
        """What ``partner``'s ``service`` answers for the request ``body`` (see ``answers``)."""
        return answer(self, partner, service, body)

    # ---- examples ------------------------------------------------------------------------------

    def examples(self) -> dict[str, str]:
        """Example ID numbers (or, for ``enterprise_*``, credit codes) by name; see ``EXAMPLE_NAMES``.

        Chosen deterministically (the first match in generation order, each person used once);
        ``LookupError`` if the population is too small to hold one of them.
        """
        if self._examples is None:
            self._examples = _choose_examples(self)
        return dict(self._examples)

    def example(self, name: str) -> Person:
        """The example person ``name`` (``KeyError`` for unknown names or enterprise examples)."""
        return self.persons[self.examples()[name]]


def generate_population(seed: int = DEFAULT_SEED, households: int = DEFAULT_HOUSEHOLDS) -> Population:
    """A fresh population (uncached): the same arguments always give an equal population."""
    draft = Draft(random.Random(seed))  # noqa: S311 - reproducible synthetic data, not a secret
    for index in range(households):
        draft.household(index)
    draft.deaths_and_cancellations()
    departments.assistance(draft)
    departments.market_entities(draft, employers=max(12, households // 50))
    departments.certificates(draft)
    departments.veterans(draft)
    difficulty = departments.work(draft)
    departments.cards(draft, difficulty)
    return Population(seed, draft.persons, draft.households, draft.enterprises)


@lru_cache(maxsize=4)
def build_population(seed: int = DEFAULT_SEED, households: int = DEFAULT_HOUSEHOLDS) -> Population:
    """The population for ``seed`` (cached: build once, share read-only)."""
    return generate_population(seed, households)


# ---- choosing the examples ---------------------------------------------------------------------


def _adult(p: Person) -> bool:
    return p.status == "valid" and 18 <= p.age < 60


def _card_ok(p: Person) -> bool:
    return p.card is not None and p.card.card_status == "normal" and p.card.financial_account_active


def _plain(p: Person) -> bool:
    """No benefits, certificates, businesses or unemployment: the person clerks see most."""
    return (
        not p.assistance
        and p.certificate is None
        and p.veteran is None
        and not p.business_codes
        and not any(r.kind != "employment" for r in p.registrations)
    )


def _choose_examples(population: Population) -> dict[str, str]:
    persons = list(population.persons.values())
    used: set[str] = set()
    chosen: dict[str, str] = {}

    def household_valid(p: Person) -> bool:
        return all(m.status == "valid" for m in population.members(population.households[p.household_no]))

    def businesses(p: Person) -> list[Enterprise]:
        return population.businesses_of(p.id_number)

    def pick(name: str, predicate: Callable[[Person], bool]) -> Person:
        for person in persons:
            if person.id_number not in used and predicate(person):
                used.add(person.id_number)
                chosen[name] = person.id_number
                return person
        raise LookupError(f"the synthetic population has no example {name!r}: build it with more households")

    pick(
        "ordinary",
        lambda p: _adult(p) and _card_ok(p) and _plain(p) and p.contributions is not None and household_valid(p),
    )

    def with_relative(p: Person) -> bool:
        household = population.households[p.household_no]
        return (
            p.status == "deceased"
            and p.cremation is not None
            and any(m.status == "valid" and m.age >= 18 for m in population.members(household))
        )

    deceased = pick("deceased", with_relative)
    members = population.members(population.households[deceased.household_no])
    relatives = [m for m in members if m.status == "valid" and m.age >= 18]
    relatives.sort(key=lambda m: (m.relation not in ("配偶", "子", "女", "户主"), members.index(m)))
    used.add(relatives[0].id_number)
    chosen["relative_of_deceased"] = relatives[0].id_number
    pick("deceased_not_cremated", lambda p: p.status == "deceased" and p.cremation is None)
    pick("cancelled", lambda p: p.status == "cancelled")
    pick("dibao_active", lambda p: _adult(p) and bool(p.active_assistance("dibao")))
    pick(
        "dibao_ended",
        lambda p: _adult(p) and any(r.kind == "dibao" for r in p.assistance) and not p.active_assistance(),
    )
    pick("tekun", lambda p: p.status == "valid" and bool(p.active_assistance("tekun")))
    pick("business_owner", lambda p: _adult(p) and any(e.active for e in businesses(p)))
    pick(
        "business_owner_deregistered",
        lambda p: _adult(p) and bool(p.business_codes) and not any(e.active for e in businesses(p)),
    )
    pick(
        "disabled_valid",
        lambda p: _adult(p) and p.certificate is not None and p.certificate.valid_until >= add_years(AS_OF, 3),
    )
    pick("disabled_expired", lambda p: _adult(p) and p.certificate is not None and p.certificate.valid_until < AS_OF)
    pick("veteran", lambda p: _adult(p) and p.veteran is not None)
    pick(
        "unemployed",
        lambda p: _adult(p) and bool(p.active_registrations("unemployment")) and _card_ok(p) and not p.assistance,
    )
    pick(
        "employment_difficulty",
        lambda p: (
            _adult(p)
            and bool(p.active_registrations("employment_difficulty"))
            and bool(p.active_registrations("unemployment"))
            and any(r.detail == departments.FLEXIBLE for r in p.active_registrations("employment"))
            and p.contributions is not None
            and p.contributions.last_paid_month == departments.LAST_MONTH
            and _card_ok(p)
        ),
    )
    pick("no_card", lambda p: _adult(p) and p.card is None and household_valid(p))
    pick("minor", lambda p: p.status == "valid" and p.age < 16 and p.card is not None)

    employers = [e for e in population.enterprises.values() if e.owner_id is None and e.record.kind == "company"]
    employing = {p.contributions.employer_credit_code for p in persons if p.contributions is not None}
    active = [e for e in employers if e.active and e.credit_code in employing]
    closed = [e for e in employers if e.record.status == "deregistered"]
    if not active or not closed:
        raise LookupError("the synthetic population has no example enterprise: build it with more households")
    chosen["enterprise_active"] = active[0].credit_code
    chosen["enterprise_deregistered"] = closed[0].credit_code
    assert set(chosen) == set(EXAMPLE_NAMES)
    return {name: chosen[name] for name in EXAMPLE_NAMES}
