"""Roles (岗位) of DESIGN §6.2 and the platform permissions each carries.

What a role may do on a catalogue item (accept / decide) is post authority and lives in the
Casbin policy (fuquan.authority); this table covers the platform's own functions. The three
admin roles are separated (三员分立): none of them holds another's permissions.
"""

from __future__ import annotations

from typing import Final

ROLE_NAMES: Final = {
    "grid_specialist": "网格人社专员",
    "village_agent": "村（社区）代办员",
    "window_clerk": "综合窗口受理人员",
    "approver": "审批人员",
    "supervisor": "电子监察人员",
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
    "supervisor": frozenset(_FRONT_DESK | {"grants.read", "supervision.read"}),
    "unit_admin": frozenset(_FRONT_DESK | {"grants.read", "grants.manage", "supervision.read"}),
    "tenant_admin": frozenset(
        _FRONT_DESK | {"grants.read", "grants.manage", "catalog.manage", "calendar.manage", "supervision.read"}
    ),
    "security_admin": frozenset({"units.read", "staff.manage"}),
    "auditor": frozenset({"audit.read"}),
}

PERMISSION_NAMES: Final = {
    "units.read": "查看单位",
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
    "applicants.reveal": "查看申请人完整身份信息",
    "calendar.manage": "维护工作日历",
}


def permissions_of(roles: frozenset[str]) -> frozenset[str]:
    return frozenset().union(*(PERMISSIONS.get(role, frozenset()) for role in roles))
