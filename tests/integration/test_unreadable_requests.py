"""Requests the application cannot read answer 400 with a message, never 500 (found by probing the demo).

Numbers beyond a 64-bit row id, a multipart part with an empty file name and bytes that are not UTF-8,
JSON nested past the decoder's limit: on the API a problem document, on the pages a Chinese page.
"""

from __future__ import annotations

from typing import Any

import pytest

from helpers import csrf_token, login, web_login

pytestmark = pytest.mark.anyio

HUGE = str(2**63)  # one past the largest BIGINT / SQLite INTEGER
NOT_UTF8 = b"\x89PNG\r\n\x1a\n\xff\xfe" + bytes(range(128, 256))


@pytest.fixture
def web(client: Any) -> Any:
    client.follow_redirects = False
    return client


@pytest.mark.parametrize(
    "path",
    [f"/api/v1/cases/{HUGE}", f"/api/v1/cases/{HUGE}/trace", f"/api/v1/cases/{HUGE}/evidence",
     f"/api/v1/grants/{HUGE}", f"/api/v1/cases?offset={HUGE}", f"/api/v1/grants?offset={HUGE}",
     "/api/v1/cases/0", "/api/v1/cases/-1"],
)  # fmt: skip
async def test_api_ids_and_offsets_past_a_row_id_are_400(web: Any, path: str) -> None:
    response = await web.get(path, headers=await login(web, "nx_admin"))
    assert response.status_code == 400, (path, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_api_writes_to_a_huge_id_are_400_too(web: Any) -> None:
    headers = await login(web, "cs_clerk")
    body = {"action": "accept", "version": 1}
    assert (await web.post(f"/api/v1/cases/{HUGE}/transitions", json=body, headers=headers)).status_code == 400
    upload = await web.post(f"/api/v1/cases/1/materials/{HUGE}", files={"file": ("a.png", b"x", "image/png")},
                            headers=headers)  # fmt: skip
    assert upload.status_code == 400
    revoke = await web.post(f"/api/v1/grants/{HUGE}/revoke", json={"reason": "试点调整"},
                            headers=await login(web, "nx_admin"))  # fmt: skip
    assert revoke.status_code == 400


@pytest.mark.parametrize(
    ("username", "path"),
    [("cs_clerk", f"/cases/{HUGE}"), ("cs_clerk", f"/cases/{HUGE}/documents/receipt.pdf"),
     ("jm_grid", f"/intake/{HUGE}"), ("jm_grid", f"/intake/{HUGE}/receipt"), ("nx_admin", f"/authority/grants/{HUGE}")],
)  # fmt: skip
async def test_pages_with_a_huge_id_are_a_chinese_400_page(web: Any, username: str, path: str) -> None:
    await web_login(web, username)
    page = await web.get(path)
    assert page.status_code == 400, (path, page.status_code)
    assert page.headers["content-type"].startswith("text/html") and '<html lang="zh-CN">' in page.text


async def test_a_page_form_posted_to_a_huge_id_is_a_400_page(web: Any) -> None:
    await web_login(web, "cs_clerk")
    token = await csrf_token(web, "/desk")
    page = await web.post(f"/cases/{HUGE}/reveal", data={"purpose": "核对身份信息", "_csrf_token": token})
    assert page.status_code == 400 and '<html lang="zh-CN">' in page.text


async def test_an_unnamed_file_part_of_binary_bytes_is_a_400(web: Any) -> None:
    """Litestar reads a part without a file name as a text field and failed decoding it (a 500); the input guard now
    reads such a part as the text field it is and refuses bytes that are not UTF-8 before Litestar does."""
    token = await csrf_token(web)  # as a browser sends a form: the token inside it, read by the CSRF guard
    page = await web.post("/login", data={"_csrf_token": token, "username": "x"}, files={"file": ("", NOT_UTF8)})
    assert page.status_code == 400 and "无效的 UTF-8" in page.text and '<html lang="zh-CN">' in page.text
    assert len(page.headers["x-request-id"]) >= 8  # refused outside any route, answered with the log's id
    api = await web.post("/api/v1/cases/1/materials/1", files={"file": ("", NOT_UTF8, "image/png")},
                         headers=await login(web, "cs_clerk"))  # fmt: skip
    assert api.status_code == 400 and "无效的 UTF-8" in api.json()["detail"]


async def test_json_nested_past_the_decoders_limit_is_a_400_even_before_login(web: Any) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    response = await web.post("/api/v1/auth/token", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "嵌套层级过深" in response.json()["detail"]
    nested = b'{"a":' * 5000 + b"1" + b"}" * 5000
    grants = await web.post("/api/v1/grants", content=nested,
                            headers={**await login(web, "nx_admin"), "Content-Type": "application/json"})  # fmt: skip
    assert grants.status_code == 400


async def test_a_refused_field_is_explained_in_chinese(client: Any) -> None:
    """Issue 14's assessor probe: validation answers carried msgspec's English (``Object contains unknown field``)."""
    headers = await login(client, "nx_admin")
    grant = {"item": "HRSS-04", "action": "accept", "unit": "640202001", "scope": "unit", "valid_from": "2026-01-01"}
    response = await client.post("/api/v1/grants", json={**grant, "pad": 1}, headers=headers)
    assert response.status_code == 400 and "含有不认识的字段 pad" in response.json()["detail"], response.text
    response = await client.post("/api/v1/grants", json={**grant, "valid_from": "May 6"}, headers=headers)
    assert response.status_code == 400 and "日期格式不正确" in response.json()["detail"], response.text
    assert "Expected" not in response.text and "Invalid" not in response.text
