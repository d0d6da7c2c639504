"""Generating the synthetic population: places, households, people, marriages, deaths.

SYNTHETIC DATA — every person is invented from ``random.Random(seed)``; any resemblance of a
generated name and ID number to a real person is a coincidence. The departments' other records are
added by ``departments``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from fuquan.integrations.partners.schemas import CremationResult, MarriageResult
from fuquan.integrations.simulators.model import AS_OF, SEXES, Enterprise, Household, Person, Sex
from fuquan.integrations.simulators.names import FEMALE_CHARS, MALE_CHARS, SURNAMES, village_short_name
from fuquan.platform.core.personal import id_check_char
from fuquan.tenants.divisions import load_province

NINGXIA = "64"


@dataclass(frozen=True, slots=True)
class Place:
    """A village or community with the names of the units above it."""

    village_code: str
    city: str
    county: str
    township: str
    village: str  # short form: 芦花村, 崇安社区

    @property
    def county_code(self) -> str:
        return self.village_code[:6]

    @property
    def city_code(self) -> str:
        return self.village_code[:4]

    @property
    def urban(self) -> bool:
        return self.village.endswith("社区")


@lru_cache(maxsize=1)
def ningxia_places() -> tuple[Place, ...]:
    """Every real village/community of Ningxia (2022 division codes), except placeholder units."""
    divisions = load_province(NINGXIA)
    names = {d.code: d.name for d in divisions}
    return tuple(
        Place(d.code, names[d.code[:4]], names[d.code[:6]], names[d.code[:9]], village_short_name(d.name))
        for d in divisions
        if d.level == 5 and "虚拟" not in d.name and "模拟" not in d.name
    )


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def between(rng: random.Random, first: date, last: date) -> date:
    """A day in ``[first, last]`` (``first`` when the range is empty)."""
    span = (last - first).days
    return first + timedelta(days=int(rng.random() * (span + 1))) if span > 0 else first


@dataclass(slots=True)
class Draft:
    """The population while it is being generated."""

    rng: random.Random
    persons: dict[str, Person] = field(default_factory=dict)
    households: dict[str, Household] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)  # household_no → place
    enterprises: dict[str, Enterprise] = field(default_factory=dict)
    enterprise_names: set[str] = field(default_factory=set)
    _surnames: list[str] = field(default_factory=list)
    _surname_weights: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._surnames = [s for s, _ in SURNAMES]
        self._surname_weights = [w for _, w in SURNAMES]

    # ---- names and numbers -------------------------------------------------------------------

    def surname(self) -> str:
        return self.rng.choices(self._surnames, self._surname_weights)[0]

    def given_name(self, sex: Sex) -> str:
        chars = MALE_CHARS if sex == "male" else FEMALE_CHARS
        return "".join(self.rng.choices(chars, k=2 if self.rng.random() < 0.6 else 1))

    def full_name(self, sex: Sex, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given_name(sex)

    def id_number(self, county_code: str, birth_date: date, sex: Sex) -> str:
        """A valid 18-character number (GB 11643): region, birth date, sequence with the sex's parity."""
        while True:
            sequence = int(self.rng.random() * 500) * 2 + (1 if sex == "male" else 0)  # odd: male
            first17 = f"{county_code}{birth_date:%Y%m%d}{sequence:03d}"
            number = first17 + id_check_char(first17)
            if number not in self.persons:
                return number

    def birth_for_age(self, age: int) -> date:
        """A birth date giving ``age`` full years on ``AS_OF``."""
        latest = add_years(AS_OF, -age)
        earliest = add_years(AS_OF, -age - 1) + timedelta(days=1)
        return between(self.rng, earliest, min(latest, AS_OF - timedelta(days=1)))

    # ---- households ---------------------------------------------------------------------------

    def person(self, household: Household, relation: str, sex: Sex, birth: date, surname: str | None) -> Person:
        number = self.id_number(household.county_code, birth, sex)
        person = Person(number, self.full_name(sex, surname), sex, birth, household.household_no, relation)
        self.persons[number] = person
        household.member_ids.append(number)
        return person

    def household(self, index: int) -> Household:
        rng = self.rng
        place = rng.choice(ningxia_places())
        if place.urban:
            room = f"{rng.randint(1, 18)}0{rng.randint(1, 4)}"
            address = f"{place.village}{rng.randint(1, 40)}号楼{rng.randint(1, 6)}单元{room}室"
        else:
            address = f"{place.village}{rng.randint(1, 12)}组{rng.randint(1, 180)}号"
        household = Household(
            household_no=f"{place.county_code}{index + 1:06d}",
            address=f"{place.city}{place.county}{place.township}{address}",
            county_code=place.county_code,
            village_code=place.village_code,
            head_id="",
        )
        self.households[household.household_no] = household
        self.places[household.household_no] = place
        templates: tuple[tuple[Callable[[Household], object], int], ...] = (
            (self._lone_elderly, 8),
            (self._single, 8),
            (self._couple, 15),
            (self._nuclear, 44),
            (self._with_parents, 15),
            (self._three_generations, 10),
        )
        make = rng.choices([t for t, _ in templates], [w for _, w in templates])[0]
        make(household)
        household.head_id = household.member_ids[0]
        return household

    def _lone_elderly(self, household: Household) -> None:
        rng = self.rng
        sex: Sex = rng.choice(SEXES)
        head = self.person(household, "户主", sex, self.birth_for_age(rng.randint(62, 92)), None)
        roll = rng.random()
        if roll < 0.75:  # the spouse died long ago, before the population's records
            on = between(rng, add_years(head.birth_date, 21), add_years(head.birth_date, 30))
            other: Sex = "female" if sex == "male" else "male"
            head.marriage = MarriageResult(status="widowed", registered_on=on, spouse_name=self.full_name(other))
        elif roll < 0.9:
            head.marriage = MarriageResult(status="divorced", registered_on=self._divorce_date(head))
        # else unmarried

    def _single(self, household: Household) -> None:
        rng = self.rng
        sex: Sex = rng.choice(SEXES)
        surname = self.surname()
        head = self.person(household, "户主", sex, self.birth_for_age(rng.randint(20, 55)), surname)
        if head.age >= 28 and rng.random() < 0.3:
            head.marriage = MarriageResult(status="divorced", registered_on=self._divorce_date(head))
        if rng.random() < 0.3:
            sibling_sex: Sex = rng.choice(SEXES)
            relation = "兄弟" if sibling_sex == "male" else "姐妹"
            age = max(18, head.age + rng.randint(-8, 8))
            self.person(household, relation, sibling_sex, self.birth_for_age(age), surname)

    def _couple(self, household: Household, head_age: int | None = None) -> tuple[Person, Person]:
        """户主 and 配偶, married to each other; the husband's surname is the family's."""
        rng = self.rng
        head_sex: Sex = "male" if rng.random() < 0.85 else "female"
        age = head_age if head_age is not None else rng.randint(24, 85)
        gap = rng.randint(-2, 6)  # husband older by
        husband_age, wife_age = (age, age - gap) if head_sex == "male" else (age + gap, age)
        husband_age, wife_age = max(husband_age, 24), max(wife_age, 22)
        surname = self.surname()
        if head_sex == "male":
            head = self.person(household, "户主", "male", self.birth_for_age(husband_age), surname)
            spouse = self.person(household, "配偶", "female", self.birth_for_age(wife_age), None)
        else:
            head = self.person(household, "户主", "female", self.birth_for_age(wife_age), None)
            spouse = self.person(household, "配偶", "male", self.birth_for_age(husband_age), surname)
        husband, wife = (head, spouse) if head_sex == "male" else (spouse, head)
        earliest = max(add_years(husband.birth_date, 22), add_years(wife.birth_date, 20))
        marry(husband, wife, between(rng, earliest, min(add_years(earliest, 8), AS_OF - timedelta(days=30))))
        return husband, wife

    def _children(self, household: Household, father: Person, mother: Person, count: int, generation: str) -> None:
        rng = self.rng
        births: list[date] = []
        for _ in range(count):
            birth = add_years(mother.birth_date, rng.randint(22, 38)) + timedelta(days=rng.randint(0, 364))
            if birth < AS_OF - timedelta(days=30) and all(abs((birth - b).days) > 300 for b in births):
                births.append(birth)
        surname = father.name[0] if rng.random() < 0.9 else mother.name[0]
        for birth in sorted(births):
            sex: Sex = rng.choice(SEXES)
            relation = {"子": {"male": "子", "female": "女"}, "孙": {"male": "孙子", "female": "孙女"}}[generation][sex]
            child = self.person(household, relation, sex, birth, surname)
            if child.age >= 28 and rng.random() < 0.25:
                child.marriage = MarriageResult(status="divorced", registered_on=self._divorce_date(child))

    def _nuclear(self, household: Household) -> None:
        husband, wife = self._couple(household, self.rng.randint(24, 62))
        self._children(household, husband, wife, self.rng.choices((1, 2, 3, 4), (35, 45, 15, 5))[0], "子")

    def _with_parents(self, household: Household) -> None:
        rng = self.rng
        husband, wife = self._couple(household, rng.randint(26, 50))
        head = self.persons[household.member_ids[0]]
        self._children(household, husband, wife, rng.choice((0, 1, 2)), "子")
        father_age = head.age + rng.randint(22, 34)
        mother_age = head.age + rng.randint(20, 30)
        present = rng.choices(("both", "father", "mother"), (50, 15, 35))[0]
        father = mother = None
        if present in ("both", "father"):
            father = self.person(household, "父亲", "male", self.birth_for_age(father_age), head.name[0])
        if present in ("both", "mother"):
            mother = self.person(household, "母亲", "female", self.birth_for_age(mother_age), None)
        if father and mother:
            earliest = max(add_years(father.birth_date, 22), add_years(mother.birth_date, 20))
            marry(father, mother, between(rng, earliest, min(add_years(earliest, 5), head.birth_date)))
        for parent in (father, mother):
            if parent and not (father and mother):
                on = between(rng, add_years(parent.birth_date, 21), head.birth_date)
                other: Sex = "female" if parent.sex == "male" else "male"
                parent.marriage = MarriageResult(status="widowed", registered_on=on, spouse_name=self.full_name(other))

    def _three_generations(self, household: Household) -> None:
        rng = self.rng
        husband, wife = self._couple(household, rng.randint(56, 80))
        surname = husband.name[0]
        son_birth = add_years(wife.birth_date, rng.randint(22, 32)) + timedelta(days=rng.randint(0, 364))
        son = self.person(household, "子", "male", son_birth, surname)
        son.marriage = MarriageResult(status="divorced", registered_on=self._divorce_date(son))
        for _ in range(rng.choice((1, 2))):
            birth = add_years(son_birth, rng.randint(23, 34)) + timedelta(days=rng.randint(0, 364))
            if birth < AS_OF - timedelta(days=30):
                sex: Sex = rng.choice(SEXES)
                self.person(household, "孙子" if sex == "male" else "孙女", sex, birth, surname)

    def _divorce_date(self, person: Person) -> date:
        last = AS_OF - timedelta(days=30)
        return between(self.rng, min(add_years(person.birth_date, 23), last), last)

    # ---- deaths and cancellations -------------------------------------------------------------

    def deaths_and_cancellations(self) -> None:
        rng = self.rng
        for person in self.persons.values():
            age = person.age
            risk = 0.006 if age < 45 else 0.03 if age < 60 else 0.09 if age < 75 else 0.24
            if rng.random() < risk:
                died = AS_OF - timedelta(days=rng.randint(35, 1100))
                if died <= person.birth_date + timedelta(days=30):
                    continue
                person.status = "deceased"
                person.date_of_death = died
                person.death_registered_on = died + timedelta(days=rng.randint(1, 30))
                if rng.random() < 0.85:
                    city = self.places[person.household_no].city
                    person.cremation = CremationResult(
                        cremated_on=died + timedelta(days=rng.randint(0, 4)), funeral_home=f"{city}殡仪馆"
                    )
            elif rng.random() < 0.005:
                person.status = "cancelled"
                person.cancelled_on = between(rng, add_years(person.birth_date, 1), AS_OF - timedelta(days=30))
        for person in self.persons.values():
            spouse = self.persons.get(person.spouse_id or "")
            if person.alive and spouse is not None and not spouse.alive:
                person.marriage = MarriageResult(
                    status="widowed", registered_on=person.marriage.registered_on, spouse_name=spouse.name
                )
            end = person.date_of_death or AS_OF
            person.photo_taken_on = between(
                rng, max(person.birth_date + timedelta(days=30), AS_OF - timedelta(days=3650)), end
            )


def marry(husband: Person, wife: Person, on: date) -> None:
    husband.spouse_id, wife.spouse_id = wife.id_number, husband.id_number
    husband.marriage = MarriageResult(status="married", registered_on=on, spouse_name=wife.name)
    wife.marriage = MarriageResult(status="married", registered_on=on, spouse_name=husband.name)


def working_age(person: Person) -> bool:
    """18 to 59 years old (on ``AS_OF``, or at death)."""
    return 18 <= person.age < 60
