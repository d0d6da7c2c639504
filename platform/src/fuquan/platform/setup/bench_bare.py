"""The floor the case benchmark measures against: a bare Litestar app doing only the durable work of an intake.

``POST /intake`` looks up the bearer token's digest and writes three rows through the ORM in one transaction
(a case, its applicant, its audit record stand-ins), on the same database and with the same engine settings
as the app; ``POST /verify`` is the data-sharing benchmark's floor, unsigned: it reads a JSON body naming an ID
number and answers from one indexed row found by the number's hash (``bench_bare_person``, filled by
``BARE_PEOPLE`` numbers given at start); ``GET /ping`` answers without any work. Its tables (``bench_bare_*``)
live in their own metadata, so the benchmark's temporary database is the only place they exist.

Served by ``python -c "…bench_bare import main; main()" --port P`` with ``FUQUAN_DATABASE_URL`` set.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any

import click
import msgspec
from litestar import Litestar, Request, get, post
from litestar.exceptions import NotAuthorizedException
from sqlalchemy import JSON, DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fuquan.platform.core.db import BigId, create_engine, session_factory

__all__ = ["BARE_TOKEN", "bare_app", "main"]

BARE_TOKEN = "bench-bare-token"  # noqa: S105 - a throwaway token for a throwaway table


class _Base(DeclarativeBase):
    pass


class BareToken(_Base):
    __tablename__ = "bench_bare_token"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff: Mapped[str] = mapped_column(String(64))


class BareCase(_Base):
    __tablename__ = "bench_bare_case"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff: Mapped[str] = mapped_column(String(64))
    form: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BarePerson(_Base):
    __tablename__ = "bench_bare_person"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    registered: Mapped[bool]
    since: Mapped[str] = mapped_column(String(10))


class BareRecord(_Base):
    __tablename__ = "bench_bare_record"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("bench_bare_case.id"))
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[dict[str, object]] = mapped_column(JSON)


def bare_app(database_url: str) -> Litestar:
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    async def prepare() -> None:
        async with engine.begin() as connection:
            await connection.run_sync(_Base.metadata.create_all)
        async with sessions() as session, session.begin():
            digest = hashlib.sha256(BARE_TOKEN.encode()).hexdigest()
            if await session.get(BareToken, digest) is None:
                session.add(BareToken(digest=digest, staff="bench"))
            for number in filter(None, os.environ.get("BARE_PEOPLE", "").split(",")):
                await session.merge(BarePerson(digest=_digest(number), registered=True, since="2026-03-02"))

    @get("/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    @post("/intake", status_code=201)
    async def intake(request: Request[Any, Any, Any]) -> dict[str, int]:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        async with sessions() as session, session.begin():
            found = await session.get(BareToken, hashlib.sha256(token.encode()).hexdigest())
            if found is None:
                raise NotAuthorizedException("unknown token")
            case = BareCase(staff=found.staff, form={"item": "HRSS-04"}, created_at=datetime.now(UTC))
            session.add(case)
            await session.flush()
            session.add_all([
                BareRecord(case_id=case.id, kind="applicant", body={"name": "x"}),
                BareRecord(case_id=case.id, kind="audit", body={"action": "case.create"}),
            ])  # fmt: skip
        return {"id": case.id}

    @post("/verify", status_code=200)
    async def verify(request: Request[Any, Any, Any]) -> dict[str, Any]:
        query = msgspec.json.decode(await request.body())
        async with sessions() as session:
            person = await session.get(BarePerson, _digest(str(query["id_number"])))
        if person is None:
            return {"code": "00", "msg": "", "data": {"registered": False, "since": None}}
        return {"code": "00", "msg": "", "data": {"registered": person.registered, "since": person.since}}

    return Litestar(route_handlers=[ping, intake, verify], on_startup=[prepare], on_shutdown=[engine.dispose])


def _digest(number: str) -> str:
    return hashlib.sha256(number.encode()).hexdigest()


@click.command()
@click.option("--port", type=int, required=True)
def main(port: int) -> None:  # pragma: no cover - run as a server process by the case benchmark
    import uvicorn

    # the settings of `fuquan serve`: default loop and HTTP implementation (uvloop and httptools), no access log
    uvicorn.run(
        bare_app(os.environ["FUQUAN_DATABASE_URL"]), host="127.0.0.1", port=port, log_level="warning",
        access_log=False,
    )  # fmt: skip
