"""共享应用 (issue 15, deliverable 1): a tenant registers a partner department's application and is shown its key
once; the secret is kept only encrypted; rotation lets the old key work on for the overlap; suspension stops
every key at once; every change is audited, and no secret reaches the audit trail. A call signed with the key is
verified by the same protocol code the partner simulators use (deliverable 3)."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from fuquan.integrations.gateway.protocol import Refused, ResultCode, sign, verify_call
from fuquan.platform.cli.main import cli
from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.setup.benchkit import bench_key_ring
from fuquan.platform.share.models import ShareKey
from fuquan.platform.share.services.directory import ShareDirectory
from helpers import TEST_MASTER_KEY

ADD = ["share", "apps", "add", "--tenant", "64", "--code", "dwk-civil-affairs", "--name", "低保核对系统",
       "--department", "大武口区民政局", "--contact", "李科长 0952-1234567", "--allow", "10.20.0.0/16"]  # fmt: skip
KEY = re.compile(r"应用密钥（X-App-Key）：(\S+)\n签名密钥（只显示这一次，请通过安全渠道交给对方）：(\S+)")


def _cli(database_url: str, tmp_path: Path, *args: str) -> Any:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_MASTER_KEY": TEST_MASTER_KEY}
    return CliRunner().invoke(cli, list(args), env=env)


def _key(output: str) -> tuple[str, str]:
    found = KEY.search(output)
    assert found, output
    return found.group(1), found.group(2)


async def _secret(database_url: str, key_id: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            found = await ShareDirectory(bench_key_ring(), session_factory(engine)).signing_key(session, key_id)
            return None if found is None else found.secret
    finally:
        await engine.dispose()


async def _rows(database_url: str, statement: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            result = await session.execute(statement)
            return list(result.scalars()) if getattr(statement, "is_select", False) else []
    finally:
        await engine.dispose()


def test_an_application_is_registered_with_a_key_shown_once_and_kept_encrypted(
    database_url: str, tmp_path: Path
) -> None:
    added = _cli(database_url, tmp_path, *ADD)
    assert added.exit_code == 0, added.output
    key_id, secret = _key(added.output)
    assert key_id.startswith("fq64-") and len(secret) >= 40
    assert asyncio.run(_secret(database_url, key_id)) == secret
    (stored,) = asyncio.run(_rows(database_url, select(ShareKey)))
    assert secret.encode() not in stored.secret_cipher
    listed = _cli(database_url, tmp_path, "share", "apps", "list", "--tenant", "64")
    assert listed.exit_code == 0 and key_id in listed.output and "10.20.0.0/16" in listed.output
    assert secret not in listed.output
    again = _cli(database_url, tmp_path, *ADD)
    assert again.exit_code == 2 and "已被使用" in again.output
    bad = _cli(database_url, tmp_path, *ADD[:6], "other-app", *ADD[7:-1], "not-an-address")
    assert bad.exit_code == 2 and "不是 IP 地址或网段" in bad.output
    records = asyncio.run(_rows(database_url, select(AuditRecord).where(AuditRecord.action.like("share.%"))))
    assert [(r.action, r.actor, r.outcome) for r in records] == [("share.app_registered", "cli", "success")]
    assert secret not in str(records[0].detail) and records[0].detail["key_id"] == key_id


def test_rotation_overlaps_and_suspension_stops_every_key(database_url: str, tmp_path: Path) -> None:
    old, _ = _key(_cli(database_url, tmp_path, *ADD).output)
    rotated = _cli(database_url, tmp_path, "share", "keys", "rotate", "dwk-civil-affairs", "--tenant", "64")
    assert rotated.exit_code == 0, rotated.output
    new, new_secret = _key(rotated.output)
    assert asyncio.run(_secret(database_url, old)) is not None, "the old key works on during the overlap"
    assert asyncio.run(_secret(database_url, new)) == new_secret
    # the overlap ends: the old key stops, the new one goes on
    asyncio.run(_rows(database_url, update(ShareKey).where(ShareKey.key_id == old).values(expires_at=utcnow())))
    assert asyncio.run(_secret(database_url, old)) is None and asyncio.run(_secret(database_url, new)) == new_secret
    at_once = _cli(database_url, tmp_path, "share", "keys", "rotate", "dwk-civil-affairs", "--tenant", "64",
                   "--overlap-hours", "0")  # fmt: skip
    newest, _ = _key(at_once.output)
    assert asyncio.run(_secret(database_url, new)) is None and asyncio.run(_secret(database_url, newest)) is not None

    no_reason = _cli(database_url, tmp_path, "share", "apps", "suspend", "dwk-civil-affairs", "--tenant", "64",
                     "--reason", " ")  # fmt: skip
    assert no_reason.exit_code == 2 and "原因" in no_reason.output
    suspended = _cli(database_url, tmp_path, "share", "apps", "suspend", "dwk-civil-affairs", "--tenant", "64",
                     "--reason", "协议到期待续签")  # fmt: skip
    assert suspended.exit_code == 0, suspended.output
    assert asyncio.run(_secret(database_url, newest)) is None
    assert _cli(database_url, tmp_path, "share", "apps", "resume", "dwk-civil-affairs", "--tenant", "64").exit_code == 0
    assert asyncio.run(_secret(database_url, newest)) is not None
    # another tenant's operator does not see or touch it
    elsewhere = _cli(database_url, tmp_path, "share", "apps", "suspend", "dwk-civil-affairs", "--tenant", "46",
                     "--reason", "x")  # fmt: skip
    assert elsewhere.exit_code == 2 and "不存在" in elsewhere.output
    shared = select(AuditRecord).where(AuditRecord.action.like("share.%")).order_by(AuditRecord.id)
    actions = [r.action for r in asyncio.run(_rows(database_url, shared))]
    assert actions == ["share.app_registered", "share.key_rotated", "share.key_rotated", "share.app_suspended",
                       "share.app_resumed"]  # fmt: skip


def test_a_call_signed_with_the_key_is_verified_by_the_protocol_the_simulators_speak(
    database_url: str, tmp_path: Path
) -> None:
    key_id, secret = _key(_cli(database_url, tmp_path, *ADD).output)
    asyncio.run(_verify(database_url, key_id, secret))


async def _verify(database_url: str, key_id: str, secret: str) -> None:
    body = b'{"id_number": "640202199001011234"}'
    path = "/api/share/v1/employment/unemployment_registration"
    signed = sign(secret, "POST", path, body, app_key=key_id, timestamp=int(time.time()), nonce="n-1",
                  request_id="r-1", purpose="dibao_eligibility 大民低〔2026〕12号", user_id="mz-li")  # fmt: skip
    headers = signed.as_dict()
    used: set[tuple[str, str]] = set()

    async def secret_of(app_key: str) -> str | None:
        return await _secret(database_url, app_key)

    async def use_nonce(app_key: str, nonce: str) -> bool:
        fresh = (app_key, nonce) not in used
        used.add((app_key, nonce))
        return fresh

    call = await verify_call(headers, "POST", path, body, now=time.time(), secret_of=secret_of, use_nonce=use_nonce)
    assert (call.app_key, call.user_id) == (key_id, "mz-li")
    for changed, reason in (
        ({"X-Signature": "0" * 64}, "bad_signature"),
        ({"X-App-Key": "fq64-unknown"}, "unknown_app_key"),
        ({"X-Timestamp": str(int(time.time()) - 301)}, "stale_timestamp"),
        ({}, "replayed_nonce"),
    ):
        with pytest.raises(Refused) as refused:
            await verify_call({**headers, **changed}, "POST", path, body, now=time.time(), secret_of=secret_of,
                              use_nonce=use_nonce)  # fmt: skip
        assert refused.value.reason == reason and refused.value.code == ResultCode.AUTH_FAILED
