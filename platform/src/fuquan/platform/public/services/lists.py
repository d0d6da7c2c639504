"""权力清单 and 责任清单 (seed 004): what a unit holds today for 受理 and 审批 — item by item, the basis and the
instrument (文号) of the grant behind it, since when — and for each the duties of every step (受理、审查、决定、
送达、事后监管) with the situations in which its staff answer for them (追责情形, 行政许可法 Arts. 71–77, applied
alike to the 确认、给付 and public-service items); and the change history of the grants behind the list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority import services as authority
from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.repositories import GrantRepository
from fuquan.authority.services.issuer import BASIS_NAMES
from fuquan.platform.catalog.services import Catalog, element_text
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.public.schemas import DutyRead, GrantEventRead, LinkedUnit, PowerListRead, PowerRead
from fuquan.tenants.organs import organ_of
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

RIGHTS = {"accept": "受理", "decide": "审批"}
DUTIES = {
    "accept": [
        DutyRead("受理", "在办公场所和网上公示事项的依据、条件、材料、时限和收费；"
                         "对申请材料齐全、符合法定形式的予以受理，不齐全的一次性告知需补正的全部内容；"
                         "不予受理的书面说明理由（行政许可法第三十条、第三十二条）"),
    ],
    "decide": [
        DutyRead("审查", "对申请材料的实质内容进行核实，能通过共享数据核验的不再要求申请人提交；"
                         "需要实地核查的指派两名以上工作人员进行（第三十一条、第三十四条）"),
        DutyRead("决定", "在承诺时限内作出准予或者不予的书面决定；不予的说明理由，"
                         "并告知申请行政复议或者提起行政诉讼的权利（第三十七条、第三十八条、第四十二条）"),
        DutyRead("送达", "自作出决定之日起十日内向申请人颁发、送达决定文书或电子证照（第四十四条）"),
        DutyRead("事后监管", "对取得准予决定的人员持续核查，发现以欺骗等不正当手段取得的依法撤销，并注销电子证照"
                             "（第六十一条、第六十九条）"),
    ],
}  # fmt: skip
ACCOUNTABILITY = {
    "accept": [
        "对符合法定条件的申请不予受理的",
        "不在办公场所公示依法应当公示的材料的",
        "申请材料不齐全、不符合法定形式，不一次告知申请人必须补正的全部内容的",
        "未依法说明不受理申请理由的",
        "在受理过程中索取或者收受他人财物、谋取其他利益的",
    ],
    "decide": [
        "对不符合法定条件的申请人准予，或者超越法定职权作出准予决定的",
        "对符合法定条件的申请人不予准予，或者不在法定期限内作出决定的",
        "不依法说明不予准予的理由的",
        "违法收取费用，或者索取、收受他人财物、谋取其他利益的",
        "不依法履行监督职责或者监督不力，造成严重后果的",
    ],
}


async def power_list(
    session: AsyncSession, registry: AuthorityRegistry, scope: TenantScope, catalog: Catalog, code: str,
    now: datetime,
) -> PowerListRead:  # fmt: skip
    """The unit's lists as the grants stand at ``now``."""
    units = UnitRepository(session)
    unit = await units.get(scope, code)
    _units, allowed = await authority.matrix(session, scope, catalog, registry, unit=code, depth=0, at=now)
    cells = [(code, item, action) for item, action in sorted(allowed.get(code, set())) if item in catalog.items]
    behind = await authority.deciding_grants(session, registry, scope, cells, now)
    grants = await GrantRepository(session).by_ids(scope, {g for g in behind.values() if g and g > 0})
    history = await GrantRepository(session).behind(scope, code)
    names = await units.names(scope, sorted({g.grantor_unit_code for g in (*grants.values(), *history)}
                                           | {g.unit_code for g in history} | {scope.root_code}
                                           | ({unit.parent_code} if unit.parent_code else set())))  # fmt: skip
    tz = scope.timezone
    powers = []
    for _unit, item_code, action in cells:
        grant = grants.get(behind.get((code, item_code, action)) or 0)
        item = catalog.items[item_code]
        powers.append(PowerRead(
            item_code=item_code, item_name=item.name, item_type=element_text("item_type", item.item_type),
            right=RIGHTS[action], basis=BASIS_NAMES.get(grant.basis, grant.basis) if grant else "法定",
            instrument=grant.instrument if grant else (item.legal_basis or "法律法规规定"),
            since=local_date(grant.valid_from, tz) if grant else None,
            grantor=names.get(grant.grantor_unit_code, grant.grantor_unit_code) if grant else "",
            duties=DUTIES[action], accountability=ACCOUNTABILITY[action],
        ))  # fmt: skip
    events = []
    for grant in history:
        named = catalog.items.get(grant.item_code)
        shared = {
            "item_name": named.name if named else grant.item_code, "right": RIGHTS.get(grant.action, grant.action),
            "unit_name": names.get(grant.unit_code, grant.unit_code),
            "basis": BASIS_NAMES.get(grant.basis, grant.basis), "instrument": grant.instrument,
        }  # fmt: skip
        events.append(GrantEventRead(day=local_date(grant.valid_from, tz), change="赋予", **shared))
        if grant.revoked_at is not None:
            events.append(GrantEventRead(day=local_date(grant.revoked_at, tz), change="撤销", **shared))
    events.sort(key=lambda event: event.day, reverse=True)
    organ = organ_of(unit.code, unit.level, unit.name, unit.organ_name, unit.organ_kind)
    return PowerListRead(
        tenant=scope.tenant_code, unit_code=unit.code, unit_name=unit.name, organ_name=organ.name,
        administrative=organ.administrative, as_of=local_date(now, tz), edition=catalog.edition.number,
        powers=powers, history=events,
        parent=LinkedUnit(unit.parent_code, names.get(unit.parent_code, "")) if unit.parent_code else None,
        children=[LinkedUnit(child.code, child.name) for child in await units.children(scope, code)],
    )  # fmt: skip
