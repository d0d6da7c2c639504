"""审查中补正 (issue 17): the reviewer asks for corrected materials during review — the clock stops as it does for a
补正 before acceptance, the front desk takes the materials, the 补正材料通知书 names the step's organ and person, and
the review resumes where it was."""

from __future__ import annotations

from typing import Any

import pytest

from helpers import PNG, grant_unit, login, open_case, step
from pdfs import flat_text

pytestmark = pytest.mark.anyio

TOWN = "640202001"


async def test_a_reviewer_asks_for_corrected_materials_and_the_clock_stops(client: Any) -> None:
    await grant_unit(client, "HRSS-04", TOWN, "accept", "decide")
    clerk, approver = await login(client, "cs_clerk"), await login(client, "cs_approver")
    case = await open_case(client, clerk, "HRSS-04", TOWN, "11010519491231002X", "张三")
    case = await step(client, clerk, case, "submit", "accept")
    case = await step(client, approver, case, "assign")
    transitions = f"/api/v1/cases/{case['id']}/transitions"
    bare = await client.post(transitions, json={"action": "request_correction", "version": case["version"]},
                             headers=approver)  # fmt: skip
    assert bare.status_code == 422 and bare.json()["rule"] == "reason_required"
    reason = "劳动合同复印件缺页，请补正完整复印件"
    body = {"action": "request_correction", "version": case["version"], "reason": reason}
    front = await client.post(transitions, json=body, headers=clerk)
    assert front.status_code == 403  # a back-office step: the front desk may not take it
    asked = await client.post(transitions, json=body, headers=approver)
    assert asked.status_code == 200, asked.text
    case = asked.json()
    assert case["status"] == "correcting" and case["timing"]["clock"] == "stopped"
    assert "resume" in case["allowed_actions"]

    # the applicant brings the corrected copy to the front desk
    material = next(m for m in case["materials"] if m["state"] == "uploaded")
    upload = await client.post(f"/api/v1/cases/{case['id']}/materials/{material['index']}",
                               files={"file": ("contract.png", PNG, "image/png")}, headers=clerk)  # fmt: skip
    assert upload.status_code == 200, upload.text
    case = upload.json()
    notice = flat_text((await client.get(f"/api/v1/cases/{case['id']}/documents/supplement_notice.pdf",
                                         headers=clerk)).content)  # fmt: skip
    assert "补正材料通知书" in notice and reason in notice and "经办人长胜街道审批员" in notice
    assert "补正期限" not in notice  # the case's own last day is no 补正 day

    case = await step(client, approver, case, "resume")
    assert case["status"] == "in_review" and case["timing"]["clock"] == "running"
    case = await step(client, approver, case, "approve")
    trace = [e["action"] for e in (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)).json()]
    assert trace[-4:] == ["request_correction", "material", "resume", "approve"]
