"""申请表 (a case's form): checked against the item's declared fields, its personal values (个人信息) sealed.

A case keeps its form in three columns (``Case``): ``form`` holds the values of the fields that are not personal,
as they are (statistics and the desk read them); ``form_cipher`` one SM4-GCM ciphertext of the personal values,
bound to the tenant and the receipt number; ``form_masked`` their masked forms, which every read shows. Only
查看完整信息 (``applicants.reveal`` with a purpose, audited) opens the ciphertext.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.cases.models import Case, case_form_context
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.schemas import PERSONAL_TYPES, FormField
from fuquan.platform.core.db import own_session
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.keys.ciphers import TenantCipher
from fuquan.platform.core.personal import (
    mask_id_number,
    mask_phone,
    parse_resident_id,
    phone_number,
    readable_text,
)
from fuquan.platform.core.tenancy import NamedTenant

log = structlog.get_logger()

DEFAULT_LENGTH: Final = {"text": 64, "long_text": 500}
MAX_NUMBER: Final = 10**9
MAX_MONEY: Final = Decimal("10000000000")
_BANK_ACCOUNT: Final = re.compile(r"[0-9]{12,30}")
_WHOLE: Final = re.compile(r"[0-9]{1,10}")
_MONEY: Final = re.compile(r"[0-9]{1,11}(\.[0-9]{1,2})?")
RULE: Final = "form_invalid"
UNDECLARED_LABEL: Final = "（未声明项）"  # how a value kept from a free form of before 0012 is named


def fields_of(item: CatalogItem) -> list[FormField]:
    return msgspec.convert(item.fields or [], list[FormField])


def is_personal(field: FormField) -> bool:
    return field.personal or field.type in PERSONAL_TYPES


@dataclass(frozen=True, slots=True)
class CheckedForm:
    """A form that passed its item's fields: the plain values, and the personal ones still to be sealed."""

    plain: dict[str, Any]
    personal: dict[str, str]


def _refuse(field: FormField, why: str) -> ValidationFailed:
    return ValidationFailed(f"申请表“{field.label}”{why}", rule=RULE, where=f"form.{field.name}")


def _text(field: FormField, value: str) -> str:
    limit = field.max_length or DEFAULT_LENGTH.get(field.type, 64)
    if field.type == "long_text":  # line breaks kept; other invisible characters refused
        lines = [readable_text(line) for line in value.replace("\r\n", "\n").split("\n")]
        cleaned = "\n".join(lines).strip()
        shown = "".join(value.split())
        if "".join(cleaned.split()) != shown:
            raise _refuse(field, "含有控制字符或不可见字符，请删除后重新填写")
    else:
        cleaned = readable_text(value)
        if cleaned != " ".join(value.split()):
            raise _refuse(field, "含有控制字符或不可见字符，请删除后重新填写")
    if len(cleaned) > limit:
        raise _refuse(field, f"最多 {limit} 个字，当前 {len(cleaned)} 个字")
    return cleaned


