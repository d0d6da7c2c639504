"""市场监管: an enterprise in business, and the businesses a person runs."""

from __future__ import annotations

from fuquan.integrations.materials.asking import ENTERPRISE_STATUS_NAMES, Asking
from fuquan.integrations.partners.market_regulation import MarketRegulation
from fuquan.integrations.partners.uscc import InvalidCreditCode
from fuquan.integrations.shared_data import (
    SharedDataAnswer,
)

# ---- 市场监管 -----------------------------------------------------------------------------------


async def enterprise(asking: Asking) -> SharedDataAnswer:
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


async def businesses(asking: Asking) -> SharedDataAnswer:
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
