"""Appending to and verifying the hash chain: ``hash = SM3(prev_hash || canonical(record))``."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.core.audit.models import AuditRecord
from fuquan.platform.core.audit.repositories import GENESIS_HASH, AuditRepository
from fuquan.platform.core.crypto import sm3_hex
from fuquan.platform.core.errors import FuquanError

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """What happened, by whom, where; the chain fields are added on append."""

    action: str
    outcome: str = "success"
    tenant_id: int | None = None
    actor: str | None = None
    actor_id: int | None = None
    role: str | None = None
    unit: str | None = None
    resource: str | None = None
    purpose: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


_HASHED_FIELDS = (
    "chain", "seq", "tenant_id", "occurred_at", "actor", "actor_id", "role", "unit",
    "action", "resource", "purpose", "outcome", "request_id", "detail",
)  # fmt: skip


def canonical(record: AuditRecord) -> bytes:
    values: dict[str, Any] = {name: getattr(record, name) for name in _HASHED_FIELDS}
    occurred: datetime = values["occurred_at"]
    values["occurred_at"] = occurred.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, record: AuditRecord) -> str:
    return sm3_hex(prev_hash.encode() + canonical(record))


async def append(session: AsyncSession, entry: AuditEntry) -> AuditRecord:
    """Append in the caller's transaction; if this fails, the caller's action fails with it."""
    repository = AuditRepository(session)
    chain = entry.tenant_id or 0
    head = await repository.lock_head(chain)
    prev_hash = head.hash
    record = AuditRecord(
        chain=chain,
        seq=head.seq + 1,
        tenant_id=entry.tenant_id,
        occurred_at=datetime.now(UTC),
        actor=entry.actor,
        actor_id=entry.actor_id,
        role=entry.role,
        unit=entry.unit,
        action=entry.action,
        resource=entry.resource,
        purpose=entry.purpose,
        outcome=entry.outcome,
        request_id=entry.request_id,
        detail=entry.detail,
        prev_hash=prev_hash,
        hash="",
    )
    record.hash = chain_hash(prev_hash, record)
    repository.append(record, head)
    return record


@asynccontextmanager
async def rejections_audited(session: AsyncSession, entry: AuditEntry) -> AsyncIterator[None]:
    """Record a refused attempt even though the attempt itself writes nothing.

    On a domain error the half-done work is rolled back, the rejection is appended and
    committed on its own, and the error propagates to become the 4xx response.
    """
    try:
        yield
    except FuquanError as error:
        await session.rollback()
        detail = {**entry.detail, "reason": error.detail, "rule": error.rule, "status": error.status}
        tenant_id = entry.tenant_id or error.extra.get("audit_tenant_id")
        rejected = AuditEntry(**{**_as_dict(entry), "outcome": "rejected", "detail": detail, "tenant_id": tenant_id})
        await append(session, rejected)
        await session.commit()
        log.info("attempt_rejected", action=entry.action, rule=error.rule, status=error.status)
        raise


def _as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in AuditEntry.__slots__}


@dataclass(frozen=True, slots=True)
class ChainBreak:
    chain: int
    record_id: int | None
    seq: int | None
    problem: str


async def verify(session: AsyncSession) -> tuple[int, list[ChainBreak]]:
    """Recompute every chain; return the number of records checked and the first break per chain."""
    repository = AuditRepository(session)
    checked = 0
    breaks: list[ChainBreak] = []
    for chain in await repository.chains():
        expected_prev, expected_seq = GENESIS_HASH, 1
        broken: ChainBreak | None = None
        async for record in repository.records(chain):
            checked += 1
            if record.seq != expected_seq:
                problem = f"序号应为 {expected_seq}，实为 {record.seq}（记录被删除或顺序被调换）"
            elif record.prev_hash != expected_prev:
                problem = "前一哈希与链不符（记录被删除、插入或调换）"
            elif chain_hash(record.prev_hash, record) != record.hash:
                problem = "记录内容与其哈希不符（记录被篡改）"
            else:
                expected_prev, expected_seq = record.hash, expected_seq + 1
                continue
            broken = ChainBreak(chain, record.id, record.seq, problem)
            break
        head = await repository.head(chain)
        if broken is None and head is not None and (head.seq != expected_seq - 1 or head.hash != expected_prev):
            broken = ChainBreak(chain, None, expected_seq, "链尾记录缺失（最后的记录被删除）")
        if broken is not None:
            breaks.append(broken)
    return checked, breaks
