"""数据共享接口 (issue 15, deliverables 3–7): partner departments' signed calls to /api/share/v1 — answered
minimally from Fuquan's own records, refused with a code and a message that names the fault and answers nothing,
limited per key, every call logged by blind index, and shown to the resident whose data was used."""

from __future__ import annotations

import json
import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cli.main import cli
from fuquan.platform.core.config import Settings
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.setup.benchkit import bench_key_ring
from fuquan.platform.share import services
from fuquan.platform.share.models import ShareCall
from fuquan.platform.share.services import feed
from helpers import NINGXIA, TEST_MASTER_KEY, in_session, issued_unemployment_case, signed

pytestmark = pytest.mark.anyio

TOWN = "640202001"
RESIDENT = "64020219850101123" + id_check_char("64020219850101123")
STRANGER = "64020219900202456" + id_check_char("64020219900202456")
UNEMPLOYMENT = "/api/share/v1/employment/unemployment_registration"
BASIS = "石嘴山市民政局—人社局数据共享协议（2026）第 3 号"


async def _partner(
    database_url: str, code: str = "dwk-civil-affairs", region: str | None = "640202",
    fields: tuple[str, ...] = ("registered", "since"), allowed: tuple[str, ...] = (),
) -> tuple[str, str]:  # fmt: skip
    """A civil-affairs application granted unemployment registrations for 低保 checks; its key id and secret."""

    async def work(session: AsyncSession) -> tuple[str, str]:
        draft = services.AppDraft(code, "低保核对系统", "大武口区民政局", "李科长 0952-1234567", allowed)
        app, issued = await services.register(session, bench_key_ring(), NINGXIA, draft)
        grant = services.GrantDraft("employment/unemployment_registration", ("dibao_eligibility",), fields, BASIS,
                                    date.today() - timedelta(days=1), region=region)  # fmt: skip
        await services.grant(session, NINGXIA, app.code, grant)
        return issued.key_id, issued.secret

    return await in_session(database_url, work)


async def _log(database_url: str) -> list[ShareCall]:
    return await in_session(database_url, lambda s: _all(s, select(ShareCall).order_by(ShareCall.id)))


async def _all(session: AsyncSession, statement: Any) -> list[Any]:
    return list(await session.scalars(statement))


async def test_a_signed_verification_answers_the_question_asked_with_the_granted_fields_only(
    client: Any, database_url: str
) -> None:
    await issued_unemployment_case(client, database_url, RESIDENT)
    key = await _partner(database_url)
    answer = await client.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["code"] == "00" and body["msg"]
    data = body["data"]
    assert data["registered"] is True and data["since"] == str(local_date(utcnow(), "Asia/Shanghai"))
    assert data["on_record"] is True and "unit" not in data
    assert data["id_number"] == "6402**********" + RESIDENT[-4:] and data["name"] == "王*"
    assert answer.headers["x-request-id"].startswith("req-")
    stranger = (await client.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": STRANGER}))).json()
    assert stranger["code"] == "00"
    assert stranger["data"] | {"id_number": ""} == {"id_number": "", "name": None, "on": stranger["data"]["on"],
                                                    "on_record": False, "registered": False, "since": None}  # fmt: skip
    before = date.today() - timedelta(days=3)
    earlier = await client.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT, "on": str(before)}))
    assert earlier.json()["data"]["registered"] is False  # registered today, not three days ago
    calls = await _log(database_url)
    assert [(c.code, c.reason, c.purpose, c.reference, c.subjects) for c in calls] == [
        ("00", "answered", "dibao_eligibility", "MZ2026-0153", 1)] * 3  # fmt: skip

    async def stored(session: AsyncSession) -> str:
        rows = await session.execute(text("SELECT * FROM share_call_subject"))
        calls = await session.execute(text("SELECT * FROM share_call"))
        return repr(rows.all()) + repr(calls.all())

    assert RESIDENT not in await in_session(database_url, stored)  # blind indexes only


