"""Uploaded materials: the content-addressed local store and the upload sniffer."""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zlib
from pathlib import Path

import anyio
import pytest

from fuquan.platform.core.errors import NotFound, ValidationFailed
from fuquan.platform.core.files import (
    FileStore,
    LocalFileStore,
    PayloadTooLarge,
    StoredFile,
    StoredFileCorrupted,
    sniff_upload,
    validate_key,
)

# 1×1 greyscale PNG, 1×1 red JPEG and WebP (written by Pillow once, kept as bytes here)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
    "0000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
)
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a181616183123251d"
    "283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffdb0043011112121815182f"
    "1a1a2f634238426363636363636363636363636363636363636363636363636363636363636363636363636363636363636363"
    "636363636363ffc00011080001000103012200021101031101ffc4001f0000010501010101010100000000000000000102030405"
    "060708090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a108"
    "2342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a6364"
    "65666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3"
    "c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f010003010101010101010101"
    "0000000000000102030405060708090a0bffc400b51100020102040403040705040400010277000102031104052131061241510761"
    "711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a53"
    "5455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3"
    "b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311"
    "003f00c5a28a2bcb3ef0ffd9"
)
WEBP = bytes.fromhex(
    "524946463c000000574542505650382030000000d001009d012a0100010001402625a00274ba01f80003b000fef2eb7ffcd8"
    "15cd73eff7ffd2e0fd2e0fd2e0ffd2900000"
)
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 32
HEIF = b"\x00\x00\x00\x14ftypmif1\x00\x00\x00\x00mif1" + b"\x00" * 32
AVIF = b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


