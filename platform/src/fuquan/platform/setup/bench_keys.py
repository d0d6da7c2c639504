"""``fuquan bench keys``: the master key and the data keys rotated under load, and every encrypted field read back.

``applicants`` residents of tenant 64 are stored encrypted (ID number, name, phone) under the first master key.
Two ``fuquan serve`` processes, each with a data dir of its own, are then started as an operator rotating the
master key starts them: the new master key current, the old one still accepted. Clients on both processes
keep opening cases (mostly for stored residents, one in ten for new ones) and reading each applicant in full
through the *other* process — first for ``baseline_seconds`` with nothing rotating, then throughout the rotation:
every data key re-wrapped under the new master key, a new data key made, and every stored value re-encrypted.
Last, every applicant is decrypted with the new master key alone and compared with what was stored:
``unreadable`` and ``mismatched`` must both be 0, and no request may fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from fuquan.platform.cases.models import Applicant, applicant_context
from fuquan.platform.core.db import create_engine, own_session, session_factory
from fuquan.platform.core.keys.ciphers import DecryptionFailed, TenantCipher
from fuquan.platform.core.keys.rotation import key_counts, only_under, rewrap, rotate_data_key
from fuquan.platform.core.personal import id_check_char, mask_name, mask_phone
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.migrations.keys import prepare_keys
from fuquan.platform.setup.bench_cases import GIVEN_NAMES, ITEM, SURNAMES
from fuquan.platform.setup.benchkit import (
    ADMIN,
    CLERK,
    MASTER_KEY,
    SECRET_KEY,
    SERVE,
    TOWN,
    BenchmarkError,
    Served,
    bench_database,
    bench_key_ring,
    client,
    expect,
    latency,
    login,
    seed_database,
    serving,
)
from fuquan.tenants.scope import scope_for

MAX_APPLICANTS = 1_000_000
NEW_MASTER_KEY = "fuquan-bench-second-master-key-for-the-rotation"
CATCH_UP_SECONDS = 0.5  # how often each process reads the setting versions (keys included)
GRACE_SECONDS = 3 * CATCH_UP_SECONDS  # what `fuquan keys rotate` waits between its steps
NINGXIA = scope_for(1, "64", "64")  # the first tenant the seed imports
_FIRST_BIRTH = date(1960, 1, 1)


def person(index: int) -> tuple[str, str, str]:
    """A distinct resident of 大武口区 per index below ``MAX_APPLICANTS``: a valid number, a name and a phone."""
    body = f"640202{_FIRST_BIRTH + timedelta(days=index // 1000):%Y%m%d}{index % 1000:03d}"
    name = SURNAMES[index % len(SURNAMES)] + GIVEN_NAMES[index // len(SURNAMES) % len(GIVEN_NAMES)]
    return body + id_check_char(body), name, f"139{index:08d}"


def _stored(cipher: TenantCipher, index: int, now: datetime) -> Applicant:
    number, name, phone = person(index)
    context = applicant_context("64")
    return Applicant(
        tenant_id=NINGXIA.tenant_id, id_index=cipher.blind_index(number), created_at=now,
        id_cipher=cipher.encrypt(number, context=context), id_masked=number[:4] + "*" * 10 + number[-4:],
        name_cipher=cipher.encrypt(name, context=context), name_masked=mask_name(name),
        phone_cipher=cipher.encrypt(phone, context=context), phone_masked=mask_phone(phone),
    )  # fmt: skip


async def _fill(database: str, applicants: int) -> float:
    """``applicants`` residents stored under the first master key's data keys; seconds taken."""
    began = time.perf_counter()
    engine = create_engine(database)
    maker = session_factory(engine)
    try:
        ring = bench_key_ring()
        await prepare_keys(ring, maker)
        for start in range(0, applicants, 5000):
            async with own_session(maker, writes=True) as session, session.begin():
                cipher, now = await ring.cipher(NINGXIA, session), utcnow()
                session.add_all(_stored(cipher, index, now) for index in range(start, min(start + 5000, applicants)))
    finally:
        await engine.dispose()
    return time.perf_counter() - began


