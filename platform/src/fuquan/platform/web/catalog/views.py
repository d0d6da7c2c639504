"""What the catalogue pages show, and the edit form read back into an item (事项维护).

The form is flat (it works without JavaScript): the scalar elements as inputs, 受理条件 and 办理流程 one per line,
收费 one per line as ``名称｜金额｜依据``, and the materials and the application form's fields as table rows —
every existing row plus two empty ones to add with; a row whose name is cleared is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import msgspec

from fuquan.platform.catalog.schemas import (
    POWER_SOURCE_NAMES,
    SUBJECT_NATURE_NAMES,
    FieldType,
    ItemRevision,
    ItemSpec,
)
from fuquan.platform.catalog.services import ELEMENT_NAMES, HANDLING_NAMES, ITEM_TYPE_NAMES, SOURCE_NAMES
from fuquan.platform.core.errors import ValidationFailed
from fuquan.tenants.divisions import LEVEL_NAMES

EXTRA_ROWS: Final = 2
FIELD_TYPES: Final[dict[str, str]] = {
    "text": "文字", "long_text": "长文字", "date": "日期", "number": "整数", "money": "金额（元）", "choice": "单选",
    "phone": "电话", "id_number": "证件号码", "bank_account": "银行账号",
}  # fmt: skip
SUBJECTS: Final = {"applicant": "申请人", "related_person": "关系人", "enterprise": "用人单位"}
CHOICES: Final = {
    "item_type": ITEM_TYPE_NAMES, "handling": HANDLING_NAMES, "subject_nature": SUBJECT_NATURE_NAMES,
    "power_source": POWER_SOURCE_NAMES, "levels": LEVEL_NAMES, "sources": SOURCE_NAMES, "subjects": SUBJECTS,
    "field_types": FIELD_TYPES,
}  # fmt: skip
_SEPARATORS = re.compile(r"[｜|]")
_OPTION_SEPARATORS = re.compile(r"[、,，]")
_ROW_FIELD_NAMES = {
    "name": "名称",
    "label": "显示名",
    "options": "选项",
    "max_length": "最大长度",
    "evidence": "核验内容",
}


@dataclass(frozen=True, slots=True)
class EditForm:
    """What the edit page shows: the item (as saved, or as typed when a save was refused) and the form's extras."""

    spec: dict[str, Any]
    material_rows: int
    field_rows: int
    effective_from: str
    base_edition: int
    note: str


def edit_form(spec: ItemSpec, base_edition: int, today: date) -> EditForm:
    values = msgspec.to_builtins(spec)
    return EditForm(values, len(spec.materials) + EXTRA_ROWS, len(spec.fields) + EXTRA_ROWS, today.isoformat(),
                    base_edition, "")  # fmt: skip


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _int(form: Mapping[str, Any], key: str, label: str, default: int | None = None) -> int | None:
    text = str(form.get(key, "")).strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValidationFailed(f"“{label}”请填写整数，您填的是“{text}”", rule="form_number")
    return int(text)


def _on(form: Mapping[str, Any], key: str) -> bool:
    return str(form.get(key, "")).strip() in ("on", "true", "1")


def _rows(form: Mapping[str, Any], key: str) -> int:
    count = _int(form, key, "行数", 0) or 0
    return min(count, 200)


