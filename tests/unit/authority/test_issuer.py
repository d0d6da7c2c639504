"""出具机关 over random grant chains (issue 17): no notice names a body that is not an administrative organ as the
one deciding, nor an organ the bases do not make the issuer (行政许可法 Art. 22–24)."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from fuquan.authority.services.issuer import OWN_NAME, Holding, holdings, issuer_of, organ_codes
from fuquan.tenants.divisions import ancestor_codes
from fuquan.tenants.organs import Organ, organ_of

ROOT = "64"
PATH = ["64", "6402", "640202", "640202001", "640202001001", "640202001001001"]  # province … grid
NAMES = ["宁夏回族自治区", "石嘴山市", "大武口区", "长胜街道", "朝阳社区居委会", "第一网格"]
DEFAULT_ORGANS = {code: organ_of(code, level, name, None, None)
                  for level, (code, name) in enumerate(zip(PATH, NAMES, strict=True), start=1)}  # fmt: skip
BASES = ["statutory", "devolved", "authorised", "entrusted"]
LEVEL_KINDS = {  # what the tenant may have set a unit to be, by level
    1: ["hrss_department"], 2: ["hrss_department"], 3: ["hrss_department"],
    4: ["township_government", "subdistrict_office", "management_committee", "other"],
    5: ["villagers_committee", "residents_committee", "other"], 6: ["grid"],
}  # fmt: skip


@dataclass(frozen=True)
class FakeGrant:
    unit_code: str
    grantor_unit_code: str
    basis: str
    instrument: str
    subtree: bool


@st.composite
def chains(draw: st.DrawFn) -> tuple[str, list[FakeGrant], dict[str, Organ]]:
    """A unit, the grants by which it holds a right (nearest first, each granted by an ancestor of its holder and
    covering the next one's holder), and the organs of the path."""
    organs = {
        code: organ_of(code, level, f"单位{code}", None, draw(st.sampled_from(LEVEL_KINDS[level])))
        for level, code in enumerate(PATH, start=1)
    }
    holders = sorted(draw(st.sets(st.integers(1, 5), min_size=1, max_size=5)))  # levels of the grants' holders
    grants: list[FakeGrant] = []
    grantor = 0  # index into PATH: the root grants first
    for level in holders:
        grants.append(FakeGrant(PATH[level], PATH[grantor], draw(st.sampled_from(BASES[1:])), f"文{level}号",
                                draw(st.booleans())))  # fmt: skip
        grantor = level
    last = grants[-1]
    acting = draw(st.integers(PATH.index(last.unit_code), 5)) if last.subtree else PATH.index(last.unit_code)
    return PATH[acting], list(reversed(grants)), organs


@given(chains())
def test_every_notice_is_issued_by_the_organ_the_bases_make_the_issuer(
    drawn: tuple[str, list[FakeGrant], dict[str, Organ]],
) -> None:
    unit, grants, organs = drawn
    chain = holdings(unit, ROOT, grants)
    assert {holding.unit_code for holding in chain} <= set(organ_codes(unit))
    issuer = issuer_of(chain, organs)
    # the deciding body is an administrative organ, holding the right in its own name (法定、下放、授权)
    assert issuer.organ.administrative
    own = next(h for h in chain if h.unit_code == issuer.organ.unit_code)
    assert own.basis in OWN_NAME
    # … and the nearest such: nobody between the acting unit and it could have acted in its own name
    below = chain[: chain.index(own)]
    assert not any(organs[h.unit_code].administrative and h.basis in OWN_NAME for h in below)
    acting = organs[unit]
    first = chain[0]
    if acting.administrative and first.basis in OWN_NAME:
        assert (issuer.organ, issuer.relation, issuer.handling_note) == (acting, "own", None)
    elif first.basis == "entrusted" and acting.administrative:  # 委托: the entrusting organ's name, the unit named
        assert issuer.relation == "entrusted" and issuer.organ != acting
        assert issuer.organ.unit_code in ancestor_codes(unit)
        assert acting.name in (issuer.handling_note or "")
    if not acting.administrative:  # a committee or a grid only ever receives for an organ
        assert issuer.relation == "on_behalf" and issuer.organ != acting
        assert "代" in (issuer.handling_note or "")


def test_the_chain_reads_a_county_subtree_grant_as_held_by_its_township() -> None:
    """A village accepting under a county's devolved subtree grant does so for its own township, the nearest
    organ the grant covers — not for the county, nor the province that granted it."""
    grant = FakeGrant("640202", "64", "devolved", "宁人社发〔2021〕1号", subtree=True)
    chain = holdings("640202001001", ROOT, [grant])
    assert chain == [
        Holding("640202001001", "devolved", "宁人社发〔2021〕1号"),
        Holding("640202001", "devolved", "宁人社发〔2021〕1号"),
        Holding("640202", "devolved", "宁人社发〔2021〕1号"),
        Holding("64", "statutory"),
    ]
    issuer = issuer_of(chain, DEFAULT_ORGANS)
    assert (issuer.organ.unit_code, issuer.relation) == ("640202001", "on_behalf")


def test_an_entrusted_township_decides_in_the_county_bureaus_name() -> None:
    county = FakeGrant("640202", "64", "devolved", "宁人社发〔2021〕1号", subtree=False)
    township = FakeGrant("640202001", "640202", "entrusted", "石人社委〔2022〕3号", subtree=False)
    issuer = issuer_of(holdings("640202001", ROOT, [township, county]), DEFAULT_ORGANS)
    assert issuer.organ.name == "大武口区人力资源和社会保障局"
    assert issuer.relation == "entrusted"
    assert issuer.handling_note == "受大武口区人力资源和社会保障局委托，由长胜街道办事处办理"
    assert issuer.instruments == ("石人社委〔2022〕3号",)