@dataclass
class _Load:
    """Clients on both processes opening cases and reading each applicant back through the other process."""

    servers: list[Served]
    applicants: int
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    new_residents: list[int] = field(default_factory=list)
    _next_new: int = 0

    async def run(self, clerk: dict[str, str], concurrency: int, seed: int) -> None:
        async with contextlib.AsyncExitStack() as stack:
            pairs = []
            for n in range(concurrency):
                one = await stack.enter_async_context(client(self.servers[n % 2].url))
                other = await stack.enter_async_context(client(self.servers[(n + 1) % 2].url))
                pairs.append((one, other, random.Random(seed + n)))  # noqa: S311 - a benchmark's choice of residents
            await asyncio.gather(*(self._worker(one, other, chooser, clerk) for one, other, chooser in pairs))

    async def _worker(
        self, one: httpx.AsyncClient, other: httpx.AsyncClient, chooser: random.Random, clerk: dict[str, str]
    ) -> None:
        while not self.stop.is_set():
            if chooser.random() < 0.1:  # a new resident, written under whichever data key is active
                index = self.applicants + self._next_new
                self._next_new += 1
                self.new_residents.append(index)
            else:
                index = chooser.randrange(self.applicants)
            number, name, phone = person(index)
            body = {"item": ITEM, "unit": TOWN, "applicant": {"id_number": number, "name": name, "phone": phone}}
            began = time.perf_counter()
            created = await one.post("/api/v1/cases", json=body, headers=clerk)
            if created.status_code != 201:
                self.failures.append(f"create {created.status_code} {created.text[:200]}")
                continue
            shown = await other.post(
                f"/api/v1/cases/{created.json()['id']}/applicant/reveal", json={"purpose": "密钥轮换压测核对"},
                headers=clerk,
            )  # fmt: skip
            self.seconds.append(time.perf_counter() - began)
            if shown.status_code != 200:
                self.failures.append(f"reveal {shown.status_code} {shown.text[:200]}")
            elif shown.json() != {"id_number": number, "name": name, "phone": phone}:
                self.failures.append(f"reveal answered another person for resident {index}")

    def figures(self, seconds: float) -> dict[str, Any]:
        return {
            "case_and_reveal_pairs": len(self.seconds), "failed": len(self.failures), "failures": self.failures[:5],
            "pairs_per_second": round(len(self.seconds) / seconds, 1) if seconds else None,
            "pair_ms": latency(self.seconds),
        }  # fmt: skip


async def _rotate_under_load(
    servers: list[Served], database: str, applicants: int, concurrency: int, baseline_seconds: float, batch: int
) -> dict[str, Any]:
    async with client(servers[0].url) as http:
        admin = await login(http, ADMIN)
        grant = {"item": ITEM, "action": "accept", "unit": TOWN, "scope": "unit", "valid_from": "2026-01-01",
                 "instrument": "宁人社发〔2026〕8号"}  # fmt: skip
        expect(await http.post("/api/v1/grants", json=grant, headers=admin), 201, "grant")
        clerk = await login(http, CLERK)

    baseline = _Load(servers, applicants)
    running = asyncio.create_task(baseline.run(clerk, concurrency, seed=1))
    await asyncio.sleep(baseline_seconds)
    baseline.stop.set()
    await running

    ring = bench_key_ring(NEW_MASTER_KEY, previous=MASTER_KEY)
    engine = create_engine(database)
    maker = session_factory(engine)
    during = _Load(servers, applicants)
    during._next_new = len(baseline.new_residents)
    try:
        running = asyncio.create_task(during.run(clerk, concurrency, seed=2))
        began = time.perf_counter()
        rewrapped = await rewrap(maker, ring, "fuquan bench keys")
        rewrap_seconds = time.perf_counter() - began
        report = await rotate_data_key(
            maker, ring, NINGXIA, actor="fuquan bench keys", grace_seconds=GRACE_SECONDS, batch_size=batch
        )
        rotation_seconds = time.perf_counter() - began
        during.stop.set()
        await running
    finally:
        await engine.dispose()
    if not only_under(report.remaining, report.new_key):
        raise BenchmarkError(f"values left under old keys: {report.remaining}")
    reencrypt_seconds = report.seconds - 2 * GRACE_SECONDS
    reencrypt = {
        "new_data_key": report.new_key, "retired": report.retired, "rows": report.rows, "values": report.values,
        "passes": report.passes, "seconds": round(reencrypt_seconds, 2),
        "values_per_second": round(report.values / reencrypt_seconds) if reencrypt_seconds > 0 else None,
        "grace_seconds_per_step": GRACE_SECONDS,
    }  # fmt: skip
    return {
        "baseline": baseline.figures(baseline_seconds),
        "during_rotation": during.figures(rotation_seconds),
        "rewrap": {"data_keys": rewrapped.rewrapped, "seconds": round(rewrap_seconds, 3)},
        "reencrypt": reencrypt,
        "rotation_seconds": round(rotation_seconds, 2),
        "new_residents": len(baseline.new_residents) + len(during.new_residents),
    }


