"""Demo cases: every state and every deadline signal, made through the real services, with a sound trace and audit."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from fuquan.authority.registry import AuthorityRegistry
from fuquan.platform.accounts.models import Staff
from fuquan.platform.calendar.services import calendar_for
from fuquan.platform.cases.models import Applicant, Case, CaseEvent, CaseMaterial
from fuquan.platform.cases.state_machine import Status
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.audit.services import seal, verify
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.files import LocalFileStore, sniff_upload
from fuquan.platform.core.personal import parse_resident_id
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.migrations.keys import key_ring
from fuquan.platform.setup.demo import add_demo_grants
from fuquan.platform.setup.demo_cases import add_demo_cases, scan_png
from helpers import AUDIT_KEYS, NINGXIA, login

pytestmark = pytest.mark.anyio

COUNT = 80
TZ = "Asia/Shanghai"


async def _all_cases(client: Any, who: dict[str, str], query: str = "") -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    total = 0
    while True:
        response = await client.get(f"/api/v1/cases?limit=200&offset={len(items)}{query}", headers=who)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        total = page["total"]
        if len(items) >= total or not page["items"]:
            return items, total


async def test_demo_cases_cover_every_state_and_signal(client: Any, settings: Settings, database_url: str) -> None:
    engine = create_engine(database_url)
    maker = session_factory(engine)
    registry = AuthorityRegistry()
    await add_demo_grants(maker, registry, lambda _step: None)
    lines: list[str] = []
    started = time.perf_counter()
    counts = await add_demo_cases(maker, registry, key_ring(settings), settings.data_dir, lines.append, count=COUNT)
    elapsed = time.perf_counter() - started
    print(f"add_demo_cases({COUNT}) took {elapsed:.1f} s: {counts}")

    assert set(counts) == {status.value for status in Status}
    assert sum(counts.values()) == COUNT
    assert all(counts[status.value] > 0 for status in Status), counts
    assert lines and "红灯" in lines[-1]

    # what supervision (电子监察) sees through the API
    supervisor = await login(client, "nx_supervisor")
    cases, total = await _all_cases(client, supervisor)
    assert total == COUNT == len(cases)
    assert {case["status"] for case in cases} == {status.value for status in Status}
    open_signals = {case["timing"]["signal"] for case in cases if case["status"] in ("accepted", "in_review")}
    assert open_signals == {"normal", "yellow", "red"}
    for signal in ("normal", "yellow", "red"):
        _found, matching = await _all_cases(client, supervisor, f"&signal={signal}")
        assert matching > 0, signal
    suspended = [case for case in cases if case["status"] == "suspended"]
    assert all(case["timing"]["clock"] == "stopped" for case in suspended)
    # the newest first, ids in the order the cases entered; receipt numbers carry the (back-dated) day
    created = [case["created_at"] for case in cases]
    assert created == sorted(created, reverse=True)
    today = local_date(utcnow(), TZ)
    for case in cases:
        day = case["receipt_no"].split("-")[1]
        assert day == f"{local_date(_parse(case['created_at']), TZ):%Y%m%d}"
        if case["deadline"] is not None:
            assert case["timing"]["accepted_on"] is not None
    spread = {local_date(_parse(case["created_at"]), TZ) for case in cases}
    assert min(spread) >= today - timedelta(days=31) and len(spread) >= 10
    assert all(local_date(_parse(case["created_at"]), TZ) <= today for case in cases)

    # every approval carries an e-certificate numbered and dated as its back-dated case, and it verifies; a revoked
    # decision's certificate reads as revoked
    approved = [case for case in cases if case["status"] in ("approved", "issued", "closed", "revoked")]
    for case in approved:
        found = (await client.get(f"/api/v1/cases/{case['id']}/certificates", headers=supervisor)).json()
        trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=supervisor)).json()
        approval = next((event for event in trace if event["action"] == "approve"), None)
        if approval is None:  # issued or closed after a denial: nothing granted, nothing certified
            assert found == []
            continue
        assert [c["number"] for c in found] == [f"{case['receipt_no']}-01"] == [approval["detail"]["certificate"]]
        assert found[0]["issued_on"] == f"{local_date(_parse(approval['at']), TZ)}"
        verified = (await client.get(f"/api/v1/public/certificates/{found[0]['number']}",
                                     params={"code": found[0]["verify_code"]})).json()  # fmt: skip
        assert verified["standing"] == ("revoked" if case["status"] == "revoked" else "valid"), verified
    assert any(case["status"] == "revoked" for case in approved)

    # a county approver's queue holds cases routed up from townships
    county = await login(client, "dwk_approver")
    routed, _ = await _all_cases(client, county, "&unit=640202")
    assert all(case["routed_to"] == "640202" for case in routed)

    await seal(maker, AUDIT_KEYS)  # what a serving process's sealer does within a second
    async with session_scope(maker) as session:
        # every trace starts with create, its seq is 1..n, its instants never go backwards
        rows = list(await session.scalars(select(Case).order_by(Case.id)))
        events = list(await session.scalars(select(CaseEvent).order_by(CaseEvent.case_id, CaseEvent.seq)))
        by_case: dict[int, list[CaseEvent]] = {}
        for event in events:
            by_case.setdefault(event.case_id, []).append(event)
        now = utcnow()
        calendar = await calendar_for(session, NINGXIA)
        for case in rows:
            trace = by_case[case.id]
            assert trace[0].action == "create" and trace[0].from_status is None
            assert [e.seq for e in trace] == list(range(1, len(trace) + 1))
            assert [e.at for e in trace] == sorted(e.at for e in trace) and trace[-1].at <= now
            assert trace[0].at == case.created_at and trace[-1].to_status == case.status
            if case.accepted_at is not None:
                accept = next(e for e in trace if e.action == "accept")
                assert accept.at == case.accepted_at and accept.detail["deadline"] == case.deadline.isoformat()
                assert case.accepted_on == local_date(case.accepted_at, TZ)
                assert case.deadline == calendar.add_working_days(case.accepted_on, case.promised_days)
        assert [c.created_at for c in rows] == sorted(c.created_at for c in rows)

        # residents: valid ID numbers of the desks' counties; some came more than once
        cipher = await key_ring(settings).cipher(NINGXIA, session)
        applicants = list(await session.scalars(select(Applicant)))
        assert len(applicants) < COUNT
        for applicant in applicants:
            number = cipher.decrypt(applicant.id_cipher, context=b"64:applicant")
            resident = parse_resident_id(number)
            assert resident.region_code in {"640202", "640521", "640105", "640424"}
            assert 1955 <= resident.birth_date.year <= 2004

        # uploaded photos are in the file store, and are real PNGs
        store = LocalFileStore(settings.data_dir / "files")
        uploads = list(await session.scalars(select(CaseMaterial).where(CaseMaterial.state == "uploaded")))
        assert uploads
        for key in {m.file_key for m in uploads if m.file_key}:
            assert sniff_upload(await store.get(key), None, None) == "image/png"

        # `fuquan audit verify` finds every chain intact once the records are sealed (above)
        checked, breaks = await verify(session, AUDIT_KEYS)
        assert checked > COUNT and breaks == []
        note = await session.scalar(select(AuditRecord).where(AuditRecord.action == "demo.cases_backdated"))
        assert note is not None and note.detail["cases"] == COUNT

    # a second run adds nothing
    again = await add_demo_cases(maker, registry, key_ring(settings), settings.data_dir, lines.append, count=10)
    assert again == {}
    await engine.dispose()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_scan_png_is_a_small_deterministic_png() -> None:
    picture = scan_png("居民身份证或社会保障卡")
    assert picture == scan_png("居民身份证或社会保障卡") != scan_png("户口簿")
    assert sniff_upload(picture, "image/png", "photo.png") == "image/png" and len(picture) < 4096


async def test_demo_cases_need_the_demo_grants(settings: Settings, database_url: str) -> None:
    engine = create_engine(database_url)
    maker = session_factory(engine)
    with pytest.raises(RuntimeError, match="add_demo_grants"):
        await add_demo_cases(maker, AuthorityRegistry(), key_ring(settings), settings.data_dir, print, count=5)
    async with session_scope(maker) as session:  # nothing half-made: not even the extra staff
        assert await session.scalar(select(Case.id)) is None
        assert await session.scalar(select(Staff.id).where(Staff.username == "zn_approver")) is None
    await engine.dispose()
