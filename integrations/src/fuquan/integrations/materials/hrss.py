"""人社: contribution records, the social security card's bank account, and Fuquan's own registrations."""

from __future__ import annotations

from fuquan.integrations.materials.asking import REGISTRATION_KIND, REGISTRATION_NAMES, Asking, iso
from fuquan.integrations.partners.hrss import HrssCore
from fuquan.integrations.shared_data import (
    SharedDataAnswer,
)

# ---- 人社 ---------------------------------------------------------------------------------------


async def contributions(asking: Asking) -> SharedDataAnswer:
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


async def card_account(asking: Asking) -> SharedDataAnswer:
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


async def registration(asking: Asking) -> SharedDataAnswer:
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
                since=iso(record.since),
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
                since=iso(registration.since),
            )
    return asking.answer("not_satisfied", f"未查到该申请人有效的{name}，请先办理或提供证明", fetched, found=False)