async def test_a_batch_answers_each_subject_in_order_and_refuses_more_than_a_hundred(
    client: Any, database_url: str
) -> None:
    await issued_unemployment_case(client, database_url, RESIDENT)
    key = await _partner(database_url)
    path = f"{UNEMPLOYMENT}/batch"
    subjects = [{"id_number": STRANGER}, {"id_number": RESIDENT}]
    answer = (await client.post(path, **signed(key, path, {"subjects": subjects, "fields": ["registered"]}))).json()
    assert answer["code"] == "00" and answer["data"]["count"] == 2
    assert [r["registered"] for r in answer["data"]["results"]] == [False, True]
    assert all(set(r) == {"id_number", "name", "on", "on_record", "registered"} for r in answer["data"]["results"])
    too_many = await client.post(path, **signed(key, path, {"subjects": [{"id_number": STRANGER}] * 101}))
    assert too_many.status_code == 400 and too_many.json()["code"] == "20" and "100" in too_many.json()["msg"]
    bad = await client.post(path, **signed(key, path, {"subjects": [{"id_number": STRANGER}, {"id_number": "1"}]}))
    assert bad.status_code == 400 and "第 2 个对象" in bad.json()["msg"]


async def test_every_refusal_names_its_fault_and_answers_nothing(client: Any, database_url: str) -> None:
    key = await _partner(database_url)
    key_id, secret = key
    other = await _partner(database_url, "far-away", allowed=("10.20.0.0/16",))
    body = {"id_number": RESIDENT}
    used = signed(key, UNEMPLOYMENT, body)
    assert (await client.post(UNEMPLOYMENT, **used)).status_code == 200
    now = int(time.time())
    cases: list[tuple[str, dict[str, Any], int, str, str]] = [
        ("bad signature", signed((key_id, secret + "x"), UNEMPLOYMENT, body), 401, "30", "签名无效"),
        ("unknown key", signed(("fq64-0000000000000000", secret), UNEMPLOYMENT, body), 401, "30", "X-App-Key"),
        ("stale timestamp", signed(key, UNEMPLOYMENT, body, timestamp=now - 400), 401, "30", "时间戳"),
        ("future timestamp", signed(key, UNEMPLOYMENT, body, timestamp=now + 400), 401, "30", "时间戳"),
        ("replayed nonce", used, 401, "30", "nonce"),
        (
            "body changed after signing",
            {**signed(key, UNEMPLOYMENT, body), "content": b'{"id_number":"x"}'},
            401,
            "30",
            "签名无效",
        ),
        (
            "missing signature",
            signed(key, UNEMPLOYMENT, body, headers={"X-Signature": ""}),
            401,
            "30",
            "X-Signature",
        ),
        ("no purpose", signed(key, UNEMPLOYMENT, body, purpose=" "), 400, "20", "X-Purpose"),
        ("unknown purpose", signed(key, UNEMPLOYMENT, body, purpose="curiosity:A1"), 400, "20", "用途"),
        ("no file number", signed(key, UNEMPLOYMENT, body, purpose="dibao_eligibility"), 400, "20", "编号"),
        (
            "purpose not granted",
            signed(key, UNEMPLOYMENT, body, purpose="court_enforcement:Z1"),
            403,
            "31",
            "court_enforcement",
        ),
        (
            "field not granted",
            signed(key, UNEMPLOYMENT, {**body, "fields": ["id_number"]}),
            403,
            "31",
            "身份证号码",
        ),
        (
            "dataset not granted",
            signed(key, "/api/share/v1/cards/social_security_card", body),
            403,
            "31",
            "社会保障卡",
        ),
        ("unknown dataset", signed(key, "/api/share/v1/employment/wages", body), 404, "10", "employment/wages"),
        ("malformed body", signed(key, UNEMPLOYMENT, raw=b'{"id_number": '), 400, "20", "JSON"),
        ("unknown field in body", signed(key, UNEMPLOYMENT, {**body, "name": "王五"}), 400, "20", "name"),
        ("invalid ID number", signed(key, UNEMPLOYMENT, {"id_number": RESIDENT[:-1] + "0"}), 400, "20", "校验位"),
        ("future date", signed(key, UNEMPLOYMENT, {**body, "on": "2999-01-01"}), 400, "20", "晚于今天"),
        ("calling address not registered", signed(other, UNEMPLOYMENT, body), 403, "31", "调用地址"),
        ("body too large", signed(key, UNEMPLOYMENT, raw=b" " * (65 * 1024)), 413, "20", "64 KB"),
    ]
    paths = {"dataset not granted": "/api/share/v1/cards/social_security_card",
             "unknown dataset": "/api/share/v1/employment/wages"}  # fmt: skip
    for name, request, status, code, named in cases:
        answer = await client.post(paths.get(name, UNEMPLOYMENT), **request)
        assert answer.status_code == status, (name, answer.text)
        envelope = answer.json()
        assert envelope["code"] == code and named in envelope["msg"] and envelope.get("data") is None, (name, envelope)
    calls = await _log(database_url)
    refused = [c for c in calls if c.code != "00"]
    assert len(refused) == len(cases) - 1  # all but the oversized body, refused before it reached the API
    assert {c.reason for c in refused} >= {"bad_signature", "unknown_app_key", "stale_timestamp", "replayed_nonce",
                                           "share_purpose_not_granted", "client_not_allowed"}  # fmt: skip


