"""The checks behind ``snap`` can fail: a page broken on purpose must be refused, for the reasons it is broken."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.browser import Snapper

_BREAK = """() => {
  const main = document.querySelector('main');
  main.insertAdjacentHTML('beforeend',
    '<input type="text" name="unlabelled">'
    + '<p style="color:#eee;background:#fff">几乎看不见的文字</p>'
    + '<div style="width:900px">比手机屏幕还宽的一行</div>'
    + '<img src="/static/web/missing.png">');
  setTimeout(() => { throw new Error('deliberate'); }, 0);
}"""


def test_snap_refuses_a_broken_page_and_says_why(page: Page, tmp_path: Path) -> None:
    snap = Snapper(tmp_path)  # its own folder: these screenshots are not the product's
    snap.watch(page)
    page.goto("/login")
    snap(page, "clean")  # the login page passes …
    page.evaluate(_BREAK)
    with pytest.raises(pytest.fail.Exception) as refused:
        snap(page, "broken")  # … and the same page broken on purpose does not
    message = str(refused.value)
    for reason in (
        "axe critical label",  # an input without a label
        "axe serious color-contrast",
        "axe critical image-alt",
        "wider than a 390 px screen: div",
        "JavaScript error: deliberate",
        "asset http://127.0.0.1:",  # /static/web/missing.png answered 404
    ):
        assert reason in message, message
    assert (tmp_path / "broken-390.png").exists() and (tmp_path / "broken-1280.png").exists()
    assert (tmp_path / "broken-axe.json").exists() and not (tmp_path / "clean-axe.json").exists()
    with pytest.raises(AssertionError, match="used twice"):
        snap(page, "clean")
