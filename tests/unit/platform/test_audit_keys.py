"""The audit key's configuration: its own key, or one derived from the secret key; ids name keys, not reveal them."""

from __future__ import annotations

from pathlib import Path

import pytest

from fuquan.platform.core.audit.keys import AuditKeys, UnknownAuditKey, audit_key_id, derived_audit_key
from fuquan.platform.core.config import load_settings


def test_an_audit_key_of_its_own_or_one_derived_from_the_secret_key(tmp_path: Path) -> None:
    base = {"FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_SECRET_KEY": "s" * 64, "FUQUAN_MASTER_KEY": "m" * 64}
    derived = AuditKeys.from_settings(load_settings(base))
    assert derived.current_id == audit_key_id(derived_audit_key("s" * 64))
    assert derived_audit_key("s" * 64) not in {"s" * 64, "m" * 64}  # never the secret key itself
    (tmp_path / "audit.key").write_text("a-mounted-audit-key\n")
    mounted = AuditKeys.from_settings(load_settings({**base, "FUQUAN_AUDIT_KEY_FILE": str(tmp_path / "audit.key")}))
    assert mounted.current_id == audit_key_id("a-mounted-audit-key")
    rotated = load_settings({**base, "FUQUAN_AUDIT_KEY": "new", "FUQUAN_PREVIOUS_AUDIT_KEYS": " old1, old2 ,"})
    keys = AuditKeys.from_settings(rotated)
    assert rotated.previous_audit_keys == ("old1", "old2")
    assert keys.current_id == audit_key_id("new") and keys.knows(audit_key_id("old2"))


def test_a_mac_names_its_key_and_an_unknown_key_is_refused() -> None:
    keys = AuditKeys("current", previous=["earlier"])
    data = b"prev|record"
    assert keys.mac(data) == keys.mac(data, audit_key_id("current")) != keys.mac(data, audit_key_id("earlier"))
    assert len(audit_key_id("current")) == 16 and "current" not in audit_key_id("current")
    with pytest.raises(UnknownAuditKey):
        keys.mac(data, audit_key_id("never-given"))
    with pytest.raises(ValueError, match="audit key"):
        AuditKeys("")
