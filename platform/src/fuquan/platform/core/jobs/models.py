"""Claims of periodic job slots: the row is the claim, so each slot runs once across replicas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from fuquan.platform.core.db import Base, JsonB


class JobRun(Base):
    """One run of a once-per-slot job: ``slot`` is the start of the slot in whole seconds since the epoch
    divided by the job's period. Whoever inserts the row runs the job; the others see it and skip."""

    __tablename__ = "job_run"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    owner: Mapped[str] = mapped_column(String(128))  # host:pid of the process that ran it
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(16))  # running | success | failure
    detail: Mapped[dict[str, Any]] = mapped_column(JsonB, default=dict)
