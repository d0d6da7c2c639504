"""Keys that rotate without losing data (envelope encryption, DESIGN §10): the master key rotated twice and the data
keys with it, while an app serves; every encrypted field read back; data from before data keys kept readable."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import httpx
import msgspec
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import LargeBinary, delete, select

from fuquan.integrations import services as partner_services
from fuquan.integrations.models import PartnerEndpointRecord, partner_secret_context
from fuquan.platform.accounts.models import SecondFactor
from fuquan.platform.app.factory import create_app
from fuquan.platform.cases.models import Applicant, Case, applicant_context, case_form_context
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import create_engine, session_factory, session_scope
from fuquan.platform.core.keys.ciphers import LegacyCipher, blind_index_of, key_id_of
from fuquan.platform.core.keys.models import DataKey
from fuquan.platform.core.keys.rotation import RewrapReport, key_counts, only_under, rewrap, rotate_data_key
from fuquan.platform.core.keys.services import KeysNotReady
from fuquan.platform.core.personal import id_check_char, mask_name
from fuquan.platform.migrations.keys import ENCRYPTED_COLUMNS, key_ring
from fuquan.platform.migrations.metadata import metadata
from fuquan.platform.setup.known_factors import enrol_known_factors
from helpers import NINGXIA, grant_unit, login
from processes import replicas

pytestmark = pytest.mark.anyio

ITEM, TOWN = "HRSS-04", "640202001"
SECOND, THIRD = "second-master-key-for-the-rotation-test", "third-master-key-for-the-rotation-test"
PARTNER_SECRET = "public-security-signing-secret"
REDIS_URL = os.environ.get("FUQUAN_TEST_REDIS_URL") or None
CATCH_UP = {"FUQUAN_POLICY_CATCH_UP_SECONDS": "0.3"}  # how soon every process reads the setting versions
GRACE_SECONDS = 1.5  # what `fuquan keys rotate` waits between steps: a few catch-up intervals
_serial = itertools.count(1)


def resident() -> tuple[str, str, str]:
    """A new resident of 大武口区: ID number, name and phone."""
    serial = next(_serial)
    body = f"640202199{serial % 10}0101{serial:03d}"[:17]
    return body + id_check_char(body), f"测试居民{serial}", f"1391234{serial:04d}"


def with_masters(settings: Settings, current: str, *previous: str) -> Settings:
    return msgspec.structs.replace(settings, master_key=current, previous_master_keys=previous)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[Any]:
    """An app process (its lifespan run: keys checked before serving) and a clerk's token for it."""
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


def alternate_phone(phone: str) -> str:
    """The second phone each test resident writes on the application form (申请表, sealed like their own)."""
    return "137" + phone[3:]


