"""Receipts and notices as PDFs; the resident's progress page and one rating after issuance."""

from __future__ import annotations

from typing import Any

import pytest
from test_lifecycle import TOWN, _grant, _new_case, _provide_required, _step

from helpers import login
from pdfs import flat_text, page_count, rasterise

pytestmark = pytest.mark.anyio


def _pdf_text(pdf: bytes) -> str:
    assert len(rasterise(pdf)) == page_count(pdf) >= 1
    return flat_text(pdf)


async def test_documents_public_page_and_rating(client: Any) -> None:
    admin = await login(client, "nx_admin")
    await _grant(client, admin, "HRSS-04", "accept", TOWN)
    await _grant(client, admin, "HRSS-04", "decide", TOWN)
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    case = await _step(client, clerk, await _new_case(client, clerk, "HRSS-04"), "submit")
    documents = f"/api/v1/cases/{case['id']}/documents"
    assert (await client.get(f"{documents}/receipt.pdf", headers=clerk)).status_code == 409  # not accepted yet
    case = await _step(client, clerk, case, "request_supplement", reason="户口簿复印件不清晰")
    notice = await client.get(f"{documents}/supplement_notice.pdf", headers=clerk)
    assert notice.status_code == 200 and notice.headers["content-type"] == "application/pdf"
    text = _pdf_text(notice.content)
    assert case["receipt_no"] in text and "补正" in text and "户口簿复印件不清晰" in text

    case = await _provide_required(client, clerk, await _step(client, clerk, case, "resubmit"))
    case = await _step(client, clerk, case, "accept")
    receipt = await client.get(f"{documents}/receipt.pdf", headers=clerk)
    assert receipt.status_code == 200 and case["receipt_no"] in _pdf_text(receipt.content)
    assert (await client.get(f"{documents}/other.pdf", headers=clerk)).status_code == 404

    public = f"/api/v1/public/cases/{case['receipt_no']}"
    assert (await client.get(public, params={"code": "WRONG1"})).status_code == 404
    progress = (await client.get(public, params={"code": case["query_code"].lower()})).json()
    assert progress["status"] == "accepted" and progress["applicant"] == "张*" and "id_number" not in progress
    assert (await client.post(f"{public}/rating", json={"code": case["query_code"], "level": 5})).status_code == 409

    case = await _step(client, approver, case, "assign")
    case = await _step(client, approver, case, "approve")
    case = await _step(client, clerk, case, "issue")
    result = await client.get(f"{documents}/result_notice.pdf", headers=clerk)
    assert result.status_code == 200 and "办理结果" in _pdf_text(result.content)
    rated = await client.post(f"{public}/rating", json={"code": case["query_code"], "level": 1, "comment": "等太久"})
    assert rated.status_code == 201 and rated.json() == {"rating": "非常不满意", "follow_up": True}
    again = await client.post(f"{public}/rating", json={"code": case["query_code"], "level": 5})
    assert again.status_code == 409 and again.json()["rule"] == "already_rated"
    assert (await client.get(public, params={"code": case["query_code"]})).json()["rated"] is True