def _value(field: FormField, value: Any) -> Any:
    """The value as stored (text trimmed, numbers as numbers, money as a 2-decimal string), or a 422."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _refuse(field, "应填写一个值（文字、数字或日期），不能是列表、对象或真假值")
    if field.type in ("number", "money"):
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "")
        if isinstance(value, float) and field.type == "number":
            text = str(int(value)) if value.is_integer() else text
        if field.type == "number":
            if not _WHOLE.fullmatch(text) or int(text) > MAX_NUMBER:
                raise _refuse(field, "应为不小于 0 的整数")
            return int(text)
        if not _MONEY.fullmatch(text) or Decimal(text) >= MAX_MONEY:
            raise _refuse(field, "应为金额（元），不小于 0，最多两位小数")
        return f"{Decimal(text):.2f}"
    if not isinstance(value, str):
        raise _refuse(field, "应填写文字")
    if field.type in ("text", "long_text"):
        return _text(field, value)
    text = value.strip()
    if field.type == "date":
        try:
            day = dt.date.fromisoformat(text) if len(text) == 10 else None  # YYYY-MM-DD only, as <input type=date>
        except ValueError:
            day = None
        if day is None:
            raise _refuse(field, "应为日期，格式如 2026-01-31")
        return day.isoformat()
    if field.type == "choice":
        if text not in field.options:
            raise _refuse(field, f"只能选择：{'、'.join(field.options)}")
        return text
    if field.type == "phone":
        try:
            return phone_number(text)
        except ValidationFailed:
            raise _refuse(field, "格式不正确：请填写手机号或固定电话（只含数字和连字符）") from None
    if field.type == "id_number":
        try:
            return parse_resident_id(text).number
        except ValidationFailed as error:
            raise _refuse(field, f"不正确：{error.detail}") from None
    account = "".join(text.split()).replace("-", "")
    if not _BANK_ACCOUNT.fullmatch(account):  # bank_account
        raise _refuse(field, "应为 12 到 30 位数字")
    return account


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def check_form(item: CatalogItem, form: Mapping[str, Any]) -> CheckedForm:
    """The form checked against the item's declared fields — unknown, missing, mistyped, too long or not an
    offered choice is a 422 ``form_invalid`` naming the field by its label — split into plain and personal."""
    fields = {field.name: field for field in fields_of(item)}
    unknown = [name for name in form if name not in fields]
    if unknown:
        shown = "、".join(readable_text(name)[:32] for name in sorted(unknown)[:5])
        offered = "、".join(f"{f.name}（{f.label}）" for f in fields.values()) or "无（本事项不填申请表）"
        raise ValidationFailed(
            f"申请表中有本事项未声明的项目：{shown}。可填写的项目：{offered}", rule=RULE, where="form"
        )
    plain: dict[str, Any] = {}
    personal: dict[str, str] = {}
    for name, field in fields.items():
        value = form.get(name)
        if not _blank(value):
            value = _value(field, value)
        if _blank(value):
            if field.required:
                raise _refuse(field, "为必填项，请填写")
            continue
        if is_personal(field):
            personal[name] = str(value)
        else:
            plain[name] = value
    return CheckedForm(plain, personal)


def mask_value(field: FormField | None, value: str) -> str:
    """脱敏: a phone or ID number as the applicant's are; a bank account keeps its first and last four digits;
    a text its first few characters (an address its province and city, never the house); anything else — a value
    under a key no field declares included, whose content no one knows — only stars."""
    kind = "unknown" if field is None else field.type
    if kind == "phone":
        return mask_phone(value)
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "bank_account":
        return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)
    if kind in ("text", "long_text"):
        keep = min(6, len(value) // 3)
        return value[:keep] + "*" * min(len(value) - keep, 12)
    return "******"


def seal(cipher: TenantCipher, tenant_code: str, receipt_no: str, personal: Mapping[str, str]) -> bytes | None:
    """The personal values as one ciphertext (None when there are none), bound to the tenant and the case."""
    if not personal:
        return None
    text = json.dumps(dict(personal), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return cipher.encrypt(text, context=case_form_context(tenant_code, receipt_no))


def opened(cipher: TenantCipher, tenant_code: str, case: Case) -> dict[str, str]:
    """The personal values in full (for 查看完整信息 only)."""
    if case.form_cipher is None:
        return {}
    found = json.loads(cipher.decrypt(case.form_cipher, context=case_form_context(tenant_code, case.receipt_no)))
    return {str(name): str(value) for name, value in found.items()}


def masked(item: CatalogItem | None, personal: Mapping[str, str]) -> dict[str, str]:
    fields = {} if item is None else {field.name: field for field in fields_of(item)}
    return {name: mask_value(fields.get(name), value) for name, value in personal.items()}


def form_read(item: CatalogItem | None, case: Case, revealed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What a read shows of the form: plain values as they are, personal ones masked (or ``revealed``), in the
    order the item declares its fields."""
    values: dict[str, Any] = {**(case.form or {}), **(case.form_masked or {}), **(revealed or {})}
    order = [] if item is None else [field.name for field in fields_of(item)]
    return {name: values[name] for name in [*order, *sorted(set(values) - set(order))] if name in values}


def form_labels(item: CatalogItem | None, form: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """(name, Chinese label, value) for display, in the item's order; a value kept from an old free form is
    labelled by its own key."""
    labels = {} if item is None else {field.name: field.label for field in fields_of(item)}
    return [(name, labels.get(name, f"{name}{UNDECLARED_LABEL}"), value) for name, value in form.items()]


# -- the upgrade: free forms written before migration 0012 ------------------------------------------------


async def seal_plain_forms(
    cipher: TenantCipher, session_maker: async_sessionmaker[AsyncSession], tenant: NamedTenant, batch: int = 200
) -> int:
    """Encrypt the values migration 0012 set aside (``form_plain``) from the free forms of one tenant's cases
    written before it — a value under an undeclared key counts as personal, since no one can say what a free
    form held. A row is rewritten only while it still holds them: processes starting at once seal it once."""
    sealed = 0
    while True:
        async with own_session(session_maker, writes=True) as session, session.begin():
            repository = CaseRepository(session)
            rows = await repository.unsealed_forms(tenant, batch)
            if not rows:
                break
            items = await repository.items_of_cases(tenant, rows)
            done = 0
            for row in rows:
                personal = {str(k): str(v) for k, v in (row.form_plain or {}).items() if not _blank(v)}
                sealed_value = seal(cipher, tenant.tenant_code, row.receipt_no, personal)
                done += await repository.seal_form(row.id, sealed_value, masked(items.get(row.id), personal))
        sealed += done
        if done == 0:  # another process took this batch
            break
    if sealed:
        log.info("case_forms_sealed", tenant=tenant.tenant_code, rows=sealed)
    return sealed
