"""Form bodies of the 共享应用管理 pages and the checks only a page needs.

A browser posts strings (an unticked box posts nothing, several ticked boxes a list). The pages read numbers, dates
and unit codes out of them here — a field that is not one is shown again with a message beside it (400) — and
leave every rule about applications and grants (codes, lengths, addresses, datasets, purposes, fields, basis) to
``share.services``, whose refusals (422) the pages show in the server's words.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final

import msgspec

from fuquan.platform.share.services import AppDraft, GrantDraft
from fuquan.platform.web.forms import whole_number
from fuquan.tenants.divisions import InvalidUnitCode, normalise_unit_code

MAX_KEY_DAYS: Final = 3650
MAX_OVERLAP_HOURS: Final = 90 * 24
DEFAULT_OVERLAP_HOURS: Final = 7 * 24
MAX_REASON: Final = 512
MAX_CLIENT_LINES: Final = 64
_ISO_DAY: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # 年-月-日 only


class AppForm(msgspec.Struct, kw_only=True):
    """登记共享应用 as posted: the calling addresses one per line; the key's validity in days (empty: no expiry)."""

    code: str = ""
    name: str = ""
    department: str = ""
    contact: str = ""
    allowed_clients: str = ""
    key_days: str = ""

    def cleaned(self) -> AppForm:
        return msgspec.structs.replace(
            self, code=self.code.strip(), name=self.name.strip(), department=self.department.strip(),
            contact=self.contact.strip(), allowed_clients="\n".join(client_lines(self.allowed_clients)),
            key_days=self.key_days.strip(),
        )  # fmt: skip


class RotateForm(msgspec.Struct, kw_only=True):
    """轮换密钥: how long the old keys keep working (hours), and the new key's validity in days (empty: no expiry)."""

    overlap_hours: str = str(DEFAULT_OVERLAP_HOURS)
    key_days: str = ""


class ReasonForm(msgspec.Struct, kw_only=True):
    """暂停应用 or 撤销授权: the reason is required and kept in the audit trail."""

    reason: str = ""


class GrantForm(msgspec.Struct, kw_only=True):
    """授予共享数据 as posted: the boxes ticked arrive as one string or a list of them."""

    dataset: str = ""
    purposes: str | list[str] = msgspec.field(default_factory=list)
    fields: str | list[str] = msgspec.field(default_factory=list)
    region: str = ""
    valid_from: str = ""
    valid_until: str = ""
    basis: str = ""

    @property
    def purpose_list(self) -> list[str]:
        return _listed(self.purposes)

    @property
    def field_list(self) -> list[str]:
        return _listed(self.fields)

    def cleaned(self) -> GrantForm:
        region = self.region.strip()
        return msgspec.structs.replace(
            self, dataset=self.dataset.strip(), purposes=self.purpose_list, fields=self.field_list,
            region=unit_field(region) or region, valid_from=self.valid_from.strip(),
            valid_until=self.valid_until.strip(), basis=self.basis.strip(),
        )  # fmt: skip


def _listed(value: str | list[str]) -> list[str]:
    values = [value] if isinstance(value, str) else value
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def client_lines(text: str) -> list[str]:
    """The addresses typed one per line (commas and spaces also part them), blanks dropped."""
    return [part for part in re.split(r"[\s,，;；]+", text) if part]


def unit_field(text: str) -> str | None:
    try:
        return normalise_unit_code(text)
    except InvalidUnitCode:
        return None


def day(text: str) -> date | None:
    if not _ISO_DAY.fullmatch(text):  # date.fromisoformat also takes 20261205 and 2026-W49-1
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def key_days_error(text: str) -> str | None:
    """What is wrong with a key's validity typed in days (empty: no expiry); None when nothing is."""
    if not text.strip():
        return None
    days = whole_number(text)
    if days is None or not 1 <= days <= MAX_KEY_DAYS:
        return f"密钥有效期应为 1–{MAX_KEY_DAYS} 天的整数；长期有效请留空"
    return None


def key_validity(text: str) -> timedelta | None:
    """A key's validity that passed ``key_days_error``: None for no expiry."""
    days = whole_number(text)
    return None if days is None else timedelta(days=days)


def app_errors(form: AppForm) -> dict[str, str]:
    """Field → what is wrong with it that only the page can tell (the rest is the service's to refuse)."""
    errors: dict[str, str] = {}
    days = key_days_error(form.key_days)
    if days is not None:
        errors["key_days"] = days
    if len(client_lines(form.allowed_clients)) > MAX_CLIENT_LINES:
        errors["allowed_clients"] = f"调用地址最多 {MAX_CLIENT_LINES} 行，请合并为网段"
    return errors


def app_draft(form: AppForm) -> AppDraft:
    return AppDraft(form.code, form.name, form.department, form.contact, tuple(client_lines(form.allowed_clients)))


def rotation_error(form: RotateForm) -> str | None:
    hours = whole_number(form.overlap_hours)
    if hours is None or hours > MAX_OVERLAP_HOURS:
        return f"新旧密钥并行时间应为 0–{MAX_OVERLAP_HOURS} 小时的整数（默认 {DEFAULT_OVERLAP_HOURS} 小时，即 7 天）"
    return key_days_error(form.key_days)


def rotation(form: RotateForm) -> tuple[timedelta, timedelta | None]:
    """(overlap, the new key's validity) of a form that passed ``rotation_error``."""
    return timedelta(hours=whole_number(form.overlap_hours) or 0), key_validity(form.key_days)


def reason_error(form: ReasonForm) -> str | None:
    if len(form.reason.strip()) > MAX_REASON:
        return f"原因最长 {MAX_REASON} 个字"
    return None


def grant_errors(form: GrantForm, datasets: set[str]) -> dict[str, str]:
    """Field → what is wrong with it that only the page can tell (a form already ``cleaned``)."""
    errors: dict[str, str] = {}
    if form.dataset not in datasets:
        errors["dataset"] = "请选择列表中的数据集"
    if form.region and unit_field(form.region) is None:
        errors["region"] = "地区应为区划代码（2、4、6、9、12 或 15 位数字）；不限地区请留空"
    if day(form.valid_from) is None:
        errors["valid_from"] = "请填写生效日期（年-月-日）"
    if form.valid_until and day(form.valid_until) is None:
        errors["valid_until"] = "截止日期格式不对（年-月-日）；长期有效请留空"
    return errors


def grant_draft(form: GrantForm) -> GrantDraft:
    """The service's draft from a form that passed ``grant_errors``."""
    start = day(form.valid_from)
    assert start is not None  # checked by grant_errors
    return GrantDraft(
        dataset=form.dataset, purposes=tuple(form.purpose_list), fields=tuple(form.field_list), basis=form.basis,
        valid_from=start, valid_until=day(form.valid_until) if form.valid_until else None, region=form.region or None,
    )  # fmt: skip
