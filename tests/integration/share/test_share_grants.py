"""共享授权 (issue 15, deliverable 2): an application is granted data, not endpoints — a dataset, for stated
purposes, seeing stated fields, optionally for one region's residents, for a time, on a legal basis; anything not
granted is refused naming what is missing. A property test holds the decision to never more than was granted."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.integrations.models import HrssRecord
from fuquan.platform.cli.main import cli
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.errors import FuquanError, NotFound
from fuquan.platform.core.personal import id_check_char
from fuquan.platform.core.timeutil import utcnow
from fuquan.platform.setup.benchkit import bench_key_ring
from fuquan.platform.share import services
from fuquan.platform.share.schemas import DATASETS
from fuquan.platform.share.services import datasets
from fuquan.platform.share.services.calls import Caller, CallRecord
from helpers import NINGXIA, TEST_MASTER_KEY

UNEMPLOYMENT = "employment/unemployment_registration"
TODAY = date.today()
DRAFT = services.AppDraft("dwk-civil-affairs", "低保核对系统", "大武口区民政局", "李科长 0952-1234567")


async def _in_session(database_url: str, work: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


def test_a_grant_allows_its_dataset_purposes_and_fields_and_nothing_else(database_url: str) -> None:
    async def work(session: AsyncSession) -> None:
        app, _ = await services.register(session, bench_key_ring(), NINGXIA, DRAFT)
        basis = "大民〔2026〕数据共享协议第 3 号"
        draft = services.GrantDraft(UNEMPLOYMENT, ("dibao_eligibility",), ("registered", "since"), basis,
                                    TODAY - timedelta(days=1), region="640202")  # fmt: skip
        await services.grant(session, NINGXIA, app.code, draft)
        allowed = await services.access(session, app, UNEMPLOYMENT, "dibao_eligibility")
        assert allowed.fields == {"registered", "since"} and allowed.regions == ("640202",)
        refusals = [
            ("employment/difficulty_recognition", "dibao_eligibility", (), "share_dataset_not_granted", "就业困难"),
            (UNEMPLOYMENT, "court_enforcement", (), "share_purpose_not_granted", "最低生活保障审核确认"),
            (UNEMPLOYMENT, "dibao_eligibility", ("since", "id_number"), "share_field_not_granted", "身份证号码"),
        ]
        for dataset, purpose, asked, rule, named in refusals:
            with pytest.raises(FuquanError) as refused:
                await services.access(session, app, dataset, purpose, asked)
            assert refused.value.status == 403 and refused.value.rule == rule and named in refused.value.detail
        with pytest.raises(NotFound):
            await services.access(session, app, "insurance/everything", "dibao_eligibility")
        # a grant not yet in force, or revoked, allows nothing
        later = services.GrantDraft("cards/social_security_card", ("court_enforcement",), ("status",), "协议 4 号",
                                    TODAY + timedelta(days=2))  # fmt: skip
        await services.grant(session, NINGXIA, app.code, later)
        with pytest.raises(FuquanError, match="不在有效期内"):
            await services.access(session, app, "cards/social_security_card", "court_enforcement")
        (first, _later) = await services.grants(session, NINGXIA, app.code)
        await services.revoke_grant(session, NINGXIA, app.code, first.id, reason="协议终止")
        with pytest.raises(FuquanError, match="未获授权"):
            await services.access(session, app, UNEMPLOYMENT, "dibao_eligibility")

    asyncio.run(_in_session(database_url, work))


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"dataset": "insurance/everything"}, "share_dataset"),
        ({"purposes": ("supervision",)}, "share_purpose"),  # not a purpose of this dataset
        ({"purposes": ()}, "share_purpose"),
        ({"fields": ("salary",)}, "share_field"),
        ({"basis": " "}, "share_basis"),
        ({"valid_until": TODAY}, "share_validity"),
        ({"region": "460000"}, None),  # Hainan's: not this tenant's, so not found (404)
    ],
)
def test_a_grant_that_cannot_be_given_is_refused_saying_why(
    database_url: str, change: dict[str, Any], rule: str | None
) -> None:
    async def work(session: AsyncSession) -> None:
        app, _ = await services.register(session, bench_key_ring(), NINGXIA, DRAFT)
        base = {"dataset": UNEMPLOYMENT, "purposes": ("dibao_eligibility",), "fields": ("registered",),
                "basis": "协议", "valid_from": TODAY, "valid_until": None, "region": None}  # fmt: skip
        with pytest.raises(FuquanError) as refused:
            await services.grant(session, NINGXIA, app.code, services.GrantDraft(**{**base, **change}))
        assert (refused.value.status, refused.value.rule) == ((404, None) if rule is None else (422, rule))

    asyncio.run(_in_session(database_url, work))


_DATASET = st.sampled_from(sorted(DATASETS))


@st.composite
def _grant(draw: st.DrawFn) -> services.GrantDraft:
    dataset = DATASETS[draw(_DATASET)]
    purposes = draw(st.lists(st.sampled_from(dataset.purposes), min_size=1, max_size=2, unique=True))
    fields = draw(st.lists(st.sampled_from(sorted(dataset.fields)), min_size=1, max_size=3, unique=True))
    region = draw(st.sampled_from([None, "640202", "640205", "640202001"]))
    return services.GrantDraft(dataset.code, tuple(purposes), tuple(fields), "协议", TODAY - timedelta(days=1),
                               region=region)  # fmt: skip


_APPS = itertools.count()


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    given_grants=st.lists(_grant(), min_size=1, max_size=4),
    dataset=_DATASET,
    purpose=st.sampled_from(sorted({p for d in DATASETS.values() for p in d.purposes})),
    asked=st.lists(st.sampled_from(sorted({f for d in DATASETS.values() for f in d.fields})), max_size=3),
)
def test_access_never_exceeds_what_was_granted(
    database_url: str, given_grants: list[services.GrantDraft], dataset: str, purpose: str, asked: list[str]
) -> None:
    """Over applications × datasets × purposes × fields × regions: a call is allowed exactly the fields of the grants
    that name its dataset and purpose, for exactly their regions — or refused."""

    async def work(session: AsyncSession) -> None:
        app, _ = await services.register(
            session, bench_key_ring(), NINGXIA, services.AppDraft(f"app-{next(_APPS)}", "应用", "部门", "联系人")
        )
        for draft in given_grants:
            await services.grant(session, NINGXIA, app.code, draft)
        covering = [g for g in given_grants if g.dataset == dataset and purpose in g.purposes]
        granted = {f for g in covering for f in g.fields}
        try:
            allowed = await services.access(session, app, dataset, purpose, asked)
        except FuquanError as error:
            refused = error
        else:
            refused = None
        if refused is not None:
            assert refused.status == 403 and (not covering or not set(asked) <= granted), (refused.detail, covering)
            return
        assert covering and allowed.fields <= granted and set(asked) <= granted
        assert allowed.fields == (set(asked) or granted)
        regions = {g.region for g in covering}
        assert allowed.regions == (None if None in regions else tuple(sorted(r or "" for r in regions)))

    asyncio.run(_in_session(database_url, work))


def test_the_command_grants_lists_and_revokes(database_url: str, tmp_path: Path) -> None:
    env = {"FUQUAN_DATABASE_URL": database_url, "FUQUAN_DATA_DIR": str(tmp_path), "FUQUAN_MASTER_KEY": TEST_MASTER_KEY}
    runner = CliRunner()
    added = runner.invoke(cli, ["share", "apps", "add", "--tenant", "64", "--code", "mz", "--name", "低保核对",
                                "--department", "民政局", "--contact", "李"], env=env)  # fmt: skip
    assert added.exit_code == 0, added.output
    grant = ["share", "grants", "add", "mz", "--tenant", "64", "--dataset", UNEMPLOYMENT, "--purpose",
             "dibao_eligibility", "--field", "registered", "--field", "since", "--region", "640202",
             "--from", (utcnow().date() - timedelta(days=1)).isoformat(), "--basis", "大民〔2026〕3号"]  # fmt: skip
    granted = runner.invoke(cli, grant, env=env)
    assert granted.exit_code == 0 and "已授权 #" in granted.output, granted.output
    wrong = runner.invoke(cli, [*grant[:-1], " "], env=env)
    assert wrong.exit_code == 2 and "授权依据" in wrong.output
    listed = runner.invoke(cli, ["share", "grants", "list", "mz", "--tenant", "64"], env=env)
    assert listed.exit_code == 0 and "dibao_eligibility" in listed.output and "640202" in listed.output
    grant_id = granted.output.split("#")[1].split("：")[0]
    revoked = runner.invoke(cli, ["share", "grants", "revoke", "mz", grant_id, "--tenant", "64", "--reason", "终止"],
                            env=env)  # fmt: skip
    assert revoked.exit_code == 0, revoked.output
    assert "已撤销" in runner.invoke(cli, ["share", "grants", "list", "mz", "--tenant", "64"], env=env).output


_RESIDENTS = {  # ID number → where Fuquan recorded them (None: a person never seen)
    "64020219850101123" + id_check_char("64020219850101123"): "640202001",
    "64020519800303234" + id_check_char("64020519800303234"): "640205001",
    "64020219900202456" + id_check_char("64020219900202456"): None,
}
_VERIFIED = sorted(code for code in DATASETS if code != "cases/feed")


async def _recorded(session: AsyncSession) -> None:
    """Each seen resident registered unemployed and recognised with employment difficulty, in their unit."""
    cipher = await bench_key_ring().cipher(NINGXIA, session)
    for number, unit in _RESIDENTS.items():
        if unit is None:
            continue
        for kind in ("unemployment_registration", "employment_difficulty"):
            session.add(HrssRecord(tenant_id=NINGXIA.tenant_id, person_index=cipher.blind_index(number), kind=kind,
                                   since=TODAY - timedelta(days=30), until=None, item_code="HRSS-02",
                                   receipt_no=f"{unit}-x", unit_code=unit, created_at=utcnow()))  # fmt: skip
    await session.flush()


@st.composite
def _call(draw: st.DrawFn) -> tuple[list[services.GrantDraft], str, str, list[str]]:
    """Grants and a call that mostly fits one of them (else few calls would get past the refusal)."""
    grants = draw(st.lists(_grant(), min_size=1, max_size=4))
    fitting = draw(st.booleans())
    model = draw(st.sampled_from(grants)) if fitting else None
    dataset = model.dataset if model and model.dataset != "cases/feed" else draw(st.sampled_from(_VERIFIED))
    purposes = model.purposes if model else sorted({p for d in DATASETS.values() for p in d.purposes})
    fields = sorted(DATASETS[dataset].fields) if model else sorted({f for d in DATASETS.values() for f in d.fields})
    return grants, dataset, draw(st.sampled_from(purposes)), draw(st.lists(st.sampled_from(fields), max_size=2))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(call=_call(), number=st.sampled_from(sorted(_RESIDENTS)))
def test_no_answer_discloses_a_field_a_region_or_a_dataset_not_granted(
    database_url: str, call: tuple[list[services.GrantDraft], str, str, list[str]], number: str
) -> None:  # fmt: skip
    """The answers themselves (not only the access decision): over applications × datasets × purposes × fields ×
    regions × residents, an answer holds only granted fields, an unmasked ID number or name only when granted, and
    a resident recorded outside the granted regions looks exactly like a person never seen."""
    given_grants, dataset, purpose, asked = call

    async def work(session: AsyncSession) -> None:
        keys = bench_key_ring()
        app, issued = await services.register(
            session, keys, NINGXIA, services.AppDraft(f"app-{next(_APPS)}", "应用", "部门", "联系人")
        )
        await _recorded(session)
        for draft in given_grants:
            await services.grant(session, NINGXIA, app.code, draft)
        caller = Caller(app, NINGXIA, issued.key_id, purpose, "REF-1", "op", "req-1")
        record = CallRecord(issued.key_id, dataset, "127.0.0.1", "req-1", "op")
        body = json.dumps({"id_number": number, "fields": asked}).encode()
        covering = [g for g in given_grants if g.dataset == dataset and purpose in g.purposes]
        granted = {f for g in covering for f in g.fields}
        event("answered" if covering and set(asked) <= granted else "refused")
        refused: FuquanError | None = None
        try:
            data, _ = await datasets.verify(session, keys, None, caller, record, dataset, body, batch=False)
        except FuquanError as error:
            refused = error
        if refused is not None:
            assert refused.status == 403 and (not covering or not set(asked) <= granted), refused.detail
            return
        assert covering and set(asked) <= granted
        shown = set(asked) or granted
        identity = {"id_number", "name", "on", "on_record"}
        assert set(data) <= identity | shown | {"cases"}
        assert "cases" not in data or all(set(case) <= shown for case in data["cases"])
        assert (data["id_number"] == number) == ("id_number" in shown)
        regions = {g.region for g in covering}
        unit = _RESIDENTS[number]
        inside = unit is not None and (None in regions or any(unit.startswith(r or "") for r in regions))
        if not inside:  # elsewhere or never seen: nothing but the masked number the caller sent
            assert data["name"] is None and data["on_record"] is False
            assert all(value in (None, False, "none", []) for key, value in data.items() if key not in identity)
        elif "name" not in shown and data["name"] is not None:
            assert "*" in data["name"]

    asyncio.run(_in_session(database_url, work))
