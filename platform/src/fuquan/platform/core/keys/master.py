"""主密钥 (master keys): what wraps every tenant's data keys, and is never stored with them (DESIGN §10).

The current master key wraps; previous ones are still accepted for unwrapping until ``fuquan keys rotate`` has
re-wrapped everything under the current one. A master key is known by its id, a one-way fingerprint: the
database records which master wrapped each data key without holding anything that helps to guess it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MIN_MASTER_KEY_LENGTH: Final = 32  # characters: `openssl rand -hex 32` gives 64
_SALT: Final = b"fuquan/master/v1"
_NONCE_BYTES: Final = 12
_TAG_BYTES: Final = 16


class MasterKeyMissing(Exception):
    """A data key was wrapped by a master key this process was not given (or the wrapped key was altered)."""


def _derive(secret: str, info: bytes, length: int) -> bytes:
    return HKDF(hashes.SM3(), length=length, salt=_SALT, info=info).derive(secret.encode())


@dataclass(frozen=True, slots=True, repr=False)
class MasterKey:
    """One master key: its fingerprint (``id``) and the SM4 key-encryption key derived from it."""

    id: str
    _kek: bytes = field(compare=False)

    @classmethod
    def of(cls, secret: str) -> MasterKey:
        secret = secret.strip()
        if len(secret) < MIN_MASTER_KEY_LENGTH:
            raise ValueError(
                f"a master key needs at least {MIN_MASTER_KEY_LENGTH} characters (e.g. `openssl rand -hex 32`)"
            )
        return cls(id=_derive(secret, b"fuquan/master/id", 8).hex(), _kek=_derive(secret, b"fuquan/master/kek", 16))

    def __repr__(self) -> str:
        return f"MasterKey(id={self.id!r})"

    def wrap(self, key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self._kek), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad)
        return nonce + encryptor.update(key) + encryptor.finalize() + encryptor.tag

    def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        nonce, body, tag = wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:-_TAG_BYTES], wrapped[-_TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(self._kek), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(aad)
        try:
            return decryptor.update(body) + decryptor.finalize()
        except InvalidTag:
            raise MasterKeyMissing(f"a data key wrapped by master key {self.id} does not check out") from None


@dataclass(frozen=True, slots=True)
class MasterKeys:
    """The current master key, and the previous ones still accepted while a rotation is under way."""

    current: MasterKey
    previous: tuple[MasterKey, ...] = ()

    @classmethod
    def of(cls, current: str, previous: Iterable[str] = ()) -> MasterKeys:
        current_key = MasterKey.of(current)
        return cls(current_key, tuple(key for key in map(MasterKey.of, previous) if key.id != current_key.id))

    def by_id(self, master_id: str) -> MasterKey:
        for key in (self.current, *self.previous):
            if key.id == master_id:
                return key
        raise MasterKeyMissing(
            f"数据密钥由主密钥 {master_id} 加密，本进程未配置该主密钥：请在 FUQUAN_PREVIOUS_MASTER_KEYS 中提供它，"
            f"运行 fuquan keys rotate 后即可移除"
        )

    def unwrap(self, master_id: str, wrapped: bytes, aad: bytes) -> bytes:
        return self.by_id(master_id).unwrap(wrapped, aad)
