"""Every model, imported so the metadata Alembic compares against is complete."""

from __future__ import annotations

from fuquan.authority import models as authority_models
from fuquan.integrations import models as integration_models
from fuquan.platform.accounts import models as account_models
from fuquan.platform.calendar import models as calendar_models
from fuquan.platform.cases import models as case_models
from fuquan.platform.catalog import models as catalog_models
from fuquan.platform.certificates import models as certificate_models
from fuquan.platform.core.audit import models as audit_models
from fuquan.platform.core.db import Base
from fuquan.platform.core.jobs import models as job_models
from fuquan.platform.core.keys import models as key_models
from fuquan.platform.core.versions import models as version_models
from fuquan.platform.escalations import models as escalation_models
from fuquan.platform.notifications import models as notification_models
from fuquan.platform.organs import models as organ_models
from fuquan.platform.share import models as share_models
from fuquan.platform.supervision import models as supervision_models
from fuquan.tenants import models as tenant_models

MODEL_MODULES = (
    tenant_models,
    catalog_models,
    account_models,
    audit_models,
    job_models,
    version_models,
    key_models,
    authority_models,
    calendar_models,
    case_models,
    integration_models,
    share_models,
    notification_models,
    escalation_models,
    supervision_models,
    organ_models,
    certificate_models,
)
metadata = Base.metadata
