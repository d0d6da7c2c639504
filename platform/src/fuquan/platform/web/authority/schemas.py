"""Form bodies of the 赋权管理 pages, and their checks in the clerk's words.

Every field arrives as text (a browser posts strings, an unchecked box posts nothing), so a form
with a missing or malformed field is re-rendered with a message next to that field (400) instead of
being refused by the framework; only a form that passes becomes the API's ``GrantCreate``.
"""

from __future__ import annotations

import re
from datetime import date

import msgspec

from fuquan.authority.schemas import GrantCreate
from fuquan.tenants.divisions import InvalidUnitCode, normalise_unit_code

ACTIONS = ("accept", "decide")
SCOPES = ("unit", "subtree")
BASES = ("devolved", "authorised", "entrusted", "statutory")
MAX_INSTRUMENT = 128
MIN_REASON, MAX_REASON = 2, 512


class GrantForm(msgspec.Struct, kw_only=True):
    """新增赋权 as posted (and as pre-filled from the query string)."""

    item: str = ""
    action: str = "accept"
    unit: str = ""
    scope: str = "unit"
    valid_from: str = ""
    valid_until: str = ""
    instrument: str = ""
    basis: str = "devolved"
    redelegable: str = ""  # "on" when the box is ticked

    def cleaned(self) -> GrantForm:
        return msgspec.structs.replace(
            self,
            item=self.item.strip(),
            unit=unit_field(self.unit) or self.unit.strip(),  # a code as kept; anything else as typed
            instrument=self.instrument.strip(),
            valid_from=self.valid_from.strip(),
            valid_until=self.valid_until.strip(),
        )


def unit_field(text: str) -> str | None:
    """The unit code typed into a field, as Fuquan keeps it (640202000000 is 640202); None when it is none."""
    try:
        return normalise_unit_code(text.strip())
    except InvalidUnitCode:
        return None


class RevokeForm(msgspec.Struct, kw_only=True):
    """撤销赋权: the reason is required and recorded on every revoked grant."""

    reason: str = ""


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # 年-月-日 only: what the API's date fields accept


def _day(text: str) -> date | None:
    if not _ISO_DAY.fullmatch(text):  # date.fromisoformat also takes 20261205 and 2026-W49-1
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def grant_errors(form: GrantForm, item_codes: set[str]) -> dict[str, str]:
    """Field → what is wrong with it (empty when the form can be sent to the service)."""
    errors: dict[str, str] = {}
    if form.item not in item_codes:
        errors["item"] = "请选择目录中的一个事项"
    if form.action not in ACTIONS:
        errors["action"] = "请选择“受理”或“办理（审批）”"
    if unit_field(form.unit) is None:
        errors["unit"] = "请填写赋权对象的区划代码（2、4、6、9、12 或 15 位数字）"
    if form.scope not in SCOPES:
        errors["scope"] = "请选择适用范围"
    if form.basis not in BASES:
        errors["basis"] = "请选择权力来源"
    start = _day(form.valid_from)
    if start is None:
        errors["valid_from"] = "请填写生效日期（年-月-日）"
    if form.valid_until and _day(form.valid_until) is None:
        errors["valid_until"] = "截止日期格式不对（年-月-日），长期有效请留空"
    if not form.instrument:
        errors["instrument"] = "请填写赋权依据的文件号"
    elif len(form.instrument) > MAX_INSTRUMENT:
        errors["instrument"] = f"文件号最长 {MAX_INSTRUMENT} 个字"
    return errors


def grant_create(form: GrantForm) -> GrantCreate:
    """The API's request from a form that passed ``grant_errors``."""
    return msgspec.convert(
        {
            "item": form.item,
            "action": form.action,
            "unit": form.unit,
            "scope": form.scope,
            "valid_from": form.valid_from,
            "valid_until": form.valid_until or None,
            "instrument": form.instrument,
            "basis": form.basis,
            "redelegable": form.redelegable == "on",
        },
        GrantCreate,
    )


def reason_error(form: RevokeForm) -> str | None:
    reason = form.reason.strip()
    if len(reason) < MIN_REASON:
        return f"请填写撤销理由（至少 {MIN_REASON} 个字），它会记录在每一条被撤销的赋权上"
    if len(reason) > MAX_REASON:
        return f"撤销理由最长 {MAX_REASON} 个字"
    return None
