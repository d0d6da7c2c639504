"""Uploaded materials (申请材料: photos and PDFs) behind a small store interface.

``FileStore`` is what the case flow depends on; ``LocalFileStore`` keeps the bytes on the local
disk, content-addressed by SHA-256, so object storage can replace it later without touching
callers. ``sniff_upload`` decides what an upload really is from its bytes, never from the
declared content type or the file name.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import tempfile
import unicodedata
from functools import partial
from pathlib import Path
from typing import Protocol, runtime_checkable

import anyio.to_thread
import msgspec
import structlog

from fuquan.platform.core.errors import FuquanError, NotFound, ValidationFailed

log = structlog.get_logger()

__all__ = [
    "ACCEPTED_CONTENT_TYPES",
    "MAX_UPLOAD_BYTES",
    "FileStore",
    "LocalFileStore",
    "PayloadTooLarge",
    "StoredFile",
    "StoredFileCorrupted",
    "file_key",
    "sniff_upload",
    "validate_key",
]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ACCEPTED_CONTENT_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf"}
)
ACCEPTED_TYPES_TEXT = "只接受 JPG、PNG、WebP、HEIC 照片或 PDF 文件"

_DIR_MODE = 0o700
_FILE_MODE = 0o600
_CHUNK = 1024 * 1024
# ``sha256/ab/cd/<64 hex>``; fullmatch only (``$`` would let a trailing newline through)
_KEY_RE = re.compile(r"sha256/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")


class PayloadTooLarge(FuquanError):
    status = 413
    title = "上传内容过大"
    type_slug = "payload-too-large"


class StoredFileCorrupted(FuquanError):
    """The bytes on disk no longer hash to their key (disk fault or tampering)."""

    status = 500
    title = "材料文件已损坏"
    type_slug = "file-corrupted"


class StoredFile(msgspec.Struct, frozen=True):
    """What a store keeps for one upload; ``key`` is opaque to callers and stable for equal bytes."""

    key: str
    sha256: str
    size: int
    content_type: str


@runtime_checkable
class FileStore(Protocol):
    async def put(self, data: bytes, *, content_type: str) -> StoredFile: ...

    async def get(self, key: str) -> bytes: ...

    async def exists(self, key: str) -> bool: ...


def file_key(sha256_hex: str) -> str:
    return f"sha256/{sha256_hex[:2]}/{sha256_hex[2:4]}/{sha256_hex}"


def validate_key(key: str) -> str:
    """The key's SHA-256 hex, or ``ValidationFailed`` — before anything touches the filesystem."""
    match = _KEY_RE.fullmatch(key) if isinstance(key, str) else None
    if match is None or not match.group(3).startswith(match.group(1) + match.group(2)):
        raise ValidationFailed("材料文件编号格式不正确", rule="file_key")
    return match.group(3)


