"""政策法规库: the laws and regulations the catalogue cites as 设定依据, and every instrument (文号) a grant was made
by, each linked to the items and grants it governs; searched by Chinese words (every word must appear in the
title, or in the name of an item or unit it governs)."""

from __future__ import annotations

import re
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.authority.repositories import GrantRepository
from fuquan.platform.catalog.services import Catalog
from fuquan.platform.core.timeutil import local_date
from fuquan.platform.public.schemas import LinkedGrant, LinkedItem, PolicyRead
from fuquan.tenants.repositories import UnitRepository
from fuquan.tenants.scope import TenantScope

LAW = "法律法规"
INSTRUMENT = "赋权文件"
RIGHTS = {"accept": "受理", "decide": "审批"}
_TITLE = re.compile(r"《([^》]{2,80})》")
_WORDS = re.compile(r"\s+")
MAX_RESULTS = 200


def cited_titles(legal_basis: str) -> list[str]:
    """The laws a 设定依据 cites (《…》), or the basis itself when it names none that way."""
    titles = _TITLE.findall(legal_basis)
    if titles:
        return [f"《{title}》" for title in dict.fromkeys(titles)]
    return [legal_basis.strip()] if legal_basis.strip() else []


async def library(session: AsyncSession, scope: TenantScope, catalog: Catalog) -> list[PolicyRead]:
    """Every entry of the library, laws first, then instruments, the most used first."""
    items: dict[str, list[LinkedItem]] = defaultdict(list)
    for item in catalog.items.values():
        for title in cited_titles(item.legal_basis):
            items[title].append(LinkedItem(item.code, item.name))
    grants = await GrantRepository(session).all_of_tenant(scope)
    names = await UnitRepository(session).names(scope, sorted({grant.unit_code for grant in grants}))
    linked: dict[str, list[LinkedGrant]] = defaultdict(list)
    for grant in grants:
        granted = catalog.items.get(grant.item_code)
        linked[grant.instrument.strip()].append(LinkedGrant(
            unit_code=grant.unit_code, unit_name=names.get(grant.unit_code, grant.unit_code),
            item_name=granted.name if granted else grant.item_code, right=RIGHTS.get(grant.action, grant.action),
            since=local_date(grant.valid_from, scope.timezone), revoked=grant.revoked_at is not None,
        ))  # fmt: skip
    laws = [PolicyRead(title=title, kind=LAW, items=found, grants=[]) for title, found in items.items()]
    instruments = [
        PolicyRead(title=title, kind=INSTRUMENT,
                   items=list({g.item_name: LinkedItem("", g.item_name) for g in found}.values()), grants=found)
        for title, found in linked.items() if title
    ]  # fmt: skip
    laws.sort(key=lambda entry: (-len(entry.items), entry.title))
    instruments.sort(key=lambda entry: (-len(entry.grants), entry.title))
    return [*laws, *instruments]


def search(entries: list[PolicyRead], query: str) -> list[PolicyRead]:
    """The entries in which every word of ``query`` appears (title, items, units); all of them for no words."""
    words = [word for word in _WORDS.split(query.strip()) if word]
    if not words:
        return entries[:MAX_RESULTS]
    found = []
    for entry in entries:
        text = " ".join([entry.title, *(i.name for i in entry.items), *(g.unit_name for g in entry.grants)])
        if all(word in text for word in words):
            found.append(entry)
    return found[:MAX_RESULTS]
