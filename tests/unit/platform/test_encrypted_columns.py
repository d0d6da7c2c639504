"""Every column that holds ciphertexts is known to key rotation (``migrations.keys.ENCRYPTED_COLUMNS``): one left
out would keep its old data key for ever, and fail to decrypt once that key is destroyed."""

from __future__ import annotations

from fuquan.platform.migrations.keys import ENCRYPTED_COLUMNS
from fuquan.platform.migrations.metadata import metadata


def test_every_cipher_column_is_re_encrypted_by_key_rotation() -> None:
    ciphers = {(table.name, column.name) for table in metadata.tables.values() for column in table.columns
               if column.name.endswith("_cipher")}  # fmt: skip
    known = {(described.table.name, column) for described in ENCRYPTED_COLUMNS for column in described.columns}
    assert ciphers == known
    assert ("share_key", "secret_cipher") in known
