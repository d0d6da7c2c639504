"""Uploaded materials in S3-compatible object storage (MinIO, a cloud's OSS/COS/OBS, AWS S3), for processes
that share no disk: ``FUQUAN_FILES_URL=s3://bucket/prefix``.

Keys are content-addressed as in ``LocalFileStore``. The endpoint and credentials come from the standard
``AWS_*`` variables (``AWS_ENDPOINT``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``), which
obstore (a maintained binding of Rust's ``object_store``) reads itself. Each upload carries its SHA-256
(``x-amz-checksum-sha256``), so the server refuses bytes that changed on the way; the stored size is checked
after the upload, and every read is hashed again.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import obstore
import structlog
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from fuquan.platform.core.errors import FuquanError, NotFound
from fuquan.platform.core.files import StoredFile, StoredFileCorrupted, file_key, validate_key

log = structlog.get_logger()

_CLIENT = {"timeout": "30s", "connect_timeout": "5s"}
_RETRY = {"max_retries": 3, "retry_timeout": timedelta(seconds=20)}


class FileStoreUnavailable(FuquanError):
    """The object store did not answer or did not keep what was sent: nothing was recorded, try again."""

    status = 503
    title = "材料存储暂不可用"
    type_slug = "file-store-unavailable"


class ObjectFileStore:
    def __init__(self, store: S3Store) -> None:
        self._store = store

    @classmethod
    def from_url(cls, url: str, config: Mapping[str, Any] | None = None) -> ObjectFileStore:
        """``s3://bucket/prefix``; ``config`` overrides what the ``AWS_*`` environment gives (tests, CLI)."""
        settings = dict(config or {})
        endpoint = str(
            settings.get("endpoint") or os.environ.get("AWS_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL", "")
        )
        client = {**_CLIENT, "allow_http": endpoint.startswith("http://")}  # MinIO inside a cluster speaks plain HTTP
        return cls(S3Store.from_url(url, client_options=client, retry_config=_RETRY,  # type: ignore[arg-type]
                                    checksum_algorithm="sha256", **settings))  # fmt: skip

    async def put(self, data: bytes, *, content_type: str) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        key = file_key(digest)
        stored = StoredFile(key=key, sha256=digest, size=len(data), content_type=content_type)
        try:
            if await self._size(key) == len(data):
                return stored  # already there: identical content, identical key
            await obstore.put_async(self._store, key, data, attributes={"Content-Type": content_type})
            kept = await self._size(key)
        except BaseError as error:
            raise self._unavailable("put", error) from error
        if kept != len(data):
            log.error("file_store_size_mismatch", key=key, sent=len(data), kept=kept)
            raise FileStoreUnavailable("材料存储未完整保存该文件，请重新上传", rule="file_store_incomplete")
        log.info("file_stored", key=key, size=len(data))
        return stored

    async def get(self, key: str) -> bytes:
        digest = validate_key(key)
        try:
            found = await obstore.get_async(self._store, key)
            data = bytes(await found.bytes_async())
        except (FileNotFoundError, NotFoundError):
            raise NotFound("材料文件不存在", rule="file_missing") from None
        except BaseError as error:
            raise self._unavailable("get", error) from error
        if hashlib.sha256(data).hexdigest() != digest:
            log.error("file_corrupted", key=key)
            raise StoredFileCorrupted("材料文件已损坏，请联系管理员并请申请人重新上传", rule="file_corrupted")
        return data

    async def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            return await self._size(key) is not None
        except BaseError as error:
            raise self._unavailable("head", error) from error

    async def check(self) -> None:
        """Raise ``FileStoreUnavailable`` unless the bucket answers (for ``/ready``)."""
        try:
            await self._size("ready-check")
        except BaseError as error:
            raise self._unavailable("ready", error) from error

    async def _size(self, key: str) -> int | None:
        try:
            meta = await obstore.head_async(self._store, key)
        except (FileNotFoundError, NotFoundError):
            return None
        return int(meta["size"])

    @staticmethod
    def _unavailable(operation: str, error: Exception) -> FileStoreUnavailable:
        log.warning("file_store_unavailable", operation=operation, error=str(error).splitlines()[0][:300])
        return FileStoreUnavailable(
            "材料存储暂时无法访问，本次未保存任何内容，请稍后重试", rule="file_store_unavailable"
        )
