"""Every main page as the person it is for sees it on the demo data: one ``<h1>``, no error, and ``snap``
(screenshots at 390 and 1280 px, axe-core, no sideways scrolling on a phone). The journeys change data; this
tour only reads, so the pages are also checked in the states the demo's 300 cases put them in."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from e2e.browser import Snapper, log_in

# who -> (path, or "first:<css>" to follow the first such link on the previous page; screenshot name)
TOURS: dict[str, list[tuple[str, str]]] = {
    "anonymous": [
        ("/progress", "progress"),
        ("/verify", "verify"),
        ("/guide/64", "guide-index"),
        ("/guide/64/HRSS-04?unit=640202001001", "guide"),
        ("/lists/640202001", "power-list"),
        ("/policies/64?q=就业", "policies"),
    ],
    "jm_grid": [("/intake", "intake"), ("/intake/new", "intake-new"), ("/intake/new/HRSS-01", "intake-item")],
    "cs_clerk": [
        ("/desk", "desk"),
        ("first:main a[href^='/cases/']", "case"),
        ("/desk/back", "desk-back"),
        ("/inbox", "inbox"),
        ("/supervision/accountability", "accountability-own"),
    ],
    "dwk_desk": [
        ("/escalations", "escalations"),
        ("first:main td a[href^='/escalations/']", "escalation"),
        ("/escalations/new", "escalation-new"),
    ],
    "dwk_head": [
        ("/escalations", "escalations-leader"),
        ("first:main td a[href^='/escalations/']", "escalation-steps"),
        ("/inbox", "inbox-leader"),
    ],
    "dwk_admin": [("/escalations/roster", "escalation-roster"), ("/units", "units"), ("/units/640202001", "unit")],
    "nx_admin": [
        ("/authority", "authority"),
        ("/authority/explain", "authority-explain"),
        ("/authority/grants/new", "grant-new"),
        ("/authority/grants", "grants"),
        ("first:main a[href^='/authority/grants/']:not([href$='/new'])", "grant"),
        ("/share", "share-apps"),
        ("first:main a[href^='/share/apps/']", "share-app"),
        ("/share/new", "share-new"),
        ("/notifications/sms", "sms-templates"),
        ("/catalog", "catalog"),
        ("/catalog/items/HRSS-04", "catalog-item"),
        ("/catalog/items/HRSS-04/edit", "catalog-edit"),
        ("/catalog/editions/1", "catalog-edition"),
    ],
    "nx_supervisor": [("/supervision", "supervision")],
    "dwk_supervisor": [
        ("/supervision/performance?unit=640202", "performance"),
        ("/supervision/performance?unit=640202&by=staff", "performance-staff"),
        ("/supervision/orders", "orders"),
        ("first:main td a[href^='/supervision/orders/']", "order-review"),
        ("/supervision/follow-ups", "follow-ups"),
        ("first:main td a[href^='/supervision/follow-ups/']", "follow-up"),
        ("/supervision/accountability", "accountability"),
        ("first:main td a[href^='/supervision/accountability/']", "accountability-record"),
        ("/supervision/accountability/new", "accountability-new"),
        ("/supervision/rankings", "rankings"),
    ],
    "cs_head": [
        ("/supervision/orders?status=issued", "orders-head"),
        ("first:main td a[href^='/supervision/orders/']", "order-reply"),
    ],
}


@pytest.mark.parametrize("who", list(TOURS))
def test_main_pages(page: Page, snap: Snapper, who: str) -> None:
    if who != "anonymous":
        log_in(page, who)
    for step, name in TOURS[who]:
        target = step
        if step.startswith("first:"):
            link = page.locator(step.removeprefix("first:")).first
            expect(link).to_be_visible()
            target = str(link.get_attribute("href"))
        response = page.goto(target)
        assert response is not None and response.status == 200, f"{who} {target}: {response and response.status}"
        expect(page.get_by_role("heading", level=1)).to_have_count(1)
        snap(page, name)
