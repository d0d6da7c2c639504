"""All SQL of supervision (电子监察), one module per concern: the dashboard, the warning job, 差评整改, 督办单 and
责任追究, performance and rankings. Every query is bounded by the caller's ``TenantScope``."""

from fuquan.platform.supervision.repositories.dashboard import (
    GOOD_RATING,
    RatingSums,
    StatusCount,
    SupervisionRepository,
    unit_of,
)
from fuquan.platform.supervision.repositories.follow_ups import FollowUpRepository
from fuquan.platform.supervision.repositories.orders import (
    AccountabilityRepository,
    OrderRepository,
    PeopleRepository,
)
from fuquan.platform.supervision.repositories.performance import STEP_ACTIONS, PerformanceRepository, Period
from fuquan.platform.supervision.repositories.rankings import RankingRepository
from fuquan.platform.supervision.repositories.warnings import RUNNING, Alarmed, WarningRepository

__all__ = [
    "GOOD_RATING", "RUNNING", "STEP_ACTIONS", "AccountabilityRepository", "Alarmed", "FollowUpRepository",
    "OrderRepository", "PeopleRepository", "PerformanceRepository", "Period", "RankingRepository", "RatingSums",
    "StatusCount", "SupervisionRepository", "WarningRepository", "unit_of",
]  # fmt: skip