async def open_case(client: Any, clerk: dict[str, str], people: dict[str, tuple[str, str]]) -> dict[str, Any]:
    number, name, phone = resident()
    form = {"difficulty_type": "残疾人", "alternate_phone": alternate_phone(phone)}
    body = {"item": ITEM, "unit": TOWN, "applicant": {"id_number": number, "name": name, "phone": phone}, "form": form}
    response = await client.post("/api/v1/cases", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    people[number] = (name, phone)
    return dict(response.json())


async def reveal(client: Any, clerk: dict[str, str], case: dict[str, Any], people: dict[str, tuple[str, str]]) -> None:
    shown = await client.post(
        f"/api/v1/cases/{case['id']}/applicant/reveal", json={"purpose": "核对密钥轮换"}, headers=clerk
    )
    assert shown.status_code == 200, shown.text
    assert people[shown.json()["id_number"]] == (shown.json()["name"], shown.json()["phone"])
    assert shown.json()["form"] == {
        "difficulty_type": "残疾人",
        "alternate_phone": alternate_phone(shown.json()["phone"]),
    }


async def read_back(settings: Settings, people: dict[str, tuple[str, str]]) -> None:
    """Every applicant's three fields and the partner secret, decrypted with ``settings``' keys alone."""
    engine = create_engine(settings.database_url)
    async with session_scope(session_factory(engine)) as session:
        cipher = await key_ring(settings).cipher(NINGXIA, session)
        rows = list(await session.scalars(select(Applicant).where(Applicant.tenant_id == NINGXIA.tenant_id)))
        secret = await session.scalar(select(PartnerEndpointRecord.secret_cipher))
        forms = [(case.receipt_no, case.form_cipher) for case in await session.scalars(select(Case))]
    await engine.dispose()
    context = applicant_context("64")
    found = {
        cipher.decrypt(row.id_cipher, context=context): (
            cipher.decrypt(row.name_cipher, context=context),
            cipher.decrypt(row.phone_cipher, context=context) if row.phone_cipher else None,
        )
        for row in rows
    }
    assert found == people
    sealed = [
        json.loads(cipher.decrypt(blob, context=case_form_context("64", receipt))) for receipt, blob in forms if blob
    ]
    assert sorted(form["alternate_phone"] for form in sealed) == sorted(alternate_phone(p) for _, p in people.values())
    assert secret is not None
    assert cipher.decrypt(secret, context=partner_secret_context("64", "public_security")) == PARTNER_SECRET


async def serve_alternately(
    clients: list[Any],
    clerks: list[dict[str, str]],
    people: dict[str, tuple[str, str]],
    stop: anyio.Event,
    served: list[int],
) -> None:
    """Cases created on one process and read in full on the other at once, until ``stop`` (then one more)."""
    for turn in itertools.count():
        case = await open_case(clients[turn % 2], clerks[turn % 2], people)
        await reveal(clients[(turn + 1) % 2], clerks[(turn + 1) % 2], case, people)
        served.append(case["id"])
        if stop.is_set():
            return


async def test_rotating_the_master_and_data_keys_twice_while_serving_loses_nothing(
    settings: Settings, backend: str, tmp_path: Path
) -> None:
    """Two rounds, each as an operator runs it: both app processes restarted with the new master key current and
    the old one still accepted; then, while they serve, every data key re-wrapped, a new data key made and the
    data re-encrypted. Each case created on one process is read in full on the other at once."""
    people: dict[str, tuple[str, str]] = {}
    async with serving(settings) as client:
        await grant_unit(client, ITEM, TOWN, "accept")
        clerk = await login(client, "cs_clerk")
        for _ in range(5):
            await open_case(client, clerk, people)
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    async with session_scope(maker) as session:
        await partner_services.configure(
            session, key_ring(settings), scope=NINGXIA, partner="public_security", base_url="http://partner.test",
            app_key="fuquan", secret=PARTNER_SECRET, actor="test",
        )  # fmt: skip

    key_ids, served = [], []
    rounds = (with_masters(settings, SECOND, settings.master_key), with_masters(settings, THIRD, SECOND))
    for round_, new in enumerate(rounds, 1):
        (tmp_path / f"round-{round_}").mkdir()
        keys_env = {"FUQUAN_MASTER_KEY": new.master_key, "FUQUAN_PREVIOUS_MASTER_KEYS": new.previous_master_keys[0]}
        redis = REDIS_URL if backend == "postgresql" else None
        with replicas(settings.database_url, redis, tmp_path / f"round-{round_}", **keys_env, **CATCH_UP) as servers:
            clients = [httpx.AsyncClient(base_url=server.url, timeout=30) for server in servers]
            clerks = [await login(each, "cs_clerk") for each in clients]
            ring = key_ring(new)
            async with session_scope(maker) as session:
                keys = len(list(await session.scalars(select(DataKey.key_id))))
            assert await rewrap(maker, ring, "test") == RewrapReport(rewrapped=keys, already_current=0)
            stop = anyio.Event()
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(serve_alternately, clients, clerks, people, stop, served)
                report = await rotate_data_key(
                    maker, ring, NINGXIA, actor="test", grace_seconds=GRACE_SECONDS, batch_size=3
                )
                stop.set()
            key_ids.append(report.new_key)
            assert only_under(report.remaining, report.new_key), report.remaining
            assert set(report.remaining["case_file.form_cipher"]) == {report.new_key}  # 申请表 moved on too
            cases = (await clients[0].get("/api/v1/cases", params={"limit": 200}, headers=clerks[0])).json()["items"]
            for index, case in enumerate(cases):  # every case's applicant in full, from either process
                await reveal(clients[index % 2], clerks[index % 2], case, people)
            for each in clients:
                await each.aclose()
    assert key_ids == [3, 4] and len(served) >= 4

    # only the third master key is needed now; the first one opens nothing any more
    await read_back(with_masters(settings, THIRD), people)
    async with session_scope(maker) as session:
        masters = set(await session.scalars(select(DataKey.master_id)))
    assert masters == {key_ring(with_masters(settings, THIRD)).masters.current.id}
    with pytest.raises(KeysNotReady):
        await read_back(settings, people)
    await engine.dispose()


async def test_a_process_missing_the_master_key_does_not_start(settings: Settings) -> None:
    async with serving(settings):
        pass  # the tenants' keys are made, wrapped by the first master key
    refused = pytest.RaisesExc(KeysNotReady, match="主密钥")  # the lifespan's task group wraps it
    with pytest.RaisesGroup(refused, flatten_subgroups=True, allow_unwrapped=True):
        async with serving(with_masters(settings, SECOND)):
            pass


async def test_data_from_before_data_keys_stays_readable_and_findable(settings: Settings) -> None:
    """A database written by the release before data keys: format 1 under the secret key, its blind indexes made
    with the secret key's index key. The upgraded app keeps finding those residents and re-encryption moves them on."""
    legacy, context = LegacyCipher(settings.secret_key), applicant_context("64")
    number, name, phone = resident()
    engine = create_engine(settings.database_url)
    maker = session_factory(engine)
    async with session_scope(maker) as session:
        await session.execute(delete(DataKey))
        await session.execute(delete(SecondFactor))  # that release had no second factors either
        session.add(
            Applicant(
                tenant_id=NINGXIA.tenant_id, id_index=blind_index_of(legacy.index_key, "64", number),
                id_cipher=legacy.encrypt(number, context=context), id_masked=number[:4] + "*" * 10 + number[-4:],
                name_cipher=legacy.encrypt(name, context=context), name_masked=mask_name(name),
                phone_cipher=legacy.encrypt(phone, context=context), phone_masked="139****",
                created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    async with serving(settings) as client:
        async with session_scope(maker) as session:  # the admin binds their authenticator after the upgrade
            await enrol_known_factors(session, key_ring(settings), ["nx_admin"])
        await grant_unit(client, ITEM, TOWN, "accept")
        clerk = await login(client, "cs_clerk")
        body = {"item": ITEM, "unit": TOWN, "applicant": {"id_number": number, "name": name}}
        case = (await client.post("/api/v1/cases", json=body, headers=clerk)).json()
        shown = await client.post(
            f"/api/v1/cases/{case['id']}/applicant/reveal", json={"purpose": "核对升级数据"}, headers=clerk
        )
        assert shown.json() == {"id_number": number, "name": name, "phone": phone, "form": {}}  # the row from before
        async with session_scope(maker) as session:
            assert len(list(await session.scalars(select(Applicant.id)))) == 1
        ring = key_ring(settings)
        assert (await key_counts(maker, NINGXIA, ring.encrypted))["applicant.id_cipher"] == {None: 1}
        report = await rotate_data_key(maker, ring, NINGXIA, actor="test", grace_seconds=0)
        assert report.values == 3 + 1 and only_under(report.remaining, report.new_key)  # and nx_admin's TOTP secret
        again = await client.post(
            f"/api/v1/cases/{case['id']}/applicant/reveal", json={"purpose": "核对升级数据"}, headers=clerk
        )
        assert again.json() == shown.json()
    async with session_scope(maker) as session:
        stored = await session.scalar(select(Applicant.id_cipher))
    assert stored is not None and key_id_of(stored) == report.new_key
    await engine.dispose()


def test_every_encrypted_column_is_known_to_re_encryption() -> None:
    """A ``*_cipher`` column missing from ``ENCRYPTED_COLUMNS`` would keep data under keys being retired."""
    listed = {(place.table.name, column) for place in ENCRYPTED_COLUMNS for column in place.columns}
    binary = {
        (table.name, column.name)
        for table in metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, LargeBinary) and table.name not in ("data_key", "organ_key")  # master-wrapped
    } - {("certificate", "signature")}  # a signature is no secret
    assert binary == listed
