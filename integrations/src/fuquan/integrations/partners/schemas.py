"""What each partner service takes and answers (the ``data`` of the envelope), shared by the
adapters (which decode it) and the simulators (which encode it).

Every service is ``POST`` with a JSON body. Dates are ISO dates. A person or enterprise the partner
has no record of answers ``code = "10"`` (not found), never an empty ``data``.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import msgspec

Partner = Literal["public_security", "civil_affairs", "market_regulation", "disabled_persons", "veterans", "hrss"]

PARTNERS: tuple[Partner, ...] = (
    "public_security",
    "civil_affairs",
    "market_regulation",
    "disabled_persons",
    "veterans",
    "hrss",
)

# service name -> path, per partner. Paths are what the signature covers.
SERVICES: dict[Partner, dict[str, str]] = {
    "public_security": {
        "identity": "/gateway/gaj/v1/identity/verify",  # 身份核验
        "household": "/gateway/gaj/v1/household/query",  # 户籍信息
        "death": "/gateway/gaj/v1/death/query",  # 死亡登记
        "photo": "/gateway/gaj/v1/photo/query",  # 制证照片
    },
    "civil_affairs": {
        "marriage": "/gateway/mzt/v1/marriage/query",  # 婚姻登记
        "assistance": "/gateway/mzt/v1/assistance/query",  # 低保、特困供养
        "cremation": "/gateway/mzt/v1/cremation/query",  # 火化信息
    },
    "market_regulation": {
        "enterprise": "/gateway/scjg/v1/enterprise/query",  # 企业登记信息（按统一社会信用代码）
        "businesses": "/gateway/scjg/v1/enterprise/by-person",  # 名下市场主体
    },
    "disabled_persons": {
        "certificate": "/gateway/cl/v1/certificate/query",  # 残疾人证
    },
    "veterans": {
        "status": "/gateway/tyjr/v1/status/query",  # 退役军人身份
    },
    "hrss": {
        "contributions": "/gateway/rst/v1/contributions/query",  # 社保参保缴费
        "card": "/gateway/rst/v1/card/query",  # 社会保障卡
        "registrations": "/gateway/rst/v1/registrations/query",  # 就业失业登记、就业困难人员认定
    },
}


# ---- requests --------------------------------------------------------------------------------


class PersonQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id_number: str


class IdentityQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id_number: str
    name: str


class EnterpriseQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    credit_code: str


# ---- public security 公安 ----------------------------------------------------------------------

PersonStatus = Literal["valid", "cancelled", "deceased"]  # 正常 / 注销 / 死亡


class IdentityResult(msgspec.Struct, frozen=True, kw_only=True):
    name_matches: bool
    status: PersonStatus


class HouseholdMember(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    id_number: str
    relation: str  # 与户主关系: 户主 配偶 子 女 父亲 母亲 孙子 孙女 兄弟 姐妹 其他
    status: PersonStatus


class HouseholdResult(msgspec.Struct, frozen=True, kw_only=True):
    household_no: str  # 户号
    address: str
    head_name: str
    head_id_number: str
    members: list[HouseholdMember]


class DeathResult(msgspec.Struct, frozen=True, kw_only=True):
    deceased: bool
    date_of_death: date | None = None
    registered_on: date | None = None  # 户籍注销日期


class PhotoResult(msgspec.Struct, frozen=True, kw_only=True):
    taken_on: date
    image_png_base64: str


# ---- civil affairs 民政 ------------------------------------------------------------------------

MarriageStatus = Literal["unmarried", "married", "divorced", "widowed"]
AssistanceKind = Literal["dibao", "tekun"]  # 最低生活保障 / 特困人员救助供养


class MarriageResult(msgspec.Struct, frozen=True, kw_only=True):
    status: MarriageStatus
    registered_on: date | None = None
    spouse_name: str | None = None


class AssistanceRecord(msgspec.Struct, frozen=True, kw_only=True):
    kind: AssistanceKind
    start_date: date
    end_date: date | None = None  # None: still receiving
    monthly_amount_yuan: int


class AssistanceResult(msgspec.Struct, frozen=True, kw_only=True):
    records: list[AssistanceRecord]


class CremationResult(msgspec.Struct, frozen=True, kw_only=True):
    cremated_on: date
    funeral_home: str


# ---- market regulation 市场监管 -----------------------------------------------------------------

EnterpriseStatus = Literal["active", "deregistered", "revoked"]  # 存续（在业） / 注销 / 吊销


class EnterpriseResult(msgspec.Struct, frozen=True, kw_only=True):
    credit_code: str
    name: str
    kind: Literal["company", "individual_business"]  # 企业 / 个体工商户
    legal_representative: str
    status: EnterpriseStatus
    established_on: date
    closed_on: date | None = None
    address: str


class BusinessesResult(msgspec.Struct, frozen=True, kw_only=True):
    businesses: list[EnterpriseResult]


# ---- disabled persons' federation 残联 ----------------------------------------------------------

DisabilityCategory = Literal["visual", "hearing", "speech", "physical", "intellectual", "mental", "multiple"]


class CertificateResult(msgspec.Struct, frozen=True, kw_only=True):
    certificate_no: str
    category: DisabilityCategory
    grade: int  # 1 (most severe) … 4
    valid_from: date
    valid_until: date


# ---- veterans affairs 退役军人事务 -------------------------------------------------------------


class VeteranResult(msgspec.Struct, frozen=True, kw_only=True):
    discharged_on: date
    kind: Literal["soldier", "officer"]  # 退役士兵 / 军队转业干部


# ---- hrss core system 人社业务系统 -------------------------------------------------------------


class ContributionsResult(msgspec.Struct, frozen=True, kw_only=True):
    schemes: list[Literal["employee_pension", "resident_pension", "unemployment", "work_injury", "medical"]]
    months_paid: int
    last_paid_month: str | None = None  # "YYYY-MM"
    employer_name: str | None = None
    employer_credit_code: str | None = None


CardStatus = Literal["normal", "lost", "suspended", "cancelled"]  # 正常 / 挂失 / 暂停 / 注销


class CardResult(msgspec.Struct, frozen=True, kw_only=True):
    card_status: CardStatus
    issued_on: date
    bank: str
    account_masked: str  # 6217 **** **** 1234
    financial_account_active: bool


class Registration(msgspec.Struct, frozen=True, kw_only=True):
    kind: Literal["employment", "unemployment", "employment_difficulty"]
    since: date
    until: date | None = None  # None: still in force
    detail: str = ""  # employer, or the recognised category


class RegistrationsResult(msgspec.Struct, frozen=True, kw_only=True):
    registrations: list[Registration]
