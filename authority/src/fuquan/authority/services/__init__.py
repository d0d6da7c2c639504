"""Authority verbs: delegate (赋权), revoke (撤销), check and explain, matrix.

Rules of DESIGN §6.1, each with the name a 4xx answer carries when it is broken:
``target_below_grantor``, ``floor``, ``grantor_holds``, ``redelegable``,
``target_in_parent_scope``, ``within_parent_window``, ``window_order``.

One module per concern — ``reads`` (specs, status, read model, compiled lines), ``delegation``,
``revocation``, ``checks`` (check/explain, matrix, the questions cases ask) and ``policy`` (the
starting role policy) — imported here so callers keep writing ``services.delegate``.
"""

from fuquan.authority.services.checks import (
    MAX_MATRIX_UNITS,
    Decision,
    check,
    deciding_grants,
    matrix,
    nearest_holder,
    roles_permit,
    unit_may,
)
from fuquan.authority.services.delegation import Window, delegate, delegate_many
from fuquan.authority.services.policy import DEFAULT_ROLE_ACTIONS, default_role_lines, initialise_policy
from fuquan.authority.services.reads import ACTION_NAMES, STATUTORY, grant_read, spec_of, status_of
from fuquan.authority.services.revocation import RevocationPreview, revocation_preview, revoke

__all__ = [
    "ACTION_NAMES",
    "DEFAULT_ROLE_ACTIONS",
    "MAX_MATRIX_UNITS",
    "STATUTORY",
    "Decision",
    "RevocationPreview",
    "Window",
    "check",
    "deciding_grants",
    "default_role_lines",
    "delegate",
    "delegate_many",
    "grant_read",
    "initialise_policy",
    "matrix",
    "nearest_holder",
    "revocation_preview",
    "revoke",
    "roles_permit",
    "spec_of",
    "status_of",
    "unit_may",
]
