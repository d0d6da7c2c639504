"""Case verbs: create (收件), move along the transition table (受理、审批、出件…), and read.

Every transition is authorised four ways (DESIGN §6.2): the acting unit is the case's front
desk or its deciding unit; the unit holds an effective grant for the right the step needs; one
of the person's roles permits it; and, for items with 受审分离, the acceptor does not decide.
Each step writes its trace event and audit record in the same transaction.

One module per concern — ``context`` (what every verb shares), ``intake`` (收件), ``workflow``
(transitions), ``materials``, ``partners`` (materials from shared data), ``applicants`` (reveal with
purpose), ``forms`` (申请表: checked against the item's fields, personal values sealed), ``reads`` (the
API's representations), ``documents`` (receipts and notices), ``public`` (the resident's progress and
rating) and ``receipts`` (numbers and query codes); the verbs are imported here so callers keep writing
``services.transition``. All SQL is in ``cases.repositories``.
"""

from fuquan.platform.cases.services.applicants import reveal_applicant
from fuquan.platform.cases.services.context import RIGHT_NAMES, CaseContext, CaseServices, PartnerAccess
from fuquan.platform.cases.services.extension import extend
from fuquan.platform.cases.services.intake import create_case
from fuquan.platform.cases.services.materials import attach_upload, set_material
from fuquan.platform.cases.services.workflow import ASKING_AGAIN, revoke_decision, transition

__all__ = [
    "ASKING_AGAIN",
    "RIGHT_NAMES",
    "CaseContext",
    "CaseServices",
    "PartnerAccess",
    "attach_upload",
    "create_case",
    "extend",
    "reveal_applicant",
    "revoke_decision",
    "set_material",
    "transition",
]
