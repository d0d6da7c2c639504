"""公安: identity, household, kinship, death registration and the ID photo."""

from __future__ import annotations

from fuquan.integrations.materials.asking import Asking, iso
from fuquan.integrations.partners.public_security import PublicSecurity
from fuquan.integrations.shared_data import (
    SharedDataAnswer,
)

# ---- 公安 ---------------------------------------------------------------------------------------


async def identity(asking: Asking) -> SharedDataAnswer:
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


async def household(asking: Asking) -> SharedDataAnswer:
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


async def death(asking: Asking) -> SharedDataAnswer:
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
        date_of_death=iso(result.date_of_death),
    )


async def photo(asking: Asking) -> SharedDataAnswer:
    fetched = await PublicSecurity(asking.client).photo(asking.request.id_number, asking.ctx)
    if fetched.value is None:
        return asking.answer("not_found", "公安无该申请人的制证照片，请现场采集或上传照片", fetched)
    return asking.answer(
        "satisfied",
        f"已调取公安制证照片（{fetched.value.taken_on} 采集）",
        fetched,
        taken_on=iso(fetched.value.taken_on),
    )