async def test_suspended_expired_and_rotated_keys(client: Any, database_url: str) -> None:
    key = await _partner(database_url)
    body = {"id_number": STRANGER}

    async def act(work: Any) -> Any:
        async def inner(session: AsyncSession) -> Any:
            return await work(session)

        return await in_session(database_url, inner)

    async def status(with_key: tuple[str, str]) -> str:
        return str((await client.post(UNEMPLOYMENT, **signed(with_key, UNEMPLOYMENT, body))).json()["code"])

    new = await act(lambda s: services.rotate_key(s, bench_key_ring(), NINGXIA, "dwk-civil-affairs"))
    assert [await status(key), await status((new.key_id, new.secret))] == ["00", "00"]  # the overlap
    newest = await act(lambda s: services.rotate_key(s, bench_key_ring(), NINGXIA, "dwk-civil-affairs",
                                                     overlap=timedelta(0)))  # fmt: skip
    assert [await status(key), await status((new.key_id, new.secret))] == ["30", "30"]
    assert await status((newest.key_id, newest.secret)) == "00"
    await act(lambda s: services.suspend(s, NINGXIA, "dwk-civil-affairs", reason="协议到期未续签"))
    assert await status((newest.key_id, newest.secret)) == "30"
    await act(lambda s: services.resume(s, NINGXIA, "dwk-civil-affairs"))
    assert await status((newest.key_id, newest.secret)) == "00"


async def test_a_region_grant_answers_residents_recorded_elsewhere_as_unknown(client: Any, database_url: str) -> None:
    await issued_unemployment_case(client, database_url, RESIDENT)
    elsewhere = await _partner(database_url, "hn-civil-affairs", region="640205")
    resident = (await client.post(UNEMPLOYMENT, **signed(elsewhere, UNEMPLOYMENT, {"id_number": RESIDENT}))).json()
    stranger = (await client.post(UNEMPLOYMENT, **signed(elsewhere, UNEMPLOYMENT, {"id_number": STRANGER}))).json()
    assert resident["data"].pop("id_number") != stranger["data"].pop("id_number")
    assert resident == stranger  # nothing tells a resident recorded in 640202 from a person never seen