def _materials(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    for row in range(_rows(form, "material_rows")):
        name = str(form.get(f"m{row}_name", "")).strip()
        if not name:
            continue
        material: dict[str, Any] = {
            "name": name,
            "required": _on(form, f"m{row}_required"),
            "pledge": _on(form, f"m{row}_pledge"),
            "deferrable": _on(form, f"m{row}_deferrable"),
        }
        source = str(form.get(f"m{row}_source", "")).strip()
        if source:
            evidence = str(form.get(f"m{row}_evidence", "")).strip()
            if not evidence:
                raise ValidationFailed(
                    f"材料“{name}”选了共享来源，请写明核验内容（如：户籍信息）", rule="form_material"
                )
            material["shared"] = {"source": source, "evidence": evidence,
                                  "subject": str(form.get(f"m{row}_subject", "applicant")) or "applicant"}  # fmt: skip
        found.append(material)
    return found


def _fields(form: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = []
    for row in range(_rows(form, "field_rows")):
        name = str(form.get(f"f{row}_name", "")).strip()
        if not name:
            continue
        label = str(form.get(f"f{row}_label", "")).strip() or name
        field: dict[str, Any] = {
            "name": name,
            "label": label,
            "type": str(form.get(f"f{row}_type", "text")),
            "required": _on(form, f"f{row}_required"),
            "personal": _on(form, f"f{row}_personal"),
        }
        max_length = _int(form, f"f{row}_max_length", f"{label}的最大长度")
        if max_length is not None:
            field["max_length"] = max_length
        options = [o.strip() for o in _OPTION_SEPARATORS.split(str(form.get(f"f{row}_options", ""))) if o.strip()]
        if options:
            field["options"] = options
        found.append(field)
    return found


def _fees(text: str) -> list[dict[str, str]]:
    fees = []
    for line in _lines(text):
        parts = [part.strip() for part in _SEPARATORS.split(line)]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise ValidationFailed(f"收费“{line}”请按“名称｜金额｜依据”填写（依据可省略）", rule="form_fee")
        fees.append({"name": parts[0], "amount": parts[1], "basis": parts[2] if len(parts) > 2 else ""})
    return fees


def read_form(form: Mapping[str, Any], base: ItemSpec) -> ItemRevision:
    """The edit form as a revision of ``base`` (what the form does not show — code, category, 英文名称, the record
    an issue makes — stays as it was). Refused in a clerk's words (422)."""
    values = msgspec.to_builtins(base)
    for key in ("name", "legal_basis", "result_name"):
        values[key] = str(form.get(key, "")).strip()
    for key in ("item_type", "handling", "subject_nature", "power_source"):
        values[key] = str(form.get(key, values[key]))
    for key in ("statutory_days", "promised_days", "accept_floor", "decide_floor"):
        values[key] = _int(form, key, ELEMENT_NAMES[key], 0)
    values["separation"], values["id_only"] = _on(form, "separation"), _on(form, "id_only")
    values["conditions"] = _lines(str(form.get("conditions", "")))
    values["flow"] = _lines(str(form.get("flow", "")))
    values["fees"] = _fees(str(form.get("fees", "")))
    values["materials"], values["fields"] = _materials(form), _fields(form)
    try:
        effective_from = date.fromisoformat(str(form.get("effective_from", "")).strip())
    except ValueError:
        raise ValidationFailed("请填写生效日期（年-月-日）", rule="effective_from") from None
    body = {
        "item": values,
        "effective_from": effective_from.isoformat(),
        "base_edition": _int(form, "base_edition", "版本号", 0),
        "note": str(form.get("note", "")).strip(),
    }
    try:
        return msgspec.convert(body, ItemRevision)
    except msgspec.ValidationError as error:
        raise ValidationFailed(_in_words(str(error)), rule="form_invalid") from None


def _in_words(message: str) -> str:
    """msgspec's message with the element named as the page names it."""
    where = re.search(r"at `\$\.([^`]+)`", message)
    if where is None:
        return f"表单内容不符合要求：{message}"
    path = where.group(1)
    if path.startswith("note"):
        return "请填写修改说明（至少 2 个字）"
    match = re.match(r"item\.(\w+)(?:\[(\d+)\](?:\.(\w+))?)?", path)
    if match is None:
        return f"表单内容不符合要求：{message}"
    element, row, part = match.groups()
    name = ELEMENT_NAMES.get(element, element)
    if row is not None:
        name += f"第 {int(row) + 1} 项"
    if part:
        name += f"的{_ROW_FIELD_NAMES.get(part, part)}"
    return f"“{name}”不符合要求（{message.split(' - at', maxsplit=1)[0]}）"


__all__ = ["CHOICES", "EditForm", "FieldType", "edit_form", "read_form"]
