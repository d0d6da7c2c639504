"""民政: 低保/特困 assistance, cremation records and marriage."""

from __future__ import annotations

from datetime import date

from fuquan.integrations.materials.asking import ASSISTANCE_NAMES, Asking, iso
from fuquan.integrations.partners.civil_affairs import CivilAffairs
from fuquan.integrations.shared_data import (
    SharedDataAnswer,
)

# ---- 民政 ---------------------------------------------------------------------------------------


async def assistance(asking: Asking) -> SharedDataAnswer:
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
            since=iso(record.start_date),
        )
    if records:
        last = max(records, key=lambda r: r.end_date or date.max)
        return asking.answer(
            "not_satisfied",
            f"民政记录显示{ASSISTANCE_NAMES[last.kind]}已于 {last.end_date} 停止",
            fetched,
            kind=last.kind,
            ended=iso(last.end_date),
        )
    return asking.answer("not_satisfied", "民政无该申请人的低保或特困供养记录", fetched, active=False)


async def cremation(asking: Asking) -> SharedDataAnswer:
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
            cremated_on=iso(fetched.value.cremated_on),
        )
    fetched = await CivilAffairs(asking.client).cremation(asking.request.id_number, asking.ctx)
    if fetched.value is not None:
        return asking.answer(
            "not_satisfied", "民政有该人员的火化记录，生存状态核验未通过，请核实", fetched, cremated=True
        )
    return asking.answer("satisfied", "生存状态核验通过：民政无火化记录", fetched, cremated=False)


async def marriage(asking: Asking) -> SharedDataAnswer:
    fetched = await CivilAffairs(asking.client).marriage(asking.request.id_number, asking.ctx)
    if fetched.value is None:
        return asking.answer("not_found", "民政无该申请人的婚姻登记信息", fetched)
    return asking.answer("satisfied", "民政婚姻登记信息已核验", fetched, status=fetched.value.status)
