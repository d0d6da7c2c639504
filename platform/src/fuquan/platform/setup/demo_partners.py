"""Demo partner applications (development only): 大武口区民政局's 低保核对系统 granted what a 低保 check needs for its
county's residents, and the province's 电子监察 system granted the case feed. Their keys are printed by
``fuquan demo`` so a developer can sign a call at once (README, "Calling the data-sharing API")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.share import services as share
from fuquan.tenants.services import tenant_scope

PILOT_AGREEMENT = "石嘴山市大武口区民政局—人社局数据共享协议（2026）第 1 号"


@dataclass(frozen=True, slots=True)
class DemoPartner:
    code: str
    department: str
    key_id: str
    secret: str
    grants: str


async def add_demo_partners(session: AsyncSession, keys: KeyRing, tenant_code: str) -> list[DemoPartner]:
    scope = await tenant_scope(session, tenant_code)
    start = date(2026, 1, 1)
    civil, civil_key = await share.register(session, keys, scope, share.AppDraft(
        "dwk-civil-affairs", "低保核对系统", "大武口区民政局", "社会救助股 0952-2012345"))  # fmt: skip
    for dataset, fields in (
        ("employment/unemployment_registration", ("registered", "since", "unit")),
        ("employment/difficulty_recognition", ("recognised", "category", "valid_until")),
        ("insurance/resident_pension", ("enrolled", "receiving", "since")),
    ):
        await share.grant(session, scope, civil.code, share.GrantDraft(
            dataset, ("dibao_eligibility",), fields, PILOT_AGREEMENT, start, region="640202"))  # fmt: skip
    watch, watch_key = await share.register(session, keys, scope, share.AppDraft(
        "nx-supervision", "电子监察系统", "宁夏回族自治区政务服务管理局", "监察处 0951-5012345"))  # fmt: skip
    feed_fields = ("item_code", "item_name", "case_no", "event", "event_at", "status", "unit_code", "unit_name",
                   "accepted_on", "promised_days", "deadline", "result")  # fmt: skip
    await share.grant(session, scope, watch.code, share.GrantDraft(
        "cases/feed", ("supervision",), feed_fields, "《宁夏回族自治区政务服务电子监察办法》", start))  # fmt: skip
    return [
        DemoPartner(civil.code, civil.department, civil_key.key_id, civil_key.secret,
                    "失业登记、就业困难、城乡居民养老 核验（dibao_eligibility，大武口区）"),
        DemoPartner(watch.code, watch.department, watch_key.key_id, watch_key.secret, "办件流（supervision）"),
    ]  # fmt: skip
