"""出具机关: the organ in whose name a step's notice is issued, from the chain of grants and their bases.

行政许可法 Art. 22–24: a licence is decided by the administrative organ that holds the power — by law (法定), or
because it was devolved (下放) or authorised (授权) to it, in its own name; an organ entrusted (委托) with it acts in
the name of the organ that entrusted it, which answers for the result. A village or community committee, or a
grid, is not an administrative organ: it never decides or issues a decision in its own name, and what it receives
it receives on an organ's behalf (代收、代办).

So, walking the chain from the unit that took the step up to the tenant root (who holds every item by law), the
notice is issued in the name of the first administrative organ that holds the right in its own name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.registry import AuthorityRegistry
from fuquan.authority.services.checks import grant_chain
from fuquan.tenants.divisions import ancestor_codes
from fuquan.tenants.organs import Organ
from fuquan.tenants.scope import TenantScope

log = structlog.get_logger()

OWN_NAME = frozenset({"statutory", "devolved", "authorised"})  # 法定、下放、授权: the holder acts in its own name
BASIS_NAMES = {"statutory": "法定", "devolved": "下放", "authorised": "授权", "entrusted": "委托"}
Relation = Literal["own", "entrusted", "on_behalf"]


@dataclass(frozen=True, slots=True)
class Holding:
    """One link of a chain: a unit, the basis it holds the right by, and the instrument (文号) that gave it."""

    unit_code: str
    basis: str
    instrument: str | None = None


@dataclass(frozen=True, slots=True)
class Issuer:
    """Who a notice names: the organ it is issued in the name of, the unit that took the step, and how they are
    related — ``own`` (the same organ, in its own name), ``entrusted`` (an organ acting for the entrusting one) or
    ``on_behalf`` (a committee or grid receiving for the organ: 代收、代办)."""

    organ: Organ
    acting: Organ
    relation: Relation
    instruments: tuple[str, ...] = ()  # the grants between the two, nearest the acting unit first

    @property
    def handling_note(self) -> str | None:
        """The line a notice prints under the organ's name when another body took the step."""
        if self.relation == "entrusted":
            return f"受{self.organ.name}委托，由{self.acting.name}办理"
        if self.relation == "on_behalf":
            return f"{self.acting.name}代{self.organ.name}收件（代收代办）"
        return None


def issuer_of(chain: Sequence[Holding], organs: Mapping[str, Organ]) -> Issuer:
    """The organ a notice is issued in the name of. ``chain`` starts at the unit that took the step and ends at
    the tenant root; ``organs`` has every unit it names."""
    acting = organs[chain[0].unit_code]
    entrusted = False
    instruments: list[str] = []
    for holding in chain:
        organ = organs[holding.unit_code]
        if organ.administrative and holding.basis in OWN_NAME:
            if organ.unit_code == acting.unit_code:
                return Issuer(organ, acting, "own")
            relation: Relation = "entrusted" if entrusted and acting.administrative else "on_behalf"
            return Issuer(organ, acting, relation, tuple(instruments))
        entrusted = entrusted or holding.basis == "entrusted"
        if holding.instrument:
            instruments.append(holding.instrument)
    # the root holds every item by law; only a tenant that marked its root as no organ gets here
    root = organs[chain[-1].unit_code]
    return Issuer(root, acting, "own" if root.unit_code == acting.unit_code else "on_behalf", tuple(instruments))


async def issuing_organ(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    organs: Mapping[str, Organ],
    unit: str,
    item: str,
    action: str,
    at: datetime,
) -> Issuer:
    """The issuer of the notice of a step ``unit`` took on ``item`` at ``at`` (the grants as they were then).
    ``organs`` must hold ``unit`` and its ancestors (``organ_codes``)."""
    chain = await holding_chain(session, registry, scope, unit, item, action, at)
    return issuer_of(chain, organs)


async def holding_chain(
    session: AsyncSession,
    registry: AuthorityRegistry,
    scope: TenantScope,
    unit: str,
    item: str,
    action: str,
    at: datetime,
) -> list[Holding]:
    """The holdings from ``unit`` up to the tenant root at ``at``: every unit a grant covers on the way holds by
    that grant's basis (a subtree grant to a county covers its townships too), then the grantor by its own grant.
    A step the grants did not allow then (records older than the grants that now explain them) is read up the
    hierarchy instead, as the nearest organ's."""
    grants = await grant_chain(session, registry, scope, unit, item, action, at)
    if grants is None:
        log.warning("issuer_without_grant", unit=unit, item=item, action=action)
    return holdings(unit, scope.tenant_code, grants)


class _Granted(Protocol):
    @property
    def unit_code(self) -> str: ...
    @property
    def grantor_unit_code(self) -> str: ...
    @property
    def basis(self) -> str: ...
    @property
    def instrument(self) -> str: ...


def holdings(unit: str, root: str, grants: Sequence[_Granted] | None) -> list[Holding]:
    """The chain of :func:`holding_chain` from the grants (nearest first; empty: the root's own authority; None:
    no grant allowed the step, so every unit up the hierarchy is read as holding it from the one above)."""
    if grants is None:
        return [Holding(code, "devolved") for code in _span(unit, root)[:-1]] + [Holding(root, "statutory")]
    chain: list[Holding] = []
    low = unit
    for grant in grants:
        chain += [Holding(code, grant.basis, grant.instrument) for code in _span(low, grant.unit_code)]
        low = grant.grantor_unit_code
    return chain + [Holding(code, "statutory") for code in _span(low, root)]


def _span(low: str, high: str) -> list[str]:
    """The codes from ``low`` up to ``high``, both included (``high`` is ``low`` or one of its ancestors)."""
    return [low, *[code for code in reversed(ancestor_codes(low)) if code.startswith(high)]]


def organ_codes(unit: str) -> list[str]:
    """Every code a chain from ``unit`` can name: the unit and its ancestors (whoever a grant covers, and its
    grantor, lie on the way up)."""
    return [unit, *ancestor_codes(unit)]
