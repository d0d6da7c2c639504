"""The application form (申请表) of a case (issue 14, finding 8): checked against the item's declared fields, its
personal values (个人信息) encrypted at rest, masked in reads, revealed only with a purpose (audited), never
printed in full — and free forms from before migration 0012 sealed by the upgrade."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from sqlalchemy import func, select, text
from test_lifecycle import RESIDENT, TOWN, _grant, _provide_required, _step

from fuquan.platform.cases.models import Applicant, Case, case_form_context
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.keys.ciphers import DecryptionFailed
from fuquan.platform.migrations.keys import key_ring, prepare_keys
from fuquan.platform.migrations.metadata import metadata
from fuquan.platform.migrations.runner import downgrade, upgrade
from helpers import CSRF_FIELD, NINGXIA, login, sample_form, web_login
from pdfs import read as read_pdf

pytestmark = pytest.mark.anyio

PHONE, ADDRESS = "13987654321", "宁夏石嘴山市大武口区长胜街道朝阳小区3号楼2单元501室"
FORM = {"difficulty_type": "大龄失业人员", "household_size": 3, "address": ADDRESS, "alternate_phone": PHONE}
APPLICANT = {"id_number": RESIDENT, "name": "张三", "phone": "13812341234"}


async def _open(client: Any, clerk: dict[str, str], item: str, form: dict[str, Any]) -> Any:
    body = {"item": item, "unit": TOWN, "applicant": APPLICANT, "form": form}
    return await client.post("/api/v1/cases", json=body, headers=clerk)


async def _dump(database_url: str) -> str:
    """Every row of every table, as text — what a database dump would show."""
    engine = create_engine(database_url)
    found = []
    async with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in (await connection.execute(select(table))).all():
                found.append(json.dumps([v if isinstance(v, dict | list | int | None) else str(v) for v in row],
                                        ensure_ascii=False))  # fmt: skip
                found.extend(value.decode("latin-1") for value in row if isinstance(value, bytes))
    await engine.dispose()
    return "\n".join(found)


async def _raw_case(database_url: str, case_id: int) -> dict[str, Any]:
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT form, form_cipher, form_masked, form_plain FROM case_file WHERE id = :id"), {"id": case_id}
            )
        ).one()
    await engine.dispose()
    return {
        name: json.loads(value) if isinstance(value, str) else value
        for name, value in zip(("form", "form_cipher", "form_masked", "form_plain"), row, strict=True)
    }


async def test_a_phone_typed_in_the_form_never_reaches_the_database_in_plain_text(
    client: Any, database_url: str, settings: Settings
) -> None:
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    created = await _open(client, clerk, "HRSS-04", FORM)
    assert created.status_code == 201, created.text
    case = created.json()
    dump = await _dump(database_url)
    assert "大龄失业人员" in dump  # the dump reads stored text as text (SQLite keeps JSON \u-escaped)
    assert PHONE not in dump and ADDRESS not in dump and "朝阳小区" not in dump  # the finding, reproduced
    raw = await _raw_case(database_url, case["id"])
    assert raw["form"] == {"difficulty_type": "大龄失业人员", "household_size": 3}  # not personal: as it was typed
    assert raw["form_plain"] is None and raw["form_masked"] == {"address": "宁夏石嘴山市" + "*" * 12,
                                                                "alternate_phone": "139****4321"}  # fmt: skip
    # at rest: one SM4-GCM ciphertext under the tenant's data key, bound to this case
    engine = create_engine(settings.database_url)
    async with session_scope(session_factory(engine)) as session:
        cipher = await key_ring(settings).cipher(NINGXIA, session)
    await engine.dispose()
    context = case_form_context("64", case["receipt_no"])
    assert json.loads(cipher.decrypt(raw["form_cipher"], context=context)) == {
        "address": ADDRESS,
        "alternate_phone": PHONE,
    }
    with pytest.raises(DecryptionFailed):  # copied onto another case, it does not open
        cipher.decrypt(raw["form_cipher"], context=case_form_context("64", "640202001-20990101-0001"))

    # reads and listings show it masked, in the item's order
    expected = {"difficulty_type": "大龄失业人员", "household_size": 3, "address": "宁夏石嘴山市" + "*" * 12,
                "alternate_phone": "139****4321"}  # fmt: skip
    assert case["form"] == expected and list(case["form"]) == list(expected)
    assert (await client.get(f"/api/v1/cases/{case['id']}", headers=clerk)).json()["form"] == expected
    listed = (await client.get("/api/v1/cases", headers=clerk)).json()["items"]
    assert [c["form"] for c in listed if c["id"] == case["id"]] == [expected]
    assert PHONE not in (await client.get("/api/v1/cases", headers=clerk)).text

    # revealed in full only with applicants.reveal and a purpose, audited (which fields were seen, not them)
    supervisor = await login(client, "nx_supervisor")
    denied = await client.post(f"/api/v1/cases/{case['id']}/applicant/reveal", json={"purpose": "核对申请表"},
                               headers=supervisor)  # fmt: skip
    assert denied.status_code in (403, 404) and PHONE not in denied.text
    shown = await client.post(f"/api/v1/cases/{case['id']}/applicant/reveal", json={"purpose": "核对申请表"},
                              headers=clerk)  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert shown.json()["form"] == {**FORM}
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        record = await session.scalar(
            select(AuditRecord).where(AuditRecord.action == "applicant.reveal").order_by(AuditRecord.id.desc())
        )
    await engine.dispose()
    assert record is not None and record.purpose == "核对申请表"
    assert record.detail == {"form_fields": ["address", "alternate_phone"]}
    assert PHONE not in await _dump(database_url)


async def _counts(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    async with session_scope(session_factory(engine)) as session:
        cases = await session.scalar(select(func.count()).select_from(Case))
        people = await session.scalar(select(func.count()).select_from(Applicant))
    await engine.dispose()
    return int(cases or 0), int(people or 0)


# (item, form, the label the 422 names)
REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("HRSS-04", {"favourite_colour": "蓝"}, "favourite_colour"),  # a field the item does not declare
    ("HRSS-04", {"difficulty_type": "想换工作"}, "困难类型"),  # not one of the options
    ("HRSS-04", {"household_size": "三口人"}, "家庭人口数"),  # not a whole number
    ("HRSS-04", {"household_size": -1}, "家庭人口数"),
    ("HRSS-04", {"household_size": True}, "家庭人口数"),
    ("HRSS-04", {"alternate_phone": "call me"}, "备用联系电话"),
    ("HRSS-04", {"address": "宁" * 129}, "居住地址"),  # longer than its max_length
    ("HRSS-04", {"address": ["宁夏"]}, "居住地址"),  # not a single value
    ("HRSS-04", {"address": "朝阳\u200b小区"}, "居住地址"),  # an invisible character
    ("HRSS-01", {"employment_form": "单位就业", "employed_on": "2026-11-02"}, "用工单位名称"),  # required, missing
    ("HRSS-01", {**sample_form("HRSS-01"), "employed_on": "2026-02-30"}, "就业日期"),  # not a date
    ("HRSS-07", {"loan_amount": "1000.005"}, "申请贷款金额"),  # money has two decimals at most
    ("HRSS-07", {"bank_account": "6228-48"}, "银行账号"),
]


async def test_a_form_that_does_not_fit_the_item_is_a_422_naming_the_field_and_nothing_is_written(
    client: Any, database_url: str
) -> None:
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    for item in ("HRSS-01", "HRSS-04", "HRSS-07"):
        await _grant(client, admin, item, "accept", TOWN)
    before = await _counts(database_url)
    for item, form, label in REFUSED:
        response = await _open(client, clerk, item, form)
        assert response.status_code == 422, (item, form, response.text)
        problem = response.json()
        assert problem["rule"] == "form_invalid" and label in problem["detail"], (form, problem)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "6228" not in problem["detail"] and "三口人" not in problem["detail"]  # never echoes the value
    assert await _counts(database_url) == before
    # the same items with a fitting form: created, values normalised
    fitting = await _open(client, clerk, "HRSS-07", {"loan_amount": 150000, "loan_months": "36",
                                                     "bank_account": "6228 4800 1234 5678 901"})  # fmt: skip
    assert fitting.status_code == 201, fitting.text
    assert fitting.json()["form"] == {
        "loan_amount": "150000.00",
        "loan_months": 36,
        "bank_account": "6228***********8901",
    }
    assert (await _open(client, clerk, "HRSS-01", sample_form("HRSS-01"))).status_code == 201


async def test_receipts_and_the_public_page_never_print_personal_form_values(client: Any) -> None:
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    created = await _open(client, clerk, "HRSS-04", FORM)
    case = await _provide_required(client, clerk, created.json())
    case = await _step(client, clerk, await _step(client, clerk, case, "submit"), "accept")
    pdf = await client.get(f"/api/v1/cases/{case['id']}/documents/receipt.pdf", headers=clerk)
    assert pdf.status_code == 200, pdf.text
    printed = read_pdf(pdf.content).text
    assert case["receipt_no"] in printed.replace("\n", "")
    assert PHONE not in printed and "4321" not in printed and "朝阳小区" not in printed
    public = await client.get(f"/api/v1/public/cases/{case['receipt_no']}", params={"code": case["query_code"]})
    assert public.status_code == 200 and PHONE not in public.text and "朝阳" not in public.text
    page = await client.get("/progress", params={"receipt": case["receipt_no"]})
    assert PHONE not in page.text


async def test_free_forms_from_before_the_upgrade_are_sealed_by_it(
    client: Any, database_url: str, settings: Settings
) -> None:
    """A case written by the release before 0012 (a free form with a phone in it) survives the upgrade: its
    declared non-personal values stay readable, everything else — undeclared keys included — is encrypted."""
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    created = await _open(client, clerk, "HRSS-04", {})
    assert created.status_code == 201, created.text
    case = created.json()
    await anyio.to_thread.run_sync(downgrade, database_url, "0011")  # the migration runner runs its own loop
    legacy = {"difficulty_type": "残疾人", "alternate_phone": PHONE, "备注": f"白天打{PHONE}", "blank": ""}
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE case_file SET form = :form WHERE id = :id"),
            {"form": json.dumps(legacy, ensure_ascii=False), "id": case["id"]},
        )
        stored = (await connection.execute(text("SELECT form FROM case_file WHERE id = :id"), {"id": case["id"]})).one()
    await engine.dispose()
    assert PHONE in str(stored[0])  # as the old release left it

    await anyio.to_thread.run_sync(upgrade, database_url)
    raw = await _raw_case(database_url, case["id"])
    assert raw["form"] == {"difficulty_type": "残疾人"} and raw["form_plain"] == {
        "alternate_phone": PHONE, "备注": f"白天打{PHONE}", "blank": ""}  # fmt: skip
    engine = create_engine(database_url)
    maker = session_factory(engine)
    await prepare_keys(key_ring(settings), maker)
    await prepare_keys(key_ring(settings), maker)  # a second start finds nothing left to seal
    async with session_scope(maker) as session:
        cipher = await key_ring(settings).cipher(NINGXIA, session)
    await engine.dispose()
    raw = await _raw_case(database_url, case["id"])
    assert raw["form_plain"] is None and raw["form"] == {"difficulty_type": "残疾人"}
    assert raw["form_masked"] == {"alternate_phone": "139****4321", "备注": "******"}
    opened = json.loads(cipher.decrypt(raw["form_cipher"], context=case_form_context("64", case["receipt_no"])))
    assert opened == {"alternate_phone": PHONE, "备注": f"白天打{PHONE}"}
    assert PHONE not in await _dump(database_url)

    shown = await client.post(f"/api/v1/cases/{case['id']}/applicant/reveal", json={"purpose": "核对旧申请表"},
                              headers=clerk)  # fmt: skip
    assert shown.status_code == 200, shown.text
    assert shown.json()["form"] == {"difficulty_type": "残疾人", "alternate_phone": PHONE, "备注": f"白天打{PHONE}"}


async def test_the_case_page_shows_the_form_masked_until_the_applicant_is_revealed(client: Any) -> None:
    admin, clerk = await login(client, "nx_admin"), await login(client, "cs_clerk")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    case = (await _open(client, clerk, "HRSS-04", FORM)).json()
    await web_login(client, "cs_clerk")
    page = await client.get(f"/cases/{case['id']}")
    assert page.status_code == 200 and "<h3>申请表</h3>" in page.text
    assert (
        "<dt>困难类型</dt><dd>大龄失业人员</dd>" in page.text
        and "<dt>备用联系电话</dt><dd>139****4321</dd>" in page.text
    )
    assert PHONE not in page.text and "朝阳小区" not in page.text and "申请表中的个人信息已脱敏显示" in page.text
    token = CSRF_FIELD.search(page.text)
    assert token
    posted = {"purpose": "核对申请表", "_csrf_token": token.group(1)}
    shown = await client.post(f"/cases/{case['id']}/reveal", data=posted, follow_redirects=False)
    assert shown.status_code == 200 and f"<dt>备用联系电话</dt><dd>{PHONE}</dd>" in shown.text and ADDRESS in shown.text
    assert shown.headers["cache-control"] == "no-store"
