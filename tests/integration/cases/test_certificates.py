"""电子证照 (issue 17): an approval is issued as an SM2-signed e-certificate in the deciding organ's name; anyone
verifies it from its number and 核验码; the organ's key rotates and old certificates still verify; a revoked
decision revokes the certificate; a record altered in the database no longer verifies."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.certificates import keys as organ_keys
from fuquan.platform.certificates.models import Certificate
from fuquan.platform.core.config import Settings
from fuquan.platform.core.keys.master import MasterKeys
from fuquan.platform.core.keys.services import KeysNotReady
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.migrations.keys import key_ring
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant
from helpers import in_session, issued_unemployment_case, login, open_case, step, web_login, web_post
from pdfs import flat_text

pytestmark = pytest.mark.anyio

TOWN = "640202001"
RESIDENT = "11010519491231002X"


async def _certificate(client: Any, who: dict[str, str], case: dict[str, Any]) -> dict[str, Any]:
    found = (await client.get(f"/api/v1/cases/{case['id']}/certificates", headers=who)).json()
    assert len(found) == 1
    return dict(found[0])


async def _verify(client: Any, certificate: dict[str, Any], code: str | None = None) -> Any:
    return await client.get(f"/api/v1/public/certificates/{certificate['number']}",
                            params={"code": code or certificate["verify_code"]})  # fmt: skip


async def test_an_approval_is_issued_as_a_signed_certificate_anyone_can_verify(client: Any, database_url: str) -> None:
    case = await issued_unemployment_case(client, database_url, RESIDENT)
    clerk = await login(client, "cs_clerk")
    certificate = await _certificate(client, clerk, case)
    assert certificate["number"] == f"{case['receipt_no']}-01" and certificate["status"] == "valid"
    assert certificate["organ_name"] == "长胜街道办事处" and certificate["holder"] == "王*"
    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=clerk)).json()
    approval = next(event for event in trace if event["action"] == "approve")
    assert approval["detail"]["certificate"] == certificate["number"]

    verified = await _verify(client, certificate)
    assert verified.status_code == 200, verified.text
    body = verified.json()
    assert body["standing"] == "valid" and body["organ_name"] == "长胜街道办事处" and body["algorithm"] == "SM2-SM3"
    assert body["holder"] == "王*" and RESIDENT not in verified.text and "王五" not in verified.text
    assert (await _verify(client, certificate, "AAAAAAAA")).status_code == 404  # the number alone shows nothing
    assert (await client.get("/api/v1/public/certificates/nothing", params={"code": "X"})).status_code == 404

    page = await client.get("/verify", params={"no": certificate["number"], "code": certificate["verify_code"]})
    assert page.status_code == 200 and "证照真实有效" in page.text and "长胜街道办事处" in page.text
    assert page.headers["cache-control"] == "no-store"
    wrong = await client.get("/verify", params={"no": certificate["number"], "code": "WRONG234"})
    assert wrong.status_code == 404 and "没有这个编号和核验码" in wrong.text
    half = await client.get("/verify", params={"no": certificate["number"]})
    assert half.status_code == 400 and "请填写证照编号和核验码" in half.text

    notice = flat_text((await client.get(f"/api/v1/cases/{case['id']}/documents/result_notice.pdf",
                                         headers=clerk)).content)  # fmt: skip
    assert "电子证照" in notice and certificate["number"] in notice and certificate["verify_code"] in notice
    assert certificate["key_fingerprint"] in notice and "/verify?no=" in notice


async def test_a_revoked_decision_revokes_its_certificate_and_its_record(client: Any, database_url: str) -> None:
    case = await issued_unemployment_case(client, database_url, RESIDENT)
    desk, head = await login(client, "cs_onestop", "one-stop-password"), await login(client, "cs_head")
    certificate = await _certificate(client, desk, case)
    url = f"/api/v1/cases/{case['id']}/revocation"
    body = {"version": case["version"], "reason": "经行政复议，原准予决定被撤销（宁人社复决〔2026〕3号）"}
    assert (await client.post(url, json=body, headers=desk)).status_code == 403  # the head's step, not a clerk's
    as_step = {"action": "revoke", **body}
    assert (await client.post(f"/api/v1/cases/{case['id']}/transitions", json=as_step, headers=desk)).status_code == 403
    assert (await client.post(url, json={**body, "reason": "短"}, headers=head)).status_code == 400
    revoked = await client.post(url, json=body, headers=head)
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked" and revoked.json()["allowed_actions"] == []
    assert revoked.json()["timing"]["clock"] == "finished"  # a revoked decision was a decision: no red light
    progress = await client.get(f"/api/v1/public/cases/{case['receipt_no']}", params={"code": case["query_code"]})
    assert progress.status_code == 200 and progress.json()["status"] == "revoked", progress.text

    verified = (await _verify(client, certificate)).json()
    assert verified["standing"] == "revoked" and "行政复议" in verified["revoked_reason"]
    page = await client.get("/verify", params={"no": certificate["number"], "code": certificate["verify_code"]})
    assert "证照已注销" in page.text and "不再有效" in page.text
    trace = (await client.get(f"/api/v1/cases/{case['id']}/trace", headers=desk)).json()
    assert trace[-1]["action"] == "revoke" and trace[-1]["detail"]["certificates_revoked"] == [certificate["number"]]
    assert trace[-1]["detail"]["records_ended"] == 1  # the 失业登记 the issue recorded ends with the decision
    again = await client.post(url, json={**body, "version": revoked.json()["version"]}, headers=head)
    assert again.status_code == 409


async def test_rotation_keeps_old_certificates_verifiable(client: Any, database_url: str) -> None:
    first = await issued_unemployment_case(client, database_url, RESIDENT)
    desk = await login(client, "cs_onestop", "one-stop-password")
    old = await _certificate(client, desk, first)

    security = await login(client, "dwk_security")
    rotation = f"/api/v1/units/{TOWN}/signing-keys/rotation"
    assert (await client.post(rotation, headers=desk)).status_code == 403
    assert (await client.post("/api/v1/units/640302/signing-keys/rotation", headers=security)).status_code == 404
    assert (await client.post(f"/api/v1/units/{TOWN}001/signing-keys/rotation", headers=security)).status_code == 422
    rotated = await client.post(rotation, headers=security)
    assert rotated.status_code == 201, rotated.text
    assert rotated.json()["serial"] == 2 and rotated.json()["fingerprint"] != old["key_fingerprint"]
    listed = (await client.get(f"/api/v1/units/{TOWN}/signing-keys", headers=desk)).json()
    assert [(key["serial"], key["state"]) for key in listed] == [(1, "retired"), (2, "active")]
    assert all("wrapped" not in key and "private" not in str(key) for key in listed)

    second = await step(client, desk, await open_case(client, desk, "HRSS-02", TOWN, "11010519491231002X", "赵六"),
                        "submit", "accept", "assign", "approve")  # fmt: skip
    new = await _certificate(client, desk, second)
    assert new["key_fingerprint"] == rotated.json()["fingerprint"]
    verified_old = (await _verify(client, old)).json()
    assert verified_old["standing"] == "valid" and verified_old["signed_with_retired_key"] is True
    assert (await _verify(client, new)).json()["standing"] == "valid"


async def test_a_record_altered_in_the_database_no_longer_verifies(client: Any, database_url: str) -> None:
    case = await issued_unemployment_case(client, database_url, RESIDENT)
    certificate = await _certificate(client, await login(client, "cs_onestop", "one-stop-password"), case)

    async def forge(session: AsyncSession) -> None:  # someone with database access renames the issuing organ
        await session.execute(update(Certificate).where(Certificate.number == certificate["number"])
                              .values(organ_name="石嘴山市人力资源和社会保障局"))  # fmt: skip

    await in_session(database_url, forge)
    verified = (await _verify(client, certificate)).json()
    assert verified["standing"] == "not_authentic"

    async def swap_holder(session: AsyncSession) -> None:  # the organ restored, the masked holder changed
        await session.execute(update(Certificate).where(Certificate.number == certificate["number"])
                              .values(organ_name=certificate["organ_name"], holder_masked="李*"))  # fmt: skip

    await in_session(database_url, swap_holder)
    assert (await _verify(client, certificate)).json()["standing"] == "not_authentic"
    page = await client.get("/verify", params={"no": certificate["number"], "code": certificate["verify_code"]})
    assert "核验未通过" in page.text


async def test_the_head_revokes_from_the_case_page(client: Any, database_url: str) -> None:
    """As a browser without JavaScript: the form is on the deciding unit's head's page only; a refused one says why
    and keeps what was typed; a revocation shows the certificate revoked."""
    case = await issued_unemployment_case(client, database_url, RESIDENT)
    page = f"/cases/{case['id']}"
    client.follow_redirects = False
    await web_login(client, "cs_onestop", "one-stop-password")
    shown = (await client.get(page)).text
    assert "电子证照" in shown and "有效" in shown and "/revocation" not in shown
    client.cookies.clear()
    await web_login(client, "cs_head")
    assert f"{page}/revocation" in (await client.get(page)).text
    refused = await web_post(client, page, f"{page}/revocation", {"version": str(case["version"]), "reason": "错"})
    assert refused.status_code == 422 and "至少 4 个字" in refused.text and "错" in refused.text
    reason = "经行政复议，原准予决定被撤销"
    done = await web_post(client, page, f"{page}/revocation", {"version": str(case["version"]), "reason": reason})
    assert done.status_code == 303
    shown = (await client.get(done.headers["location"])).text
    assert "已撤销准予决定" in shown and "已注销" in shown and reason in shown


async def test_a_master_key_rotation_rewraps_the_organs_keys(
    client: Any, database_url: str, settings: Settings
) -> None:
    """After ``fuquan keys rotate``, an organ's key opens under the new master key alone and signs as before."""
    case = await issued_unemployment_case(client, database_url, RESIDENT)
    old = key_ring(settings).masters
    new = MasterKeys.of("a-new-master-key-" + "7" * 32, [settings.master_key])
    scope = await in_session(database_url, lambda session: TenantRepository(session).by_code("64"))

    async def rotate(session: AsyncSession) -> int:
        return await organ_keys.rewrap(session, new)

    assert await in_session(database_url, rotate) == 1
    assert await in_session(database_url, rotate) == 0  # already under the new master key

    async def sign_with(session: AsyncSession, masters: MasterKeys) -> str:
        return (await organ_keys.signing_key(session, masters, whole_tenant(scope), TOWN, utcnow())).fingerprint

    fingerprint = await in_session(database_url, lambda session: sign_with(session, MasterKeys(new.current)))
    certificate = await _certificate(client, await login(client, "cs_onestop", "one-stop-password"), case)
    assert fingerprint == certificate["key_fingerprint"]
    with pytest.raises(KeysNotReady):  # a 503 saying why, never a 500
        await in_session(database_url, lambda session: sign_with(session, MasterKeys(old.current)))
