"""谁用了我的数据: the partner departments' answered calls about a case's applicant over the last 12 months, as the
resident sees them on the public progress page — department, application, dataset, purpose, when, and the
partner's operator masked. Opened with the case's receipt number and query code, like the progress itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.cases.services.public import public_case
from fuquan.platform.core.timeutil import local_time, utcnow
from fuquan.platform.share.repositories import ShareCallRepository, SubjectRepository
from fuquan.platform.share.schemas import DATASETS, PURPOSES

WINDOW: Final = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class DataUse:
    at: str  # local time
    department: str
    application: str
    dataset: str
    purpose: str
    operator: str  # masked


def _masked(operator: str) -> str:
    return operator[:2] + "***" if len(operator) > 2 else "***"


async def data_uses(session: AsyncSession, receipt_no: str, code: str) -> list[DataUse]:
    """The uses of the applicant's data, newest first; NotFound for a wrong pair, as the progress page."""
    case, scope = await public_case(session, receipt_no, code)
    index = await SubjectRepository(session).applicant_index(case.applicant_id)
    calls = await ShareCallRepository(session).about(scope, index, utcnow() - WINDOW)
    return [
        DataUse(
            at=local_time(call.at, scope.timezone),
            department=app.department,
            application=app.name,
            dataset=DATASETS[call.dataset].title if call.dataset in DATASETS else call.dataset,
            purpose=PURPOSES.get(call.purpose, call.purpose),
            operator=_masked(call.operator),
        )
        for call, app in calls
    ]
