"""Materials in S3-compatible object storage (``FUQUAN_FILES_URL``), against a real S3 server on this machine:
moto's server mode, started here on a free port. Two app instances sharing the database and the bucket read
each other's uploads; a store that cannot be reached answers 503 and nothing is written."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import obstore
import pytest
from litestar.testing import AsyncTestClient
from moto.server import ThreadedMotoServer

from fuquan.platform.app.factory import create_app
from fuquan.platform.core.config import Settings
from fuquan.platform.core.errors import NotFound
from fuquan.platform.core.files import StoredFileCorrupted
from fuquan.platform.core.object_files import FileStoreUnavailable, ObjectFileStore
from helpers import grant_unit, login, open_case

pytestmark = pytest.mark.anyio

BUCKET = "fuquan-files"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TOWN = "640202001"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An S3 server with an empty bucket; the app finds it through the standard AWS_* variables."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    assert httpx.put(f"{endpoint}/{BUCKET}", timeout=10).status_code == 200
    for name, value in {"AWS_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": "fuquan-test", "AWS_ALLOW_HTTP": "true",
                        "AWS_SECRET_ACCESS_KEY": "fuquan-test-secret", "AWS_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    try:
        yield endpoint
    finally:
        server.stop()


def _store(prefix: str = "materials") -> ObjectFileStore:
    return ObjectFileStore.from_url(f"s3://{BUCKET}/{prefix}")


async def test_files_are_content_addressed_checked_and_hashed_on_the_way_out(s3: str) -> None:
    store = _store()
    stored = await store.put(PNG, content_type="image/png")
    assert stored.size == len(PNG) and stored.key.startswith("sha256/") and stored.key.endswith(stored.sha256)
    assert await store.put(PNG, content_type="image/png") == stored  # the same bytes: the same key, one object
    assert await store.get(stored.key) == PNG and await store.exists(stored.key)
    listed = await obstore.list(store._store).collect_async()
    assert [item["path"] for item in listed] == [stored.key]

    missing = "sha256/00/00/" + "0" * 64
    assert not await store.exists(missing)
    with pytest.raises(NotFound):
        await store.get(missing)
    await obstore.put_async(store._store, stored.key, PNG + b"tampered")  # the bucket changed behind our back
    with pytest.raises(StoredFileCorrupted):
        await store.get(stored.key)


async def test_a_store_that_cannot_be_reached_is_a_503_not_a_500(s3: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    with pytest.raises(FileStoreUnavailable) as raised:
        await _store().put(PNG, content_type="image/png")
    assert raised.value.status == 503 and raised.value.rule == "file_store_unavailable"


async def test_two_app_processes_share_uploads_through_the_bucket(s3: str, settings: Settings, tmp_path: Any) -> None:
    """Each instance has a data dir of its own (no shared disk): a material uploaded through one is read back
    through the other, and /ready checks the bucket."""
    one = msgspec.structs.replace(settings, files_url=f"s3://{BUCKET}/materials", data_dir=tmp_path / "one")
    two = msgspec.structs.replace(one, data_dir=tmp_path / "two")
    async with AsyncTestClient(app=create_app(one)) as first, AsyncTestClient(app=create_app(two)) as second:
        await grant_unit(first, "HRSS-04", TOWN, "accept", "decide")
        clerk = await login(first, "cs_clerk")
        case = await open_case(first, clerk, "HRSS-04", TOWN, "640202199001011232", "张三")
        uploaded = [m for m in case["materials"] if m["state"] == "uploaded"]
        assert uploaded, case["materials"]
        elsewhere = await login(second, "cs_clerk")
        for material in uploaded:
            read = await second.get(f"/api/v1/cases/{case['id']}/materials/{material['index']}/file", headers=elsewhere)
            assert read.status_code == 200 and read.content == PNG and read.headers["content-type"] == "image/png"
        none = await second.get(f"/api/v1/cases/{case['id']}/materials/4/file", headers=elsewhere)
        assert none.status_code == 404 and none.json()["rule"] == "no_file"
        assert (await second.get("/ready")).status_code == 200
        assert not (tmp_path / "one" / "files").exists()  # nothing went to the local disk


async def test_an_upload_the_store_cannot_take_is_refused_whole(
    s3: str, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """503 naming the store, and the case exactly as before: no material marked uploaded without its file."""
    monkeypatch.setenv("AWS_ENDPOINT", "http://127.0.0.1:9")
    down = msgspec.structs.replace(settings, files_url=f"s3://{BUCKET}/materials")
    async with AsyncTestClient(app=create_app(down)) as client:
        await grant_unit(client, "HRSS-04", TOWN, "accept")
        clerk = await login(client, "cs_clerk")
        body = {"item": "HRSS-04", "unit": TOWN, "applicant": {"id_number": "640202199001011232", "name": "张三"}}
        created = await client.post("/api/v1/cases", json=body, headers=clerk)
        assert created.status_code == 201, created.text
        case = created.json()
        upload = await client.post(f"/api/v1/cases/{case['id']}/materials/1",
                                   files={"file": ("photo.png", PNG, "image/png")}, headers=clerk)  # fmt: skip
        assert upload.status_code == 503 and upload.json()["rule"] == "file_store_unavailable", upload.text
        assert "稍后重试" in upload.json()["detail"]
        after = (await client.get(f"/api/v1/cases/{case['id']}", headers=clerk)).json()
        assert after["version"] == case["version"] and after["materials"] == case["materials"]
        assert (await client.get("/ready")).status_code == 503
