"""Materials elimination (免提交): which partner answer satisfies which material, and why not.

A material is ``satisfied`` only when the answer supports it — the identity matches and the
person is alive and registered; the household exists (or, for 亲属关系, lists the applicant);
an allowance is active today; an enterprise is in business; a certificate is valid today; a
registration is in force. Anything else leaves the material to upload, pledge or deferral with
a reason the clerk can read out. Only the facts a decision used are kept as evidence.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from fuquan.integrations.gateway.client import CallContext, GatewayClient
from fuquan.integrations.gateway.errors import PartnerError
from fuquan.integrations.partners.base import Fetched
from fuquan.integrations.partners.civil_affairs import CivilAffairs
from fuquan.integrations.partners.disabled_persons import DisabledPersons
from fuquan.integrations.partners.hrss import HrssCore
from fuquan.integrations.partners.market_regulation import MarketRegulation
from fuquan.integrations.partners.public_security import PublicSecurity
from fuquan.integrations.partners.uscc import InvalidCreditCode
from fuquan.integrations.partners.veterans import Veterans
from fuquan.integrations.shared_data import (
    AnswerStatus,
    Fact,
    SharedDataAnswer,
    SharedDataRequest,
    describe,
    unavailable_answer,
)
from fuquan.platform.core.timeutil import utcnow

T = TypeVar("T")
ClientFor = Callable[[str], GatewayClient | None]  # partner -> this tenant's client (None: not configured)
Rule = Callable[["Asking"], Awaitable[SharedDataAnswer]]

STATUS_NAMES = {"valid": "正常", "cancelled": "已注销户口", "deceased": "已死亡"}
ASSISTANCE_NAMES = {"dibao": "最低生活保障", "tekun": "特困人员救助供养"}
ENTERPRISE_STATUS_NAMES = {"active": "存续（在业）", "deregistered": "已注销", "revoked": "已吊销"}
OWN_RECORD_KINDS = ("employment_registration", "unemployment_registration", "employment_difficulty")
REGISTRATION_KIND = {
    "employment_registration": "employment",
    "unemployment_registration": "unemployment",
    "employment_difficulty": "employment_difficulty",
}
REGISTRATION_NAMES = {
    "employment_registration": "就业登记",
    "unemployment_registration": "失业登记",
    "employment_difficulty": "就业困难人员认定",
}


@dataclass(frozen=True, slots=True)
class Asking:
    """One request being answered: the question, the client for its source, the call context."""

    request: SharedDataRequest
    client: GatewayClient
    ctx: CallContext

    @property
    def today(self) -> date:
        return self.request.today or utcnow().date()

    @property
    def label(self) -> str:
        return describe(self.request.source, self.request.evidence)

    def answer(
        self, outcome: AnswerStatus, reason: str, fetched: Fetched[Any] | None = None, /, **facts: Fact
    ) -> SharedDataAnswer:
        reply = fetched.reply if fetched is not None else None
        return SharedDataAnswer(
            status=outcome,
            source=self.request.source,
            evidence=self.request.evidence,
            reason=reason,
            facts=dict(facts),
            service=None if fetched is None else fetched.service,
            fetched_at=None if reply is None else reply.fetched_at,
            request_hash=None if reply is None else reply.request_hash,
            response_hash=None if reply is None else reply.response_hash,
            source_request_id=None if reply is None else reply.request_id,
            attempts=0 if reply is None else reply.attempts,
            elapsed_ms=0 if reply is None else round(reply.elapsed_ms),
            cached=False if reply is None else reply.cached,
        )

    def related(self) -> tuple[str, str] | None:
        request = self.request
        if request.related_id_number is None:
            return None
        return request.related_id_number, request.related_name or ""


# ---- 公安 ---------------------------------------------------------------------------------------


async def _identity(asking: Asking) -> SharedDataAnswer:
    request = asking.request
    fetched = await PublicSecurity(asking.client).identity(request.id_number, request.name, asking.ctx)
    result = fetched.value
    if result is None:
        return asking.answer("not_found", "公安无此身份证号码的户籍登记，请核对号码或查验证件原件", fetched)
    if not result.name_matches:
        return asking.answer("not_satisfied", "姓名与身份证号码不一致，请核对后重新输入", fetched, name_matches=False)
    if result.status != "valid":
        reason = (
            "公安登记该身份证号码持有人已死亡，不能以其本人名义申请"
            if result.status == "deceased"
            else "公安登记该身份证号码已注销户口，请持有效证件办理"
        )
        return asking.answer("not_satisfied", reason, fetched, name_matches=True, status=result.status)
    return asking.answer(
        "satisfied", "公安身份核验通过：姓名与号码一致，户籍状态正常", fetched, name_matches=True, status="valid"
    )


async def _household(asking: Asking) -> SharedDataAnswer:
    request = asking.request
    if request.subject == "related_person":
        return await _kinship(asking)
    fetched = await PublicSecurity(asking.client).household(request.id_number, asking.ctx)
    result = fetched.value
    if result is None:
        return asking.answer("not_found", "公安无该申请人的户籍信息，请提供户口簿或居住证", fetched)
    relation = next((m.relation for m in result.members if m.id_number == request.id_number), None)
    return asking.answer(
        "satisfied",
        f"公安户籍信息已核验（户号 {result.household_no}）",
        fetched,
        household_no=result.household_no,
        relation=relation,
        members=len(result.members),
    )


async def _kinship(asking: Asking) -> SharedDataAnswer:
    """亲属关系: the applicant appears in the related person's household register."""
    related = asking.related()
    if related is None:
        return asking.answer("not_satisfied", "未填写关系人（逝者）的身份证号码，无法核验亲属关系")
    fetched = await PublicSecurity(asking.client).household(related[0], asking.ctx)
    result = fetched.value
    if result is None:
        return asking.answer("not_found", "公安无关系人的户籍信息，请提供亲属关系证明或签署承诺", fetched)
    relation = next((m.relation for m in result.members if m.id_number == asking.request.id_number), None)
    if relation is None:
        return asking.answer(
            "not_satisfied", "申请人与关系人不在同一户籍，请提供亲属关系证明或签署承诺", fetched, same_household=False
        )
    return asking.answer(
        "satisfied",
        f"公安户籍信息显示申请人与关系人同户（申请人为{relation}）",
        fetched,
        same_household=True,
        applicant_relation=relation,
        household_no=result.household_no,
    )


