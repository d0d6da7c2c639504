"""检查点: signed statements of each chain's head, kept outside the database, so a chain cut short is caught.

Every process writes one for each chain whose head moved, every ``FUQUAN_AUDIT_CHECKPOINT_SECONDS`` (and
``fuquan audit checkpoint`` on demand), to a directory (default ``data_dir/audit-checkpoints``) or an object store
(``s3://bucket/prefix``; give that bucket object lock / WORM retention, so the database's administrators cannot
delete checkpoints either). A checkpoint is ``chain``, ``seq``, the head's ``hash``, when it was written and an
HMAC-SM3 signature under the audit key (named by its id): whoever can rewrite the database but holds no audit key
can neither forge one nor make a shortened or recomputed chain agree with one. Records sealed after the last
checkpoint are protected by the keyed chain alone until the next one.

One object per checkpoint, ``chain-<chain>/<seq>.json``: several processes writing the same head write the same
name, and nothing is ever appended to or rewritten in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import obstore
import structlog
from obstore.store import LocalStore, S3Store
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.audit.keys import AuditKeys, UnknownAuditKey
from fuquan.platform.core.audit.repositories import AuditRepository
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import own_session

log = structlog.get_logger()

_SEQ_DIGITS = 15  # names sort as numbers


class Checkpoint(msgspec.Struct, frozen=True, kw_only=True):
    chain: int
    seq: int
    hash: str
    written_at: datetime
    key: str  # the audit key's id
    signature: str = ""

    def signed_part(self) -> bytes:
        return f"fuquan-audit-checkpoint|{self.chain}|{self.seq}|{self.hash}|{self.written_at.isoformat()}".encode()

    def signed(self, keys: AuditKeys) -> Checkpoint:
        return msgspec.structs.replace(self, signature=keys.mac(self.signed_part(), self.key))

    def signature_holds(self, keys: AuditKeys) -> bool:
        """Whether the signature is this checkpoint's under its key; False also when the key is unknown."""
        try:
            return keys.mac(self.signed_part(), self.key) == self.signature
        except UnknownAuditKey:
            return False

    def where(self) -> str:
        return f"检查点 chain-{self.chain}/{self.seq}（{self.written_at:%Y-%m-%d %H:%M:%S} UTC）"


class UnreadableCheckpoint(msgspec.Struct, frozen=True):
    """A checkpoint object that is not a checkpoint any more (edited by hand, truncated)."""

    chain: int
    path: str


_decode = msgspec.json.Decoder(Checkpoint).decode
_encode = msgspec.json.Encoder().encode


class CheckpointStore:
    """Where checkpoints are kept: an obstore store (a local directory or S3-compatible object storage)."""

    def __init__(self, store: LocalStore | S3Store, where: str) -> None:
        self._store = store
        self.where = where

    @classmethod
    def at(cls, location: str, config: Mapping[str, Any] | None = None) -> CheckpointStore:
        """A directory, or ``s3://bucket/prefix`` (endpoint and credentials from ``AWS_*``, or ``config``)."""
        if location.startswith("s3://"):
            return cls(S3Store.from_url(location, **dict(config or {})), location)
        Path(location).mkdir(parents=True, exist_ok=True)
        return cls(LocalStore(location, mkdir=True), location)

    @classmethod
    def from_settings(cls, settings: Settings) -> CheckpointStore:
        return cls.at(settings.audit_checkpoints or str(settings.data_dir / "audit-checkpoints"))

    async def write(self, checkpoint: Checkpoint) -> None:
        path = f"chain-{checkpoint.chain}/{checkpoint.seq:0{_SEQ_DIGITS}d}.json"
        await obstore.put_async(self._store, path, _encode(checkpoint))

    async def read(self) -> tuple[dict[int, list[Checkpoint]], list[UnreadableCheckpoint]]:
        """Every chain's checkpoints in order of ``seq``, and the objects that do not read as one."""
        found: dict[int, list[Checkpoint]] = {}
        unreadable: list[UnreadableCheckpoint] = []
        async for batch in obstore.list(self._store):  # a prefix matches whole path segments only
            for entry in batch:
                path = entry["path"]
                chain = _chain_of(path)
                if chain is None:
                    continue
                data = bytes(await (await obstore.get_async(self._store, path)).bytes_async())
                try:
                    checkpoint = _decode(data)
                except msgspec.DecodeError:
                    unreadable.append(UnreadableCheckpoint(chain, path))
                    continue
                found.setdefault(chain, []).append(checkpoint)
        for checkpoints in found.values():
            checkpoints.sort(key=lambda checkpoint: checkpoint.seq)
        return found, unreadable


def _chain_of(path: str) -> int | None:
    folder = path.split("/", 1)[0].removeprefix("chain-")
    return int(folder) if folder.isdigit() else None


async def write_checkpoints(
    session_maker: async_sessionmaker[AsyncSession],
    keys: AuditKeys,
    store: CheckpointStore,
    already: dict[int, int] | None = None,
) -> list[Checkpoint]:
    """A signed checkpoint of every chain's head, except those still at the ``seq`` that ``already`` says was
    written (updated in place: the caller's memory of what it wrote)."""
    async with own_session(session_maker, writes=False) as session:
        heads = await AuditRepository(session).heads()
    written: list[Checkpoint] = []
    now = datetime.now(UTC)
    for head in heads:
        if head.seq == 0 or (already is not None and already.get(head.chain) == head.seq):
            continue
        checkpoint = Checkpoint(chain=head.chain, seq=head.seq, hash=head.hash, written_at=now, key=keys.current_id)
        await store.write(checkpoint.signed(keys))
        written.append(checkpoint)
        if already is not None:
            already[head.chain] = head.seq
    if written:
        log.info("audit_checkpoints_written", chains=len(written), where=store.where)
    return written