async def _read_back(database: str, applicants: int, new_residents: int) -> dict[str, Any]:
    """Every applicant decrypted with the new master key alone, compared with what was stored."""
    expected = {}
    for index in range(applicants + new_residents):
        number, name, phone = person(index)
        expected[number] = (name, phone)
    engine = create_engine(database)
    maker = session_factory(engine)
    unreadable = mismatched = fields = rows = 0
    try:
        ring = bench_key_ring(NEW_MASTER_KEY, secret="not-the-secret-key")  # noqa: S106 - format 1 must not be read
        context = applicant_context("64")
        async with own_session(maker, writes=False) as session:
            cipher = await ring.cipher(NINGXIA, session)
            stored = await session.stream(
                select(Applicant.id_cipher, Applicant.name_cipher, Applicant.phone_cipher).where(
                    Applicant.tenant_id == NINGXIA.tenant_id
                )
            )
            async for id_cipher, name_cipher, phone_cipher in stored:
                rows += 1
                try:
                    fields += 3
                    values = [cipher.decrypt(blob, context=context) for blob in (id_cipher, name_cipher, phone_cipher)]
                except DecryptionFailed:
                    unreadable += 1
                    continue
                mismatched += expected.get(values[0]) != (values[1], values[2])
        counts = await key_counts(maker, NINGXIA, ring.encrypted)
    finally:
        await engine.dispose()
    return {
        "applicants": rows, "fields_read": fields, "unreadable": unreadable, "mismatched": mismatched,
        "values_by_data_key": {column: {str(key): n for key, n in by_key.items()} for column, by_key in counts.items()},
    }  # fmt: skip


def run_keys_benchmark(
    database_url: str,
    *,
    redis_url: str | None,
    applicants: int = 100_000,
    concurrency: int = 2,
    baseline_seconds: float = 10.0,
    batch: int = 1000,
    data_dir: Path,
) -> dict[str, Any]:
    """The figures (see the module's docstring) as a JSON-able dict."""
    from fuquan.platform.migrations.runner import upgrade

    if not 1 <= applicants <= MAX_APPLICANTS:
        raise ValueError(f"applicants must be between 1 and {MAX_APPLICANTS}")
    data_dir.mkdir(parents=True, exist_ok=True)
    with bench_database(database_url, data_dir, "keys") as database:
        upgrade(database)
        asyncio.run(seed_database(database))
        fill_seconds = asyncio.run(_fill(database, applicants))
        common = {"FUQUAN_DATABASE_URL": database, "FUQUAN_SECRET_KEY": SECRET_KEY,
                  "FUQUAN_MASTER_KEY": NEW_MASTER_KEY, "FUQUAN_PREVIOUS_MASTER_KEYS": MASTER_KEY,
                  "FUQUAN_POLICY_CATCH_UP_SECONDS": str(CATCH_UP_SECONDS), "FUQUAN_LOG_LEVEL": "WARNING",
                  "FUQUAN_LOGIN_ATTEMPTS_PER_MINUTE": "1000000", "FUQUAN_REDIS_URL": redis_url or "",
                  "FUQUAN_REDIS_NAMESPACE": f"fuquan-bench-keys-{os.getpid()}-{time.monotonic_ns()}"}  # fmt: skip
        with (
            serving([SERVE], {**common, "FUQUAN_DATA_DIR": str(data_dir / "one")}, data_dir) as [one],
            serving([SERVE], {**common, "FUQUAN_DATA_DIR": str(data_dir / "two")}, data_dir) as [two],
        ):
            figures = asyncio.run(
                _rotate_under_load([one, two], database, applicants, concurrency, baseline_seconds, batch)
            )
        verified = asyncio.run(_read_back(database, applicants, figures["new_residents"]))
    return {
        "backend": database_url.split(":", 1)[0].split("+", maxsplit=1)[0], "processes": 2,
        "applicants_stored": applicants, "fill_seconds": round(fill_seconds, 1), **figures, "read_back": verified,
    }  # fmt: skip