async def _death(asking: Asking) -> SharedDataAnswer:
    person = asking.related() if asking.request.subject == "related_person" else (asking.request.id_number, "")
    if person is None:
        return asking.answer("not_satisfied", "未填写关系人（逝者）的身份证号码，无法查询死亡登记")
    fetched = await PublicSecurity(asking.client).death(person[0], asking.ctx)
    result = fetched.value
    if result is None:
        return asking.answer("not_found", "公安无此人的户籍信息，请提供死亡证明", fetched)
    if not result.deceased:
        return asking.answer(
            "not_satisfied", "公安无此人的死亡登记，请提供死亡证明或户籍注销证明", fetched, deceased=False
        )
    return asking.answer(
        "satisfied",
        f"公安死亡登记已核验（死亡日期 {result.date_of_death}）",
        fetched,
        deceased=True,
        date_of_death=_iso(result.date_of_death),
    )


async def _photo(asking: Asking) -> SharedDataAnswer:
    fetched = await PublicSecurity(asking.client).photo(asking.request.id_number, asking.ctx)
    if fetched.value is None:
        return asking.answer("not_found", "公安无该申请人的制证照片，请现场采集或上传照片", fetched)
    return asking.answer(
        "satisfied",
        f"已调取公安制证照片（{fetched.value.taken_on} 采集）",
        fetched,
        taken_on=_iso(fetched.value.taken_on),
    )


# ---- 民政 ---------------------------------------------------------------------------------------


async def _assistance(asking: Asking) -> SharedDataAnswer:
    fetched = await CivilAffairs(asking.client).assistance(asking.request.id_number, asking.ctx)
    records = [] if fetched.value is None else fetched.value.records
    active = [r for r in records if r.start_date <= asking.today and (r.end_date is None or r.end_date >= asking.today)]
    if active:
        record = active[0]
        return asking.answer(
            "satisfied",
            f"民政核验：正在享受{ASSISTANCE_NAMES[record.kind]}（自 {record.start_date}）",
            fetched,
            kind=record.kind,
            since=_iso(record.start_date),
        )
    if records:
        last = max(records, key=lambda r: r.end_date or date.max)
        return asking.answer(
            "not_satisfied",
            f"民政记录显示{ASSISTANCE_NAMES[last.kind]}已于 {last.end_date} 停止",
            fetched,
            kind=last.kind,
            ended=_iso(last.end_date),
        )
    return asking.answer("not_satisfied", "民政无该申请人的低保或特困供养记录", fetched, active=False)


