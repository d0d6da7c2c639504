"""Form bodies of the 人员管理 pages and their checks in the clerk's words.

A browser posts strings; a form with a missing or malformed field is shown again with a message beside that
field (400), and only a form that passes becomes the API's ``StaffCreate`` — so the pages and the API share one
set of rules (``staff.services``) for everything past the shape.
"""

from __future__ import annotations

import re

import msgspec

from fuquan.platform.accounts.roles import ROLE_NAMES
from fuquan.platform.core.errors import BadRequest
from fuquan.platform.staff.schemas import USERNAME_PATTERN, CoSigner, StaffCreate
from fuquan.tenants.divisions import InvalidUnitCode, normalise_unit_code

_USERNAME = re.compile(USERNAME_PATTERN)
MAX_DISPLAY_NAME = 64


class CoSignedForm(msgspec.Struct, kw_only=True):
    """双人复核 fields, filled in by the second security administrator at the same desk when the act needs them."""

    co_signer_username: str = ""
    co_signer_code: str = ""

    def co_signer(self) -> CoSigner | None:
        username, code = self.co_signer_username.strip(), self.co_signer_code.strip()
        if not username and not code:
            return None
        try:
            return msgspec.convert({"username": username, "code": code}, CoSigner)
        except msgspec.ValidationError:
            raise BadRequest("请填写复核人的用户名和 6 位动态验证码（或一个恢复码）", rule="co_signer") from None


class StaffForm(CoSignedForm, kw_only=True):
    """新增人员 as posted: one role at enrolment, more on the person's page."""

    username: str = ""
    display_name: str = ""
    unit: str = ""
    role: str = ""
    password: str = ""

    def cleaned(self) -> StaffForm:
        return msgspec.structs.replace(
            self, username=self.username.strip(), display_name=self.display_name.strip(), unit=self.unit.strip()
        )


class RoleForm(CoSignedForm, kw_only=True):
    role: str = ""


class PasswordForm(CoSignedForm, kw_only=True):
    password: str = ""


class FactorForm(CoSignedForm, kw_only=True):
    pass


def unit_code(text: str) -> str | None:
    try:
        return normalise_unit_code(text)
    except InvalidUnitCode:
        return None


def staff_errors(form: StaffForm) -> dict[str, str]:
    """Field → what is wrong with it (empty when the form can go to the service)."""
    errors: dict[str, str] = {}
    if not _USERNAME.fullmatch(form.username):
        errors["username"] = "用户名为 2–64 位字母、数字或 _ . @ -，以字母或数字开头"
    if not form.display_name or len(form.display_name) > MAX_DISPLAY_NAME:
        errors["display_name"] = f"请填写姓名（最长 {MAX_DISPLAY_NAME} 个字）"
    if unit_code(form.unit) is None:
        errors["unit"] = "请填写所在单位的区划代码（2、4、6、9、12 或 15 位数字）"
    if form.role not in ROLE_NAMES:
        errors["role"] = "请选择一个岗位"
    if not form.password or len(form.password) > 256:
        errors["password"] = "请填写初始密码（至少 10 位，不易猜到）"  # noqa: S105 - a message, not a secret
    return errors


def staff_create(form: StaffForm) -> StaffCreate:
    """The API's request from a form that passed ``staff_errors``."""
    return StaffCreate(
        username=form.username, display_name=form.display_name, unit=form.unit,
        roles=[form.role],  # type: ignore[list-item]  # checked against ROLE_NAMES
        password=form.password, co_signer=form.co_signer(),
    )  # fmt: skip
