"""What each partner service answers about the synthetic population — pure functions, no HTTP.

SYNTHETIC DATA — the answers describe generated people, not real ones.

``answer(population, partner, service, body)`` gives ``(code, msg, data)``: ``data`` is the
service's result Struct from ``partners.schemas`` turned into JSON-ready builtins. A person or
enterprise the department has no record of answers ``ResultCode.NOT_FOUND``, never empty data.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from base64 import b64encode
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from fuquan.integrations.gateway.protocol import ResultCode
from fuquan.integrations.partners.schemas import (
    SERVICES,
    AssistanceResult,
    BusinessesResult,
    DeathResult,
    EnterpriseQuery,
    HouseholdMember,
    HouseholdResult,
    IdentityQuery,
    IdentityResult,
    PersonQuery,
    PhotoResult,
    RegistrationsResult,
)
from fuquan.integrations.partners.uscc import InvalidCreditCode, normalise_credit_code

if TYPE_CHECKING:
    from fuquan.integrations.simulators.model import Person
    from fuquan.integrations.simulators.population import Population

__all__ = ["OK_MESSAGE", "Answer", "answer", "photo_png", "request_type"]

OK_MESSAGE = "查询成功"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")


class Answer(NamedTuple):
    """``(code, msg, data)`` of the response envelope."""

    code: ResultCode
    msg: str
    data: dict[str, Any] | None = None


def request_type(service: str) -> type[msgspec.Struct]:
    """The request Struct of a service."""
    types: dict[str, type[msgspec.Struct]] = {"identity": IdentityQuery, "enterprise": EnterpriseQuery}
    return types.get(service, PersonQuery)


def _ok(result: msgspec.Struct) -> Answer:
    return Answer(ResultCode.OK, OK_MESSAGE, msgspec.to_builtins(result))


# Not-found messages per partner (a person the department has no record of).
_UNKNOWN_PERSON = {
    "public_security": "查无此人户籍信息",
    "civil_affairs": "查无此人民政登记信息",
    "market_regulation": "查无此人身份信息",
    "disabled_persons": "查无此人残疾人证信息",
    "veterans": "查无此人退役军人信息",
    "hrss": "查无此人参保信息",
}


def answer(population: Population, partner: str, service: str, body: Mapping[str, Any] | msgspec.Struct) -> Answer:
    """The answer of ``partner``'s ``service`` to the request ``body`` (a dict or the request Struct)."""
    handler = _HANDLERS.get((partner, service))
    if handler is None:
        return Answer(ResultCode.BAD_REQUEST, "未知的服务")
    query_type = request_type(service)
    if isinstance(body, query_type):
        query: Any = body
    else:
        try:
            query = msgspec.convert(body, query_type)
        except msgspec.ValidationError as error:
            return Answer(ResultCode.BAD_REQUEST, f"请求参数不正确：{error}")
    if isinstance(query, EnterpriseQuery):
        try:
            credit_code = normalise_credit_code(query.credit_code)
        except InvalidCreditCode as error:
            return Answer(ResultCode.BAD_REQUEST, error.args[0])
        found = population.enterprise(credit_code)
        if found is None:
            return Answer(ResultCode.NOT_FOUND, "查无该市场主体登记信息")
        return _ok(found.record)
    id_number = query.id_number.strip().upper()
    if not _ID_RE.fullmatch(id_number):
        return Answer(ResultCode.BAD_REQUEST, "身份证号码格式不正确")
    person = population.person(id_number)
    if person is None:
        return Answer(ResultCode.NOT_FOUND, _UNKNOWN_PERSON[partner])
    return handler(population, person, query)


# ---- the services ------------------------------------------------------------------------------

Handler = Callable[["Population", "Person", Any], Answer]


def _identity(population: Population, person: Person, query: IdentityQuery) -> Answer:
    return _ok(IdentityResult(name_matches=query.name.strip() == person.name, status=person.status))


def _household(population: Population, person: Person, query: PersonQuery) -> Answer:
    household = population.households[person.household_no]
    head = population.persons[household.head_id]
    members = [
        HouseholdMember(name=m.name, id_number=m.id_number, relation=m.relation, status=m.status)
        for m in population.members(household)
    ]
    return _ok(
        HouseholdResult(
            household_no=household.household_no,
            address=household.address,
            head_name=head.name,
            head_id_number=head.id_number,
            members=members,
        )
    )


