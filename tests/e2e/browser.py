"""What the browser tests do with a page: log in through the form, wait until it is settled, and ``snap`` it —
full-page screenshots at a phone's and a desktop's width, checked by axe-core and for sideways scrolling."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, ViewportSize

from fuquan.platform.accounts.factors import STEP_SECONDS, code_at
from fuquan.platform.setup.demo import DEMO_PASSWORD

AXE_URL = "/static/vendor/axe-core/axe.min.js"  # vendored; served by the app like any asset, never fetched online
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)
FAILING_IMPACTS = ("serious", "critical")

_SETTLED = """() => document.readyState === 'complete'
    && !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping, .htmx-added')"""

_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html.slice(0, 160)})),
  }));
}"""

# the page is wider than the screen: name the outermost elements sticking out (tables belong in .table-scroll)
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const out = [...document.body.querySelectorAll('*')].filter(e => e.getBoundingClientRect().right > width + 1);
  return out.filter(e => !out.includes(e.parentElement)).slice(0, 8).map(e =>
    e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string'
      ? '.' + e.className.trim().split(/\\s+/).join('.') : '') + ' (' + Math.round(e.getBoundingClientRect().right)
      + ' px) ' + (e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40));
}"""


def settle(page: Page) -> None:
    """Wait for the network to go quiet, htmx swaps to finish and the (CJK) web fonts to be ready."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function(_SETTLED)
    page.evaluate("() => document.fonts.ready.then(() => true)")


# The demo's admins bind an authenticator on their first login, as a person would: the browser reads the secret
# off the enrolment page and keeps it for the run (per server), making each later code from it. A code works once,
# so each login uses a step after the last one used (waiting for the clock after two within one step).
_SECRETS: dict[tuple[str, str], str] = {}
_LAST_STEP: dict[tuple[str, str], int] = {}


def _next_code(key: tuple[str, str]) -> str:
    now = int(time.time()) // STEP_SECONDS
    step = max(now, _LAST_STEP.get(key, -1) + 1)
    if step > now + 1:
        time.sleep(max(0.0, (step - 1) * STEP_SECONDS - time.time() + 0.5))
    _LAST_STEP[key] = step
    return code_at(_SECRETS[key], step)


def prove_code(page: Page, username: str, on_recovery_codes: Callable[[Page], None] | None = None) -> bool:
    """On the code page of ``username``'s login: bind first if the enrolment is shown, type the next code, and
    go past the recovery codes (shown to ``on_recovery_codes`` first). False when this is not a code page (not an
    admin)."""
    form = page.locator('form[action="/login/code"]')
    if not form.count():
        return False
    key = (urlparse(page.url).netloc, username)
    shown = page.locator("#factor-secret")
    if shown.count():
        _SECRETS[key] = str(shown.get_attribute("data-secret"))
        _LAST_STEP.pop(key, None)
    if key not in _SECRETS:
        pytest.fail(f"{username} is bound to an authenticator this run did not see (restart the demo servers)")
    page.locator("#code").fill(_next_code(key))
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    if page.get_by_role("heading", name="动态验证码已绑定").count():
        if on_recovery_codes is not None:
            on_recovery_codes(page)
        with page.expect_navigation():
            page.get_by_role("button", name="我已保存，继续").click()
    return True


def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form, as a person would (an admin then types the code of their authenticator);
    fails with the page's error message if refused."""
    page.goto("/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    prove_code(page, username)
    if urlparse(page.url).path in ("/login", "/login/code"):
        alert = page.get_by_role("alert")
        message = alert.inner_text() if alert.count() else page.title()
        pytest.fail(f"{username} could not log in: {message}")


@dataclass
class Snapper:
    """``snap(page, name)``: screenshots ``<name>-390.png`` and ``<name>-1280.png`` in ``directory``, and the
    checks every page must pass at both widths. All violations of any impact go to ``<name>-axe.json``."""

    directory: Path
    taken: set[str] = field(default_factory=set)
    page_errors: dict[int, list[str]] = field(default_factory=dict)  # id(page) -> uncaught JS errors, failed assets

    def watch(self, page: Page) -> None:
        errors = self.page_errors.setdefault(id(page), [])
        page.on("pageerror", lambda error: errors.append(f"JavaScript error: {error}"))
        page.on(  # the Content-Security-Policy refused something the page asked for
            "console",
            lambda message: (
                errors.append(f"CSP: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        page.on(
            "response",
            lambda response: (
                errors.append(f"asset {response.url} answered {response.status}")
                if response.status >= 400 and urlparse(response.url).path.startswith("/static/")
                else None
            ),
        )

    def __call__(self, page: Page, name: str) -> None:
        assert name not in self.taken, f"snap name {name!r} is used twice in this run; the first would be overwritten"
        self.taken.add(name)
        self.directory.mkdir(parents=True, exist_ok=True)
        original = page.viewport_size or DESKTOP
        settle(page)
        problems: list[str] = []
        report: dict[str, Any] = {"url": page.url}
        axe_widths: dict[str, list[str]] = {}  # one line per violation, with the widths it shows at
        for viewport in (PHONE, DESKTOP):
            width = viewport["width"]
            page.set_viewport_size(viewport)
            page.wait_for_function(_SETTLED)
            page.screenshot(path=str(self.directory / f"{name}-{width}.png"), full_page=True)
            if width == PHONE["width"]:
                problems += [f"wider than a {width} px screen: {culprit}" for culprit in page.evaluate(_OVERFLOW)]
            if not page.evaluate("() => typeof window.axe !== 'undefined'"):
                page.add_script_tag(url=AXE_URL)
            violations = page.evaluate(_AXE)
            report[str(width)] = violations
            for v in violations:
                if v["impact"] in FAILING_IMPACTS:
                    for node in v["nodes"]:
                        found = f"axe {v['impact']} {v['id']}: {v['help']} — {node['target']}  {node['html']}"
                        axe_widths.setdefault(found, []).append(str(width))
        page.set_viewport_size(original)
        if report["390"] or report["1280"]:
            (self.directory / f"{name}-axe.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))
        problems += [f"{found} (at {', '.join(widths)} px)" for found, widths in axe_widths.items()]
        problems += self.page_errors.get(id(page), [])
        if problems:
            pytest.fail(f"page {name!r} ({page.url}):\n  " + "\n  ".join(dict.fromkeys(problems)), pytrace=False)