async def test_the_daily_quota_and_the_minute_limit_answer_429_with_retry_after(
    settings: Settings, database_url: str
) -> None:
    from litestar.testing import AsyncTestClient

    from fuquan.platform.app.factory import create_app

    key = await _partner(database_url)
    limited = msgspec.structs.replace(settings, share_calls_per_day=2, share_calls_per_minute=3)
    async with AsyncTestClient(app=create_app(limited)) as client:
        answers = [await client.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": STRANGER}))
                   for _ in range(4)]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    day, minute = answers[2], answers[3]
    assert day.json()["code"] == "40" and "今日" in day.json()["msg"] and int(day.headers["retry-after"]) > 0
    assert minute.json() == {"code": "40", "msg": "调用过于频繁，请按 Retry-After 头（秒）稍后重试", "data": None}
    assert int(minute.headers["retry-after"]) > 0


async def test_the_case_feed_is_cursor_paged_replayable_and_granted_like_a_dataset(
    client: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(feed, "SETTLE", timedelta(seconds=-5))  # times are whole seconds: take this second in
    case = await issued_unemployment_case(client, database_url, RESIDENT)

    async def supervision(session: AsyncSession) -> tuple[str, str]:
        draft = services.AppDraft("nx-supervision", "电子监察系统", "宁夏回族自治区政务服务管理局", "监察处 0951-1")
        app, issued = await services.register(session, bench_key_ring(), NINGXIA, draft)
        fields = ("item_code", "case_no", "event", "event_at", "status", "unit_code", "result")
        await services.grant(session, NINGXIA, app.code, services.GrantDraft(
            "cases/feed", ("supervision",), fields, BASIS, date.today() - timedelta(days=1)))  # fmt: skip
        return issued.key_id, issued.secret

    key = await in_session(database_url, supervision)
    purpose = "supervision:DZJC-2026-12"

    async def page(cursor: str, limit: int) -> dict[str, Any]:
        path = f"/api/share/v1/feeds/cases?cursor={cursor}&limit={limit}"
        answer = await client.get(path, headers=signed(key, path, method="GET", purpose=purpose)["headers"])
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["data"])

    first = await page("", 3)
    assert first["more"] is True and len(first["events"]) == 3, first
    rest = await page(first["next_cursor"], 500)
    events = first["events"] + rest["events"]
    mine = [e for e in events if e["case_no"] == case["receipt_no"]]
    assert [e["event"] for e in mine if e["event"] != "material"] == ["create", "submit", "accept", "assign",
                                                                       "approve", "issue"]  # fmt: skip
    assert next(e for e in mine if e["event"] == "approve")["result"] == "准予"
    assert all(set(e) == {"cursor", "item_code", "case_no", "event", "event_at", "status", "unit_code", "result"}
               for e in events)  # fmt: skip
    assert (await page("", 3))["events"] == first["events"]  # replayable
    tampered_path = "/api/share/v1/feeds/cases?cursor=0&limit=500"
    signed_for_other = signed(key, "/api/share/v1/feeds/cases?cursor=0&limit=3", method="GET", purpose=purpose)
    tampered = await client.get(tampered_path, headers=signed_for_other["headers"])
    assert tampered.status_code == 401  # the query string is signed too
    bad = "/api/share/v1/feeds/cases?cursor=abc"
    signed_bad = signed(key, bad, method="GET", purpose=purpose)["headers"]
    assert (await client.get(bad, headers=signed_bad)).json()["code"] == "20"
    # the operator's view of the same feed: fuquan share feed (a command runs its own event loop: in a thread)
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_MASTER_KEY": TEST_MASTER_KEY}
    command = ["share", "feed", "--tenant", "64", "--since", first["events"][0]["cursor"], "--limit", "2"]
    shown = await anyio.to_thread.run_sync(lambda: CliRunner().invoke(cli, command, env=env))
    assert shown.exit_code == 0, shown.output
    assert case["receipt_no"] in shown.output and f"--since {first['events'][2]['cursor']}" in shown.output