def _death(population: Population, person: Person, query: PersonQuery) -> Answer:
    return _ok(
        DeathResult(
            deceased=person.status == "deceased",
            date_of_death=person.date_of_death,
            registered_on=person.death_registered_on,
        )
    )


def _photo(population: Population, person: Person, query: PersonQuery) -> Answer:
    if person.photo_taken_on is None:
        return Answer(ResultCode.NOT_FOUND, "查无此人制证照片")
    image = b64encode(photo_png(person.id_number)).decode()
    return _ok(PhotoResult(taken_on=person.photo_taken_on, image_png_base64=image))


def _marriage(population: Population, person: Person, query: PersonQuery) -> Answer:
    return _ok(person.marriage)


def _assistance(population: Population, person: Person, query: PersonQuery) -> Answer:
    return _ok(AssistanceResult(records=list(person.assistance)))


def _cremation(population: Population, person: Person, query: PersonQuery) -> Answer:
    if person.cremation is None:
        return Answer(ResultCode.NOT_FOUND, "查无此人火化记录")
    return _ok(person.cremation)


def _businesses(population: Population, person: Person, query: PersonQuery) -> Answer:
    return _ok(BusinessesResult(businesses=[e.record for e in population.businesses_of(person.id_number)]))


def _certificate(population: Population, person: Person, query: PersonQuery) -> Answer:
    if person.certificate is None:
        return Answer(ResultCode.NOT_FOUND, "查无此人残疾人证信息")
    return _ok(person.certificate)


def _veteran(population: Population, person: Person, query: PersonQuery) -> Answer:
    if person.veteran is None:
        return Answer(ResultCode.NOT_FOUND, "查无此人退役军人信息")
    return _ok(person.veteran)


def _contributions(population: Population, person: Person, query: PersonQuery) -> Answer:
    if person.contributions is None:
        return Answer(ResultCode.NOT_FOUND, "查无此人参保缴费记录")
    return _ok(person.contributions)


def _card(population: Population, person: Person, query: PersonQuery) -> Answer:
    if person.card is None:
        return Answer(ResultCode.NOT_FOUND, "查无此人社会保障卡信息")
    return _ok(person.card)


def _registrations(population: Population, person: Person, query: PersonQuery) -> Answer:
    return _ok(RegistrationsResult(registrations=list(person.registrations)))


def _enterprise(population: Population, person: Person, query: Any) -> Answer:  # pragma: no cover
    raise AssertionError("enterprise queries are answered by credit code")


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("public_security", "identity"): _identity,
    ("public_security", "household"): _household,
    ("public_security", "death"): _death,
    ("public_security", "photo"): _photo,
    ("civil_affairs", "marriage"): _marriage,
    ("civil_affairs", "assistance"): _assistance,
    ("civil_affairs", "cremation"): _cremation,
    ("market_regulation", "enterprise"): _enterprise,
    ("market_regulation", "businesses"): _businesses,
    ("disabled_persons", "certificate"): _certificate,
    ("veterans", "status"): _veteran,
    ("hrss", "contributions"): _contributions,
    ("hrss", "card"): _card,
    ("hrss", "registrations"): _registrations,
}

assert set(_HANDLERS) == {(partner, service) for partner, services in SERVICES.items() for service in services}


# ---- the photo ---------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def photo_png(seed: str, width: int = 24, height: int = 32) -> bytes:
    """A tiny ID-photo-like PNG (background, head, shoulders), the same for the same ``seed``."""
    digest = hashlib.sha256(seed.encode()).digest()
    background = ((250, 250, 250), (67, 142, 219), (214, 40, 40))[digest[0] % 3]
    skin = (200 + digest[1] % 40, 160 + digest[2] % 40, 130 + digest[3] % 40)
    hair = (20 + digest[4] % 40, 15 + digest[5] % 30, 10 + digest[6] % 30)
    clothes = (digest[7] % 90, digest[8] % 90, 40 + digest[9] % 90)
    cx, cy, rx, ry = width / 2, height * 0.4, width * 0.24, height * 0.22
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type: none
        for x in range(width):
            inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
            if inside:
                pixel = hair if y < cy - ry * 0.45 else skin
            elif y > height * 0.72 and abs(x - cx) < width * (0.2 + (y - height * 0.72) / height):
                pixel = clothes
            else:
                pixel = background
            rows.extend(pixel)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(bytes(rows), 9))
        + _png_chunk(b"IEND", b"")
    )