class LocalFileStore:
    """Content-addressed files under ``root`` (directories 0700, files 0600, created lazily).

    Writes go to a temporary file in the target directory and are renamed into place, so a
    reader never sees half a file; storing the same bytes twice is a no-op returning the same key.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    async def put(self, data: bytes, *, content_type: str) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        key = file_key(digest)
        await anyio.to_thread.run_sync(partial(self._write, key, digest, data))
        return StoredFile(key=key, sha256=digest, size=len(data), content_type=content_type)

    async def get(self, key: str) -> bytes:
        digest = validate_key(key)
        return await anyio.to_thread.run_sync(partial(self._read, key, digest))

    async def exists(self, key: str) -> bool:
        validate_key(key)
        return await anyio.to_thread.run_sync(self._path(key).is_file)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    # -- blocking parts, run in a worker thread --

    def _ensure_dirs(self, key: str) -> Path:
        if not self.root.is_dir():
            self.root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        directory = self.root
        for part in key.split("/")[:-1]:
            directory = directory / part
            try:
                directory.mkdir(mode=_DIR_MODE)
            except FileExistsError:
                continue
            os.chmod(directory, _DIR_MODE)  # mkdir's mode is narrowed by the umask; make it exact
        return directory

    def _write(self, key: str, digest: str, data: bytes) -> None:
        target = self._path(key)
        if target.is_file() and target.stat().st_size == len(data) and _file_sha256(target) == digest:
            return  # already stored: identical content, identical key
        directory = self._ensure_dirs(key)
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), _FILE_MODE)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_directory(directory)
        log.info("file_stored", key=key, size=len(data))

    def _read(self, key: str, digest: str) -> bytes:
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound("材料文件不存在", rule="file_missing") from None
        with os.fdopen(fd, "rb") as handle:
            data = handle.read()
        if hashlib.sha256(data).hexdigest() != digest:
            log.error("file_corrupted", key=key)
            raise StoredFileCorrupted("材料文件已损坏，请联系管理员并请申请人重新上传", rule="file_corrupted")
        return data


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable; not every platform can open a directory."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- what an upload really is --

_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs"})
_HEIF_BRANDS = frozenset({b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_EXTENSION_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "heic": "image/heic",
    "heif": "image/heif",
    "pdf": "application/pdf",
}


def _heif_type(data: bytes) -> str | None:
    """HEIC/HEIF: an ISO-BMFF ``ftyp`` box whose brands name HEIF (AVIF is not accepted)."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(data[0:4], "big")
    end = min(box_size, len(data)) if box_size >= 16 else 16
    major = data[8:12]
    brands = {major} | {data[i : i + 4] for i in range(16, end - 3, 4)}
    if major in _HEIC_BRANDS or (brands & _HEIC_BRANDS and not brands & _AVIF_BRANDS):
        return "image/heic"
    if major in _HEIF_BRANDS and not brands & _AVIF_BRANDS:
        return "image/heif"
    return None


def _detect(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[0:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return _heif_type(data)


def _human_size(size: int, *, round_up: bool) -> str:
    """``10 MB``, ``12.3 MB``; a size over a limit rounds up so it never reads as the limit itself."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            value = math.ceil(size * 10 / scale) / 10 if round_up else round(size / scale, 1)
            return f"{value:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} 字节"


def _display_name(filename: str | None) -> str | None:
    """The base name, without control characters, short enough for a message."""
    if not filename:
        return None
    base = re.split(r"[\\/]", filename)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    if not base:
        return None
    return base if len(base) <= 60 else base[:57] + "…"


def _claimed_type(declared_type: str | None, filename: str | None) -> str | None:
    """What the client says the file is (used only to word the message, never to accept)."""
    if declared_type:
        media = declared_type.split(";", 1)[0].strip().lower()
        if media in {"image/jpg", "image/pjpeg"}:
            media = "image/jpeg"
        if media in ACCEPTED_CONTENT_TYPES:
            return media
    if filename and "." in filename:
        return _EXTENSION_TYPES.get(filename.rsplit(".", 1)[-1].strip().lower())
    return None


def sniff_upload(
    data: bytes, declared_type: str | None, filename: str | None, *, max_bytes: int = MAX_UPLOAD_BYTES
) -> str:
    """The upload's real content type, judged by its magic bytes.

    Accepts JPEG, PNG, WebP, HEIC/HEIF (phone photos) and PDF. The declared type and the file
    name are never trusted: when they contradict the bytes, the bytes win, and bytes of any
    other kind are refused whatever the client claims.
    """
    name = _display_name(filename)
    subject = f"「{name}」" if name else "文件"
    if not data:
        raise ValidationFailed(f"{subject}是空的，请重新选择或重新拍摄", rule="upload_empty")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            f"文件过大：最大 {_human_size(max_bytes, round_up=False)}，"
            f"当前 {_human_size(len(data), round_up=True)}；请压缩或分页后再上传",
            rule="upload_too_large",
            max_bytes=max_bytes,
            size=len(data),
        )
    detected = _detect(data)
    claimed = _claimed_type(declared_type, filename)
    if detected is None:
        if claimed is not None:
            detail = f"{subject}的内容不是有效的图片或 PDF（可能已损坏或改过扩展名）。{ACCEPTED_TYPES_TEXT}"
        else:
            detail = f"{subject}的类型不支持。{ACCEPTED_TYPES_TEXT}"
        raise ValidationFailed(detail, rule="upload_type")
    if claimed is not None and claimed != detected:
        log.info("upload_type_corrected", declared=claimed, detected=detected)
    return detected
