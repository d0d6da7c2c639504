"""申请表 checks without a database: every shipped item declares its form, any input either fits its item's fields
or is a 422 naming one of them (never another error), and personal values are masked as the applicant's are."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuquan.platform.cases.services.forms import check_form, form_labels, is_personal, mask_value
from fuquan.platform.catalog.models import CatalogItem
from fuquan.platform.catalog.schemas import PERSONAL_TYPES, FormField, ItemSpec
from fuquan.platform.catalog.services import _check, default_catalog
from fuquan.platform.core.errors import ValidationFailed
from fuquan.platform.core.personal import id_check_char

SHIPPED = {spec.code: spec for spec in default_catalog()}
PEOPLES_ADDRESSES = {"address", "household_address", "residence", "mailing_address"}  # a business's address is not


def item(code: str) -> CatalogItem:
    return CatalogItem(code=code, fields=msgspec.to_builtins(SHIPPED[code].fields))


def test_every_shipped_item_declares_its_form_and_marks_what_is_personal() -> None:
    assert len(SHIPPED) == 20 and all(spec.fields for spec in SHIPPED.values())
    unemployment = {f.name: f for f in SHIPPED["HRSS-02"].fields}
    assert [unemployment[n].label for n in ("unemployment_reason", "former_employer", "unemployed_since")] == [
        "失业原因", "原工作单位", "失业时间"]  # fmt: skip
    assert {f.label for f in SHIPPED["HRSS-04"].fields} >= {"困难类型"}
    for spec in SHIPPED.values():
        for field in spec.fields:
            if field.type in PERSONAL_TYPES or field.name in PEOPLES_ADDRESSES:
                assert field.personal, (spec.code, field.label)
            assert (field.type == "choice") == bool(field.options)


@pytest.mark.parametrize(
    "field",
    [
        {"name": "a", "label": "甲", "type": "choice"},  # a choice without options
        {"name": "a", "label": "甲", "type": "text", "options": ["x"]},  # options on a text
        {"name": "a", "label": "甲", "type": "phone"},  # a phone that is not marked personal
    ],
)
def test_a_field_declared_wrongly_is_refused_by_the_catalogue(field: dict[str, Any]) -> None:
    spec = msgspec.structs.replace(SHIPPED["HRSS-04"], fields=[msgspec.convert(field, FormField)])
    with pytest.raises(ValidationFailed) as refused:
        _check(spec)
    assert refused.value.rule == "form_fields"
    with pytest.raises(msgspec.ValidationError):  # a name is the JSON key: ASCII, lower case
        msgspec.convert({"name": "电话", "label": "电话", "type": "text"}, FormField)
    twice = msgspec.structs.replace(SHIPPED["HRSS-04"], fields=[*SHIPPED["HRSS-04"].fields[:1]] * 2)
    with pytest.raises(ValidationFailed):
        _check(twice)
    assert isinstance(spec, ItemSpec)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(sorted(SHIPPED)), data=st.data())
def test_any_form_fits_or_is_a_422_naming_a_field(code: str, data: st.DataObject) -> None:
    names = [f.name for f in SHIPPED[code].fields]
    keys = st.sampled_from(names) | st.text(min_size=1, max_size=8)
    form = data.draw(st.dictionaries(keys, JSONISH, max_size=6))
    refused = None
    try:
        checked = check_form(item(code), form)
    except ValidationFailed as error:
        refused = error
    if refused is not None:
        labels = [f.label for f in SHIPPED[code].fields]
        assert refused.rule == "form_invalid" and refused.status == 422
        assert refused.extra["where"] == "form" or refused.extra["where"].removeprefix("form.") in names
        assert refused.extra["where"] == "form" or any(f"“{label}”" in refused.detail for label in labels)
        return
    assert set(checked.plain) | set(checked.personal) <= set(form)
    fields = {f.name: f for f in SHIPPED[code].fields}
    assert all(is_personal(fields[name]) for name in checked.personal)
    assert not any(is_personal(fields[name]) for name in checked.plain)


def _valid(field: FormField) -> st.SearchStrategy[Any]:
    body = "64020219850101123"
    return {
        "text": st.text(st.characters(categories=["Lo", "Nd", "Lu"]), min_size=1, max_size=field.max_length or 64),
        "long_text": st.text(st.characters(categories=["Lo", "Nd"]), min_size=1, max_size=field.max_length or 500),
        "date": st.dates().map(lambda day: day.isoformat()).filter(lambda text: len(text) == 10),
        "number": st.integers(0, 10**9) | st.integers(0, 10**9).map(str),
        "money": st.integers(0, 10**9).map(lambda cents: f"{cents // 100}.{cents % 100:02d}"),
        "choice": st.sampled_from(field.options or ["-"]),
        "phone": st.integers(10**9, 10**10 - 1).map(lambda n: f"1{n}"),
        "id_number": st.just(body + id_check_char(body)),
        "bank_account": st.integers(10**15, 10**19 - 1).map(str),
    }[field.type]


@settings(max_examples=200, deadline=None)
@given(code=st.sampled_from(sorted(SHIPPED)), data=st.data())
def test_a_form_of_fitting_values_is_accepted_whole(code: str, data: st.DataObject) -> None:
    fields = SHIPPED[code].fields
    form = {f.name: data.draw(_valid(f)) for f in fields if f.required or data.draw(st.booleans())}
    checked = check_form(item(code), form)
    assert set(checked.plain) | set(checked.personal) == set(form)


def test_refusals_name_the_field_by_its_label() -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("HRSS-02", {"unemployment_reason": "不想干了"}, "申请表“失业原因”只能选择"),
        ("HRSS-02", {"unemployed_since": "去年"}, "申请表“失业时间”应为日期"),
        ("HRSS-02", {"alternate_phone": "12"}, "申请表“备用联系电话”格式不正确"),
        ("HRSS-10", {"new_level": "300元"}, "申请表“变更年度”为必填项"),
        ("HRSS-06", {"skills": "x" * 501}, "申请表“职业技能和工作经历”最多 500 个字"),
        ("HRSS-06", {"expected_wage": "-5"}, "申请表“期望月薪（元）”应为金额"),
        ("HRSS-06", {"note": "x"}, "申请表中有本事项未声明的项目：note"),
    ]
    for code, form, message in cases:
        with pytest.raises(ValidationFailed) as refused:
            check_form(item(code), form)
        assert refused.value.detail.startswith(message), refused.value.detail


def test_values_are_normalised_as_stored() -> None:
    checked = check_form(
        item("HRSS-06"),
        {"expected_wage": "３５００", "education": "大专", "skills": " 电工\r\n焊工 ", "desired_job": ""},
    )
    assert checked.plain == {"expected_wage": "3500.00", "education": "大专", "skills": "电工\n焊工"}
    assert checked.personal == {}


def test_personal_values_are_masked_like_the_applicants() -> None:
    phone = FormField(name="p", label="电话", type="phone", personal=True)
    account = FormField(name="b", label="账号", type="bank_account", personal=True)
    address = FormField(name="a", label="地址", type="text", personal=True)
    number = FormField(name="i", label="证件", type="id_number", personal=True)
    assert mask_value(phone, "13912345678") == "139****5678"
    assert mask_value(account, "6228480012345678901") == "6228" + "*" * 11 + "8901"
    assert mask_value(address, "宁夏石嘴山市大武口区长胜街道朝阳小区3号楼") == "宁夏石嘴山市" + "*" * 12
    assert mask_value(number, "640202198501011234") == "6402**********1234"
    assert mask_value(None, "白天打13912345678") == "******"  # a key no field declares: nothing shown
    shown = form_labels(item("HRSS-04"), {"difficulty_type": "残疾人", "备注": "******"})
    assert shown == [("difficulty_type", "困难类型", "残疾人"), ("备注", "备注（未声明项）", "******")]