async def _cremation(asking: Asking) -> SharedDataAnswer:
    """For the related person (逝者): a cremation record must exist. For the applicant (生存状态核验):
    there must be none."""
    if asking.request.subject == "related_person":
        related = asking.related()
        if related is None:
            return asking.answer("not_satisfied", "未填写关系人（逝者）的身份证号码，无法查询火化信息")
        fetched = await CivilAffairs(asking.client).cremation(related[0], asking.ctx)
        if fetched.value is None:
            return asking.answer("not_satisfied", "民政无关系人的火化记录，请提供火化证明", fetched, cremated=False)
        return asking.answer(
            "satisfied",
            f"民政火化信息已核验（{fetched.value.cremated_on}）",
            fetched,
            cremated=True,
            cremated_on=_iso(fetched.value.cremated_on),
        )
    fetched = await CivilAffairs(asking.client).cremation(asking.request.id_number, asking.ctx)
    if fetched.value is not None:
        return asking.answer(
            "not_satisfied", "民政有该人员的火化记录，生存状态核验未通过，请核实", fetched, cremated=True
        )
    return asking.answer("satisfied", "生存状态核验通过：民政无火化记录", fetched, cremated=False)


async def _marriage(asking: Asking) -> SharedDataAnswer:
    fetched = await CivilAffairs(asking.client).marriage(asking.request.id_number, asking.ctx)
    if fetched.value is None:
        return asking.answer("not_found", "民政无该申请人的婚姻登记信息", fetched)
    return asking.answer("satisfied", "民政婚姻登记信息已核验", fetched, status=fetched.value.status)


# ---- 市场监管 -----------------------------------------------------------------------------------


async def _enterprise(asking: Asking) -> SharedDataAnswer:
    code = asking.request.credit_code
    if not code:
        return asking.answer("not_satisfied", "未填写单位的统一社会信用代码，请补充或上传营业执照")
    try:
        fetched = await MarketRegulation(asking.client).enterprise(code, asking.ctx)
    except InvalidCreditCode as error:
        return asking.answer("not_satisfied", str(error))
    result = fetched.value
    if result is None:
        return asking.answer("not_found", "市场监管部门无此统一社会信用代码的登记信息，请核对", fetched)
    if result.status != "active":
        return asking.answer(
            "not_satisfied",
            f"{result.name}{ENTERPRISE_STATUS_NAMES[result.status]}（{result.closed_on}），不能作为有效登记信息",
            fetched,
            credit_code=result.credit_code,
            status=result.status,
        )
    return asking.answer(
        "satisfied",
        f"市场监管登记信息已核验：{result.name}，存续（在业）",
        fetched,
        credit_code=result.credit_code,
        enterprise=result.name,
        status=result.status,
    )


async def _businesses(asking: Asking) -> SharedDataAnswer:
    fetched = await MarketRegulation(asking.client).businesses(asking.request.id_number, asking.ctx)
    businesses = [] if fetched.value is None else fetched.value.businesses
    active = [b for b in businesses if b.status == "active"]
    if active:
        first = active[0]
        return asking.answer(
            "satisfied",
            f"市场监管核验：名下有存续的市场主体 {first.name}",
            fetched,
            credit_code=first.credit_code,
            enterprise=first.name,
            status=first.status,
        )
    if businesses:
        return asking.answer(
            "not_satisfied", "名下市场主体均已注销或吊销，不能作为有效营业执照", fetched, closed=len(businesses)
        )
    return asking.answer("not_satisfied", "市场监管部门无登记在该申请人名下的市场主体", fetched, businesses=0)


# ---- 残联、退役军人 ------------------------------------------------------------------------------


async def _disability(asking: Asking) -> SharedDataAnswer:
    fetched = await DisabledPersons(asking.client).certificate(asking.request.id_number, asking.ctx)
    result = fetched.value
    if result is None:
        return asking.answer("not_found", "残联无该申请人的残疾人证信息", fetched)
    if not result.valid_from <= asking.today <= result.valid_until:
        return asking.answer(
            "not_satisfied",
            f"残疾人证已于 {result.valid_until} 过期，请先办理换证",
            fetched,
            grade=result.grade,
            valid_until=_iso(result.valid_until),
        )
    return asking.answer(
        "satisfied",
        f"残疾人证有效（{result.grade} 级，至 {result.valid_until}）",
        fetched,
        category=result.category,
        grade=result.grade,
        valid_until=_iso(result.valid_until),
    )


async def _veteran(asking: Asking) -> SharedDataAnswer:
    fetched = await Veterans(asking.client).status(asking.request.id_number, asking.ctx)
    if fetched.value is None:
        return asking.answer("not_found", "退役军人事务部门无该申请人的退役信息", fetched)
    return asking.answer(
        "satisfied",
        f"退役军人身份已核验（{fetched.value.discharged_on} 退役）",
        fetched,
        kind=fetched.value.kind,
        discharged_on=_iso(fetched.value.discharged_on),
    )


# ---- 人社 ---------------------------------------------------------------------------------------


