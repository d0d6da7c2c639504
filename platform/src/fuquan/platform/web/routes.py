"""Every page controller of the web UI, registered together by the app factory."""

from __future__ import annotations

from fuquan.platform.web.accountability.controllers import AccountabilityPagesController
from fuquan.platform.web.audit.controllers import AuditPagesController
from fuquan.platform.web.authority.controllers import AuthorityPagesController
from fuquan.platform.web.case.controllers import CasePagesController
from fuquan.platform.web.catalog.controllers import CatalogPagesController
from fuquan.platform.web.controllers import WebController
from fuquan.platform.web.desk.controllers import DeskController
from fuquan.platform.web.escalations.controllers import EscalationPagesController
from fuquan.platform.web.follow_ups.controllers import FollowUpPagesController
from fuquan.platform.web.guide.controllers import (
    GuidePagesController,
    PolicyPagesController,
    PowerListPagesController,
)
from fuquan.platform.web.inbox.controllers import InboxPagesController
from fuquan.platform.web.intake.controllers import IntakeController
from fuquan.platform.web.orders.controllers import OrderPagesController
from fuquan.platform.web.performance.controllers import PerformancePagesController
from fuquan.platform.web.public.controllers import CertificateVerifyPageController, ProgressPagesController
from fuquan.platform.web.rankings.controllers import RankingPagesController
from fuquan.platform.web.share.controllers import SharePagesController
from fuquan.platform.web.sms.controllers import SmsPagesController
from fuquan.platform.web.staff.controllers import StaffPagesController
from fuquan.platform.web.supervision.controllers import SupervisionPagesController
from fuquan.platform.web.units.controllers import UnitPagesController

PAGE_CONTROLLERS = [
    WebController,
    IntakeController,
    DeskController,
    CasePagesController,
    AuthorityPagesController,
    SupervisionPagesController,
    OrderPagesController,
    AccountabilityPagesController,
    FollowUpPagesController,
    PerformancePagesController,
    RankingPagesController,
    StaffPagesController,
    UnitPagesController,
    CatalogPagesController,
    SharePagesController,
    AuditPagesController,
    InboxPagesController,
    EscalationPagesController,
    SmsPagesController,
    ProgressPagesController,
    CertificateVerifyPageController,
    GuidePagesController,
    PowerListPagesController,
    PolicyPagesController,
]
