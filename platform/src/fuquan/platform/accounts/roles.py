"""Roles (岗位) of DESIGN §6.2, the platform permissions each carries, and who may hold and give them.

What a role may do on a catalogue item (accept / decide) is post authority and lives in the
Casbin policy (fuquan.authority); this table covers the platform's own functions. The three
admin roles are separated (三员分立): none of them holds another's permissions, and no account
holds two of them (``check_separation``, enforced wherever roles are given).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from fuquan.platform.core.errors import RuleViolation

ROLE_NAMES: Final = {
    "grid_specialist": "网格人社专员",
    "village_agent": "村（社区）代办员",
    "window_clerk": "综合窗口受理人员",
    "approver": "审批人员",
    "supervisor": "电子监察人员",
    "unit_head": "单位负责人",
    "escalation_clerk": "办不成事反映窗口工作人员",
    "unit_admin": "单位管理员",
    "tenant_admin": "系统管理员",
    "security_admin": "安全保密管理员",
    "auditor": "安全审计员",
}

_FRONT_DESK = {"units.read", "catalog.read", "authority.read", "calendar.read", "cases.read"}
_CASEWORK = _FRONT_DESK | {"cases.create", "cases.handle", "applicants.reveal"}

PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "grid_specialist": frozenset(_CASEWORK),
    "village_agent": frozenset(_CASEWORK),
    "window_clerk": frozenset(_CASEWORK),
    "approver": frozenset(_FRONT_DESK | {"cases.handle", "applicants.reveal"}),
    # 电子监察人员: reads the subtree's figures and acts on them (督办单, 责任追究)
    "supervisor": frozenset(_FRONT_DESK | {"grants.read", "supervision.read", "supervision.act", "escalations.read"}),
    # 单位负责人: told of the unit's warnings; answers for the unit (督办 replies, 办不成事 on the spot)
    "unit_head": frozenset(
        _FRONT_DESK
        | {
            "supervision.read",
            "supervision.reply",
            "escalations.register",
            "escalations.read",
            "escalations.handle",
            "cases.extend",
            "cases.revoke",
        }
    ),
    # 办不成事反映窗口: registers what residents bring and follows it; the duty leader of the day owns each one
    "escalation_clerk": frozenset(_FRONT_DESK | {"escalations.register", "escalations.read"}),
    # 单位管理员 also manages its subtree's front-line staff (``ASSIGNABLE``), never an admin account
    "unit_admin": frozenset(
        _FRONT_DESK
        | {"grants.read", "grants.manage", "supervision.read", "staff.manage", "escalations.roster", "units.manage"}
    ),
    # 系统管理员 also registers the partner departments' applications of the data-sharing API (共享应用)
    "tenant_admin": frozenset(
        _FRONT_DESK
        | {
            "grants.read",
            "grants.manage",
            "catalog.manage",
            "calendar.manage",
            "supervision.read",
            "share.manage",
            "notifications.manage",
            "supervision.manage",
            "units.manage",
        }
    ),
    # 安全保密管理员 also keeps the organs' signing keys (电子证照): rotates them, never sees the private half
    "security_admin": frozenset({"units.read", "staff.manage", "seals.manage"}),
    "auditor": frozenset({"audit.read"}),
}

PERMISSION_NAMES: Final = {
    "units.read": "查看单位",
    "units.manage": "维护机关名称和服务点",
    "seals.manage": "管理机关签名密钥（电子证照）",
    "catalog.read": "查看事项目录",
    "catalog.manage": "维护事项目录",
    "authority.read": "查询赋权",
    "grants.read": "查看赋权记录",
    "grants.manage": "赋权与撤销",
    "staff.manage": "管理人员账号",
    "audit.read": "查看审计日志",
    "calendar.read": "查看工作日历",
    "cases.read": "查看办件",
    "supervision.read": "电子监察（时限预警、逾期、好差评）",
    "cases.create": "收件",
    "cases.handle": "办理办件",
    "cases.extend": "批准延长办理期限（行政许可法第四十二条）",
    "cases.revoke": "撤销准予决定并注销电子证照（行政许可法第六十九条）",
    "applicants.reveal": "查看申请人完整身份信息",
    "calendar.manage": "维护工作日历",
    "share.manage": "管理数据共享应用（密钥与授权）",
    "notifications.manage": "维护短信模板、查看短信发送记录",
    "escalations.register": "登记办不成事反映",
    "escalations.read": "查看办不成事反映",
    "escalations.handle": "办理办不成事反映（值班领导、责任单位负责人、中心和局领导）",
    "escalations.roster": "安排办不成事窗口值班领导",
    "supervision.manage": "电子监察设置（差评整改时限）",
    "supervision.act": "督办和责任追究",
    "supervision.reply": "答复督办单",
}


def permissions_of(roles: frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(PERMISSIONS.get(role, frozenset()) for role in roles))


# 三员分立 (GB/T 22239 三级: 系统管理员、安全管理员、审计管理员): the duty each admin role belongs to. The unit
# admin re-delegates grants, so it is a system duty too. An account's roles touch one duty at most, at any unit.
DUTIES: Final = {
    "tenant_admin": "system",
    "unit_admin": "system",
    "security_admin": "security",
    "auditor": "audit",
}
# every admin duty signs in with a second factor (TOTP) after the password (DESIGN §10; see accounts.factors)
FACTOR_ROLES: Final = frozenset(DUTIES)
FRONT_LINE_ROLES: Final = frozenset(ROLE_NAMES) - frozenset(DUTIES)  # 业务岗位: casework and supervision
# What each managing role may give (and take away, and whose accounts it may manage): the security admin any role
# in its subtree, the unit admin the front-line roles only.
ASSIGNABLE: Final[dict[str, frozenset[str]]] = {
    "security_admin": frozenset(ROLE_NAMES),
    "unit_admin": FRONT_LINE_ROLES,
}


def _ordered(roles: Iterable[str]) -> list[str]:
    order = list(ROLE_NAMES)
    return sorted(set(roles), key=lambda role: order.index(role) if role in order else len(order))


def separation_conflict(roles: Iterable[str]) -> str | None:
    """Why one account may not hold all of ``roles`` together (三员分立), in a clerk's words; None if it may.

    The auditor reads audit records and does nothing else; the system, security and audit duties are never held
    by one account."""
    held = _ordered(roles)
    if "auditor" in held and len(held) > 1:
        other = next(role for role in held if role != "auditor")
        return f"三员分立：“安全审计员”只查阅审计记录，同一账号不能再担任“{ROLE_NAMES.get(other, other)}”"
    by_duty: dict[str, str] = {}
    for role in held:
        if role in DUTIES:
            by_duty.setdefault(DUTIES[role], role)
    if len(by_duty) > 1:
        first, second = list(by_duty.values())[:2]
        return f"三员分立：同一账号不能同时担任“{ROLE_NAMES[first]}”和“{ROLE_NAMES[second]}”"
    return None


def check_separation(roles: Iterable[str]) -> None:
    """Refuse (422, rule ``separation_of_duties``) roles one account may not hold together."""
    conflict = separation_conflict(roles)
    if conflict is not None:
        raise RuleViolation(conflict, rule="separation_of_duties")


def assignable_by(roles: Iterable[str]) -> frozenset[str]:
    """The roles a person holding ``roles`` may give, take away and manage the accounts of."""
    return frozenset().union(*(ASSIGNABLE.get(role, frozenset()) for role in roles))
