"""Records of the synthetic population: people, households and market entities.

SYNTHETIC DATA — generated at random, not real people. The records of the other departments
(marriage, cremation, certificates, cards …) reuse the partners' result Structs, so what a simulator
answers is exactly what the population holds. ``repr`` masks names and ID numbers all the same:
such values look real and must not end up in logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Final, Literal

from fuquan.integrations.partners.schemas import (
    AssistanceRecord,
    CardResult,
    CertificateResult,
    ContributionsResult,
    CremationResult,
    EnterpriseResult,
    MarriageResult,
    PersonStatus,
    Registration,
    VeteranResult,
)
from fuquan.platform.core.personal import mask_id_number, mask_name

Sex = Literal["male", "female"]
SEXES: Final[tuple[Sex, Sex]] = ("male", "female")

# The population describes the world as of this day: every recorded event happened on or before it.
AS_OF: Final = date(2026, 1, 1)

UNMARRIED: Final = MarriageResult(status="unmarried")


def age_on(birth_date: date, day: date) -> int:
    """Full years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(slots=True, repr=False)
class Person:
    """One resident as all departments know them. Built by the generator; treat as read-only."""

    id_number: str
    name: str
    sex: Sex
    birth_date: date
    household_no: str
    relation: str  # 与户主关系
    status: PersonStatus = "valid"
    date_of_death: date | None = None
    death_registered_on: date | None = None  # 户籍注销 because of death
    cancelled_on: date | None = None  # 户口注销 for other reasons (status "cancelled")
    photo_taken_on: date | None = None
    spouse_id: str | None = None
    marriage: MarriageResult = UNMARRIED
    cremation: CremationResult | None = None
    assistance: list[AssistanceRecord] = field(default_factory=list)
    certificate: CertificateResult | None = None
    veteran: VeteranResult | None = None
    contributions: ContributionsResult | None = None
    card: CardResult | None = None
    registrations: list[Registration] = field(default_factory=list)
    business_codes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Person({mask_name(self.name)}, {mask_id_number(self.id_number)}, {self.status})"

    @property
    def age(self) -> int:
        """Age on ``AS_OF`` (or at death)."""
        return age_on(self.birth_date, self.date_of_death or AS_OF)

    @property
    def alive(self) -> bool:
        return self.status != "deceased"

    def active_registrations(self, kind: str) -> list[Registration]:
        return [r for r in self.registrations if r.kind == kind and (r.until is None or r.until > AS_OF)]

    def active_assistance(self, kind: str | None = None) -> list[AssistanceRecord]:
        return [
            r
            for r in self.assistance
            if (kind is None or r.kind == kind) and (r.end_date is None or r.end_date > AS_OF)
        ]


@dataclass(slots=True, repr=False)
class Household:
    """户: a registered household living at one address in a Ningxia village or community."""

    household_no: str  # 户号
    address: str
    county_code: str
    village_code: str
    head_id: str
    member_ids: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Household({self.household_no}, {len(self.member_ids)} members)"


@dataclass(slots=True, repr=False)
class Enterprise:
    """A market entity (市场主体); ``owner_id`` is its legal representative when that is a resident."""

    record: EnterpriseResult
    owner_id: str | None = None

    def __repr__(self) -> str:
        return f"Enterprise({self.record.credit_code}, {self.record.kind}, {self.record.status})"

    @property
    def credit_code(self) -> str:
        return self.record.credit_code

    @property
    def active(self) -> bool:
        return self.record.status == "active"
