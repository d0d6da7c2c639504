"""Every process's audit sealer: chains the records its own transactions commit at once, and whatever any
other process or command left unsealed within ``interval`` seconds; and every ``checkpoint_every`` seconds writes
a signed checkpoint of each chain whose head moved (``core.audit.checkpoints``)."""

from __future__ import annotations

import anyio
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.platform.core.audit.checkpoints import CheckpointStore, write_checkpoints
from fuquan.platform.core.audit.keys import AuditKeys
from fuquan.platform.core.audit.services import seal, sealer_alarm

log = structlog.get_logger()


class Sealer:
    def __init__(
        self,
        session_maker: async_sessionmaker[AsyncSession],
        keys: AuditKeys,
        checkpoints: CheckpointStore | None = None,
        *,
        interval: float = 1.0,
        gather: float = 0.2,
        checkpoint_every: float = 300.0,
    ) -> None:
        self._session_maker = session_maker
        self._keys = keys
        self._checkpoints = checkpoints
        self._interval = interval
        self._gather = gather
        self._checkpoint_every = checkpoint_every
        self._checkpointed: dict[int, int] = {}  # chain -> the seq of the last checkpoint this process wrote

    async def run(self) -> None:
        """Until cancelled. Wakes when a transaction of this process with audit records commits (records
        committed while it seals wake it again), else every ``interval``; a failed round is retried. Once
        woken it lets ``gather`` seconds of commits pile up: under load one round seals many requests'
        records, not one each. A round woken by this process's commits seals the chains they wrote; at least
        every ``interval`` a round looks for every chain's unsealed records (another process's, a command's,
        a failed round's)."""
        alarm = sealer_alarm()
        looked_everywhere = checkpointed = anyio.current_time()
        while True:
            with anyio.move_on_after(self._interval):
                await alarm.rung.wait()
            await anyio.sleep(self._gather)
            chains: set[int] | None = alarm.take()  # before sealing: a commit from now on rings for the next round
            if anyio.current_time() - looked_everywhere >= self._interval:
                chains, looked_everywhere = None, anyio.current_time()
            try:
                with anyio.CancelScope(shield=True):  # never cancel a transaction half-way (see own_session)
                    await seal(self._session_maker, self._keys, chains=chains)
            except Exception:
                log.exception("audit_sealing_failed", retry_in_seconds=self._interval)
            if self._checkpoints is not None and anyio.current_time() - checkpointed >= self._checkpoint_every:
                checkpointed = anyio.current_time()
                try:
                    await write_checkpoints(self._session_maker, self._keys, self._checkpoints, self._checkpointed)
                except Exception:  # the store is down: the chain is still keyed, and the next round tries again
                    log.exception("audit_checkpoint_failed", where=self._checkpoints.where)