def test_sample_png_is_a_valid_png() -> None:
    assert PNG[:8] == b"\x89PNG\r\n\x1a\n"
    offset, kinds = 8, []
    while offset < len(PNG):
        (length,) = struct.unpack(">I", PNG[offset : offset + 4])
        kind, body = PNG[offset + 4 : offset + 8], PNG[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", PNG[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + body) == crc
        kinds.append(kind)
        offset += 12 + length
    assert kinds == [b"IHDR", b"IDAT", b"IEND"]


def test_samples_decode_as_images() -> None:
    import io

    from PIL import Image as image

    for data, fmt in [(PNG, "PNG"), (JPEG, "JPEG"), (WEBP, "WEBP")]:
        with image.open(io.BytesIO(data)) as opened:
            assert opened.format == fmt and opened.size == (1, 1)


# -- store --


@pytest.mark.anyio
async def test_round_trip_and_sha256(tmp_path: Path) -> None:
    store: FileStore = LocalFileStore(tmp_path / "files")
    stored = await store.put(PNG, content_type="image/png")
    digest = hashlib.sha256(PNG).hexdigest()
    assert stored == StoredFile(
        key=f"sha256/{digest[:2]}/{digest[2:4]}/{digest}", sha256=digest, size=len(PNG), content_type="image/png"
    )
    assert await store.exists(stored.key)
    assert await store.get(stored.key) == PNG
    assert (tmp_path / "files" / "sha256" / digest[:2] / digest[2:4] / digest).read_bytes() == PNG


@pytest.mark.anyio
async def test_put_is_idempotent(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    first = await store.put(PDF, content_type="application/pdf")
    path = tmp_path.joinpath(*first.key.split("/"))
    inode = path.stat().st_ino
    second = await store.put(PDF, content_type="application/pdf")
    assert second == first
    assert path.stat().st_ino == inode  # not rewritten
    assert [p.name for p in path.parent.iterdir()] == [first.sha256]  # no temporary files left behind
    other = await store.put(JPEG, content_type="image/jpeg")
    assert other.key != first.key
    assert await store.get(first.key) == PDF and await store.get(other.key) == JPEG


@pytest.mark.anyio
async def test_concurrent_puts_of_the_same_bytes(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    results: list[StoredFile] = []

    async def put() -> None:
        results.append(await store.put(JPEG, content_type="image/jpeg"))

    async with anyio.create_task_group() as group:
        for _ in range(8):
            group.start_soon(put)
    assert len({r.key for r in results}) == 1
    path = tmp_path.joinpath(*results[0].key.split("/"))
    assert [p.name for p in path.parent.iterdir()] == [results[0].sha256]
    assert await store.get(results[0].key) == JPEG


@pytest.mark.anyio
async def test_a_damaged_file_is_rewritten_by_put_and_refused_by_get(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path)
    stored = await store.put(PNG, content_type="image/png")
    path = tmp_path.joinpath(*stored.key.split("/"))
    path.write_bytes(b"x" * len(PNG))
    with pytest.raises(StoredFileCorrupted):
        await store.get(stored.key)
    await store.put(PNG, content_type="image/png")
    assert await store.get(stored.key) == PNG


@pytest.mark.anyio
async def test_missing_file(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path / "never-created")
    key = "sha256/" + "ab/cd/abcd" + "0" * 60
    assert not await store.exists(key)
    with pytest.raises(NotFound):
        await store.get(key)
    assert not (tmp_path / "never-created").exists()  # reads create nothing


@pytest.mark.anyio
async def test_permissions(tmp_path: Path) -> None:
    root = tmp_path / "store"
    old = os.umask(0)  # even with a permissive umask
    try:
        stored = await LocalFileStore(root).put(WEBP, content_type="image/webp")
    finally:
        os.umask(old)
    path = root.joinpath(*stored.key.split("/"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    directory = path.parent
    while directory != tmp_path:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
        directory = directory.parent


GOOD_HEX = hashlib.sha256(b"x").hexdigest()


@pytest.mark.parametrize(
    "key",
    [
        "../x",
        "sha256/../../etc/passwd",
        "/etc/passwd",
        f"/sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX}",
        f"sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX}\n",
        f"sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX}/..",
        f"sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/../{GOOD_HEX}",
        f"sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX.upper()}",
        f"sha256/00/00/{GOOD_HEX}",  # prefix directories must match the hash
        f"sha256\\{GOOD_HEX[:2]}\\{GOOD_HEX[2:4]}\\{GOOD_HEX}",
        f"sha1/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX}",
        f"sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX[:-1]}",
        GOOD_HEX,
        "",
        "sha256/ab/cd/",
    ],
)
@pytest.mark.anyio
async def test_key_validation_rejects_bad_shapes(tmp_path: Path, key: str) -> None:
    store = LocalFileStore(tmp_path / "store")
    with pytest.raises(ValidationFailed) as raised:
        await store.get(key)
    assert raised.value.rule == "file_key"
    with pytest.raises(ValidationFailed):
        await store.exists(key)
    assert not (tmp_path / "store").exists()


def test_validate_key_returns_the_hash() -> None:
    assert validate_key(f"sha256/{GOOD_HEX[:2]}/{GOOD_HEX[2:4]}/{GOOD_HEX}") == GOOD_HEX


# -- sniffing --


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (WEBP, "image/webp"),
        (PDF, "application/pdf"),
        (HEIC, "image/heic"),
        (HEIF, "image/heif"),
    ],
)
def test_sniff_accepts_the_supported_types(data: bytes, expected: str) -> None:
    assert sniff_upload(data, None, None) == expected
    assert sniff_upload(data, "application/octet-stream", "upload.bin") == expected


def test_the_bytes_win_over_the_declared_type_and_the_extension() -> None:
    assert sniff_upload(JPEG, "image/png", "身份证.png") == "image/jpeg"
    assert sniff_upload(PDF, "image/jpeg", "scan.jpg") == "application/pdf"


@pytest.mark.parametrize(
    ("data", "declared", "filename"),
    [
        (EXE, "application/x-msdownload", "setup.exe"),
        (EXE, "image/jpeg", "photo.jpg"),
        (b"just some text, not an image\n", "image/png", "photo.png"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml", "a.svg"),
        (AVIF, "image/avif", "a.avif"),
        (b"GIF89a\x01\x00\x01\x00", "image/gif", "a.gif"),
        (b"PK\x03\x04" + b"\x00" * 26, None, "docs.zip"),
        (b"\x00", None, None),
    ],
)
def test_sniff_refuses_other_types(data: bytes, declared: str | None, filename: str | None) -> None:
    with pytest.raises(ValidationFailed) as raised:
        sniff_upload(data, declared, filename)
    assert raised.value.rule == "upload_type"
    assert raised.value.status == 422
    assert "只接受 JPG、PNG、WebP、HEIC 照片或 PDF 文件" in raised.value.detail


def test_a_disguised_file_is_named_in_the_message() -> None:
    with pytest.raises(ValidationFailed) as raised:
        sniff_upload(b"hello", "image/png", "C:\\Users\\x\\照片\x00.png")
    assert "「照片.png」" in raised.value.detail
    assert "不是有效的图片或 PDF" in raised.value.detail


def test_sniff_refuses_empty_data() -> None:
    with pytest.raises(ValidationFailed) as raised:
        sniff_upload(b"", "image/png", "a.png")
    assert raised.value.rule == "upload_empty"


def test_sniff_refuses_too_large_data() -> None:
    data = PNG + b"\x00" * (int(12.3 * 1024 * 1024) - len(PNG))
    with pytest.raises(PayloadTooLarge) as raised:
        sniff_upload(data, "image/png", "a.png")
    assert raised.value.rule == "upload_too_large"
    assert raised.value.status == 413
    assert raised.value.detail.startswith("文件过大：最大 10 MB，当前 12.3 MB")


def test_size_limit_is_inclusive_and_configurable() -> None:
    assert sniff_upload(PNG, None, None, max_bytes=len(PNG)) == "image/png"
    with pytest.raises(PayloadTooLarge) as raised:
        sniff_upload(PNG, None, None, max_bytes=len(PNG) - 1)
    assert f"最大 {len(PNG) - 1} 字节" in raised.value.detail
    just_over = PNG + b"\x00" * (10 * 1024 * 1024 + 1 - len(PNG))
    with pytest.raises(PayloadTooLarge) as raised:
        sniff_upload(just_over, None, None)
    assert "最大 10 MB，当前 10.1 MB" in raised.value.detail
