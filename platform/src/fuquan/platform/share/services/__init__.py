"""共享应用 and what they may ask: the applications and keys (``apps``), the grants of data (``grants``), single-use
nonces (``nonces``)."""

from fuquan.platform.share.services.apps import (
    DEFAULT_OVERLAP,
    AppDraft,
    AppState,
    IssuedKey,
    KeyState,
    SigningKey,
    applications,
    register,
    resume,
    rotate_key,
    suspend,
)
from fuquan.platform.share.services.grants import (
    Access,
    DataNotGranted,
    GrantDraft,
    access,
    grant,
    grants,
    revoke_grant,
)
from fuquan.platform.share.services.nonces import NONCE_RETENTION, forget_old_nonces, use_nonce

__all__ = [
    "DEFAULT_OVERLAP",
    "NONCE_RETENTION",
    "Access",
    "AppDraft",
    "AppState",
    "DataNotGranted",
    "GrantDraft",
    "IssuedKey",
    "KeyState",
    "SigningKey",
    "access",
    "applications",
    "forget_old_nonces",
    "grant",
    "grants",
    "register",
    "resume",
    "revoke_grant",
    "rotate_key",
    "suspend",
    "use_nonce",
]