async def test_the_resident_sees_who_used_their_data(client: Any, database_url: str) -> None:
    case = await issued_unemployment_case(client, database_url, RESIDENT)
    key = await _partner(database_url)
    await client.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}))
    await client.post(UNEMPLOYMENT, **signed(key, UNEMPLOYMENT, {"id_number": STRANGER}))
    refused = signed(key, UNEMPLOYMENT, {"id_number": RESIDENT}, purpose="court_enforcement:X")
    assert (await client.post(UNEMPLOYMENT, **refused)).status_code == 403
    path = f"/api/v1/public/cases/{case['receipt_no']}/data-uses"
    uses = await client.get(path, params={"code": case["query_code"]})
    assert uses.status_code == 200, uses.text
    (use,) = uses.json()  # the refused call used nothing; the stranger's is not theirs
    assert use["department"] == "大武口区民政局" and use["purpose"] == "最低生活保障审核确认"
    assert use["dataset"] == "失业登记核验" and use["operator"] == "mz***"
    assert (await client.get(path, params={"code": "WRONG"})).status_code == 404


async def test_the_partners_document_describes_every_dataset_and_the_signature(client: Any) -> None:
    from openapi_spec_validator import validate

    from fuquan.platform.share.schemas import DATASETS

    document = (await client.get("/api/share/v1/openapi.json")).json()
    validate(document)
    assert {f"/api/share/v1/{code}" for code in DATASETS if code != "cases/feed"} <= set(document["paths"])
    assert "/api/share/v1/feeds/cases" in document["paths"] and "HMAC-SM3" in document["info"]["description"]
    assert not any(path.startswith("/api/share") for path in (await client.get("/schema/openapi.json")).json()["paths"])
    page = await client.get("/api/share/v1/docs")
    assert page.status_code == 200 and "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "<script>" not in page.text  # no inline script: the pages' CSP holds
    assert (await client.get("/static/share/docs.js")).status_code == 200
    unsigned = await client.post(UNEMPLOYMENT, json={"id_number": RESIDENT})
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "30"
    assert (await client.get("/api/share/v1/nowhere")).json()["code"] == "10"


async def test_the_demo_partners_can_call_with_the_keys_the_demo_prints(client: Any, database_url: str) -> None:
    from fuquan.platform.setup.demo_partners import add_demo_partners

    civil, watch = await in_session(database_url, lambda s: add_demo_partners(s, bench_key_ring(), "64"))
    query = {"id_number": STRANGER, "fields": ["registered", "unit"]}
    answer = await client.post(UNEMPLOYMENT, **signed((civil.key_id, civil.secret), UNEMPLOYMENT, query))
    assert answer.json()["code"] == "00" and answer.json()["data"]["registered"] is False
    path = "/api/share/v1/feeds/cases"
    feed_call = signed((watch.key_id, watch.secret), path, method="GET", purpose="supervision:DZJC-1")
    assert (await client.get(path, headers=feed_call["headers"])).json()["code"] == "00"


async def test_the_openssl_and_curl_example_signs_calls_the_api_accepts(
    client: Any, database_url: str, tmp_path: Path
) -> None:
    """deploy/share/call.sh, run as written with OpenSSL's own SM3 and HMAC-SM3; a stand-in ``curl`` records what
    it would send, which is then sent as is."""
    key_id, secret = await _partner(database_url)
    (tmp_path / "curl").write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\0" "$a"; done > "$CURL_ARGS"\n')
    (tmp_path / "curl").chmod(0o755)
    script = Path(__file__).parents[3] / "deploy" / "share" / "call.sh"
    body = json.dumps({"id_number": STRANGER})
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "CURL_ARGS": str(tmp_path / "args"),
           "FUQUAN_KEY": key_id, "FUQUAN_SECRET": secret}  # fmt: skip
    await anyio.run_process(["sh", str(script), UNEMPLOYMENT, body], env=env, check=True)
    args = (tmp_path / "args").read_bytes().decode().split("\0")[:-1]
    headers = dict(args[i + 1].split(": ", 1) for i, arg in enumerate(args) if arg == "-H")
    sent = args[args.index("--data-binary") + 1].encode()
    answer = await client.post(UNEMPLOYMENT, content=sent, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["registered"] is False
