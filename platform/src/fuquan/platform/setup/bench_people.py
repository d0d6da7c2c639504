"""Who the integration benchmark asks about: people of the synthetic population, cold and cached, and the
requests a case creation makes for them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from fuquan.integrations.shared_data import SharedDataRequest
from fuquan.integrations.simulators import Person, Population
from fuquan.platform.cases.services import partners
from fuquan.platform.cases.services.partners import Subjects
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.setup.benchkit import CLERK

TENANT = "64"  # Ningxia: the tenant the integration benchmark seeds and asks for


@dataclass(frozen=True)
class People:
    """Synthetic residents and enterprises fit for each item, in generation order."""

    adults: list[Person]  # valid, 18-59
    bereaved: list[tuple[Person, Person]]  # (a living adult relative, a deceased member of the household)
    owners: list[Person]  # adults with at least one active business
    enterprises: list[str]  # credit codes of active enterprises
    owner: Person  # the example business owner
    enterprise: str  # the example active employer

    @classmethod
    def of(cls, population: Population) -> People:
        persons = list(population.persons.values())
        adults = [p for p in persons if p.status == "valid" and 18 <= p.age < 60]
        bereaved = []
        for deceased in persons:
            if deceased.status != "deceased" or deceased.death_registered_on is None:
                continue
            household = population.households[deceased.household_no]
            relatives = [m for m in population.members(household) if m.status == "valid" and m.age >= 18]
            if relatives:
                bereaved.append((relatives[0], deceased))
        owners = [p for p in adults if any(e.active for e in population.businesses_of(p.id_number))]
        enterprises = [code for code, e in population.enterprises.items() if e.active]
        examples = population.examples()
        return cls(adults, bereaved, owners, enterprises, population.example("business_owner"),
                   examples["enterprise_active"])  # fmt: skip


def _subjects(applicant: Person, related: Person | None = None, credit_code: str | None = None) -> Subjects:
    return Subjects(
        id_number=applicant.id_number,
        name=applicant.name,
        person_index="",  # only looks up Fuquan's own records, of which a fresh database has none
        related_id_number=None if related is None else related.id_number,
        related_name=None if related is None else related.name,
        credit_code=credit_code,
    )


def cold_subjects(people: People, item: str, round_: int) -> Subjects:
    """A different applicant (and deceased relative, enterprise) every round."""

    def pick(seq: Sequence[Any]) -> Any:
        return seq[round_ % len(seq)]

    if item == "HRSS-14":
        relative, deceased = pick(people.bereaved)
        return _subjects(relative, deceased)
    if item == "HRSS-17":
        return _subjects(pick(people.adults), credit_code=pick(people.enterprises))
    if item == "HRSS-07":
        return _subjects(pick(people.owners))
    return _subjects(pick(people.adults))


def cached_subjects(people: People, item: str, round_: int) -> Subjects:
    """The same enterprise (HRSS-17) or business owner (HRSS-07) every round."""
    if item == "HRSS-17":
        return _subjects(people.adults[round_ % len(people.adults)], credit_code=people.enterprise)
    return _subjects(people.owner)


def shared_requests(item: CatalogItem, subjects: Subjects, purpose: str, today: date) -> list[SharedDataRequest]:
    """The requests ``cases.services.partners.ask_partners`` makes for every material of ``item`` at a case
    creation (no own records: a fresh database holds none), by the window clerk, under one request id."""
    indexes = range(1, len(item.materials) + 1)
    asked = partners.shared_requests(
        item, indexes, subjects, (), today, purpose, tenant_code=TENANT, acting_user=CLERK, request_id=uuid.uuid4().hex
    )
    return [request for _index, request in asked]