async def _contributions(asking: Asking) -> SharedDataAnswer:
    fetched = await HrssCore(asking.client).contributions(asking.request.id_number, asking.ctx)
    result = fetched.value
    if result is None or result.months_paid == 0:
        return asking.answer("not_found", "人社业务系统无该申请人的参保缴费记录", fetched)
    return asking.answer(
        "satisfied",
        f"人社参保缴费记录已核验（累计 {result.months_paid} 个月）",
        fetched,
        months_paid=result.months_paid,
        last_paid_month=result.last_paid_month,
        employer=result.employer_name,
    )


async def _card_account(asking: Asking) -> SharedDataAnswer:
    fetched = await HrssCore(asking.client).card(asking.request.id_number, asking.ctx)
    card = fetched.value
    if card is None:
        return asking.answer("not_found", "该申请人尚未领取社会保障卡，请提供本人银行账户", fetched)
    if card.card_status != "normal" or not card.financial_account_active:
        state = {"lost": "已挂失", "suspended": "已暂停", "cancelled": "已注销"}.get(card.card_status, "金融账户未激活")
        return asking.answer(
            "not_satisfied", f"社会保障卡{state}，暂不能作为收款账户", fetched, card_status=card.card_status
        )
    return asking.answer(
        "satisfied",
        f"社会保障卡金融账户正常（{card.bank} {card.account_masked}）",
        fetched,
        bank=card.bank,
        account=card.account_masked,
    )


async def _registration(asking: Asking) -> SharedDataAnswer:
    """Fuquan's own decisions first (no call needed), then the core system's registrations."""
    kind = asking.request.evidence
    name = REGISTRATION_NAMES[kind]
    today = asking.today
    for record in asking.request.own_records:
        if record.kind == kind and record.since <= today and (record.until is None or record.until >= today):
            return asking.answer(
                "satisfied",
                f"本平台已办结{name}（办件 {record.receipt_no}，自 {record.since}）",
                origin="fuquan",
                receipt_no=record.receipt_no,
                since=_iso(record.since),
            )
    fetched = await HrssCore(asking.client).registrations(asking.request.id_number, asking.ctx)
    registrations = [] if fetched.value is None else fetched.value.registrations
    wanted = REGISTRATION_KIND[kind]
    for registration in registrations:
        if (
            registration.kind == wanted
            and registration.since <= today
            and (registration.until is None or registration.until >= today)
        ):
            return asking.answer(
                "satisfied",
                f"人社业务系统有有效的{name}（自 {registration.since}）",
                fetched,
                origin="hrss_core",
                since=_iso(registration.since),
            )
    return asking.answer("not_satisfied", f"未查到该申请人有效的{name}，请先办理或提供证明", fetched, found=False)


RULES: dict[tuple[str, str], Rule] = {
    ("public_security", "identity"): _identity,
    ("public_security", "household"): _household,
    ("public_security", "death_registration"): _death,
    ("public_security", "photo"): _photo,
    ("civil_affairs", "subsistence_allowance"): _assistance,
    ("civil_affairs", "cremation_record"): _cremation,
    ("civil_affairs", "marriage"): _marriage,
    ("market_regulation", "enterprise"): _enterprise,
    ("market_regulation", "business_by_person"): _businesses,
    ("disabled_persons", "disability_certificate"): _disability,
    ("veterans", "veteran_status"): _veteran,
    ("hrss", "contribution_record"): _contributions,
    ("hrss", "card_bank_account"): _card_account,
    **{("hrss", kind): _registration for kind in OWN_RECORD_KINDS},
}


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


class PartnerDataProvider:
    """``SharedDataProvider`` over one tenant's configured partner gateways."""

    def __init__(self, client_for: ClientFor) -> None:
        self.client_for = client_for

    async def lookup(self, request: SharedDataRequest) -> SharedDataAnswer:
        label = describe(request.source, request.evidence)
        rule = RULES.get((request.source, request.evidence))
        if rule is None:
            return SharedDataAnswer(
                status="not_configured",
                source=request.source,
                evidence=request.evidence,
                reason=f"平台尚不支持自动核验{label}，请上传材料",
            )
        client = self.client_for(request.source)
        if client is None:
            return SharedDataAnswer(
                status="not_configured",
                source=request.source,
                evidence=request.evidence,
                reason=f"本地区尚未接入{label}，请上传材料",
            )
        ctx = CallContext(
            purpose=request.purpose, user_id=request.acting_user, request_id=request.request_id or uuid.uuid4().hex
        )
        try:
            return await rule(Asking(request, client, ctx))
        except PartnerError as error:
            return unavailable_answer(request, f"{label}：{error.message}", error.kind)
