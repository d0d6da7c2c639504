"""残联 and 退役军人: disability certificates and veteran status."""

from __future__ import annotations

from fuquan.integrations.materials.asking import Asking, iso
from fuquan.integrations.partners.disabled_persons import DisabledPersons
from fuquan.integrations.partners.veterans import Veterans
from fuquan.integrations.shared_data import (
    SharedDataAnswer,
)

# ---- 残联、退役军人 ------------------------------------------------------------------------------


async def disability(asking: Asking) -> SharedDataAnswer:
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
            valid_until=iso(result.valid_until),
        )
    return asking.answer(
        "satisfied",
        f"残疾人证有效（{result.grade} 级，至 {result.valid_until}）",
        fetched,
        category=result.category,
        grade=result.grade,
        valid_until=iso(result.valid_until),
    )


async def veteran(asking: Asking) -> SharedDataAnswer:
    fetched = await Veterans(asking.client).status(asking.request.id_number, asking.ctx)
    if fetched.value is None:
        return asking.answer("not_found", "退役军人事务部门无该申请人的退役信息", fetched)
    return asking.answer(
        "satisfied",
        f"退役军人身份已核验（{fetched.value.discharged_on} 退役）",
        fetched,
        kind=fetched.value.kind,
        discharged_on=iso(fetched.value.discharged_on),
    )
