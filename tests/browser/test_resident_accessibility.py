"""Every resident page (tests/resident_pages.py), in both languages and at both type sizes, on a 360 px
phone: no axe violation at all (not only serious ones), no sideways scrolling, and a full-page screenshot
in large type kept in artifacts/screenshots/. Pages with a form are also sent empty, so the page with its
errors is checked too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.browser.conftest import axe_violations
from tests.browser.conftest import screenshot
from tests.resident_pages import STAGES
from tests.resident_pages import pages_of
from tests.resident_pages import resident_world
from tests.resident_pages import token_of

ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
BUTTONS = {
    "zh_CN": {"large": "大字", "lang": "中文"},
    "en": {"large": "Large type", "lang": "English"},
}


@pytest.fixture
def phone(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=base_url, viewport={"width": 360, "height": 800}, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width_name = "phone"
    page.elsewhere = []
    page.on("request", lambda r: None if r.url.startswith(base_url) else page.elsewhere.append(r.url))
    yield page
    context.close()


def press(page: Any, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).first.click()


#: controls a finger must hit, and how small each may be drawn (px): a radio button or checkbox is hit
#: through its whole line (.choice), so the line is measured
TARGETS = "button, select, input[type=text], input[type=email], textarea, summary, .choice, header.site a"
SMALL_TARGETS = """(selector) => [...document.querySelectorAll(selector)]
  .filter(e => e.getClientRects().length)
  .map(e => ({html: e.outerHTML.slice(0, 80), w: e.getBoundingClientRect().width,
              h: e.getBoundingClientRect().height}))
  .filter(t => t.w < 44 || t.h < 44)"""


def check(page: Any, name: str, large: bool) -> None:
    violations = axe_violations(page, ALL_IMPACTS)
    assert violations == [], f"{name}: {violations}"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name}: scrolls sideways by {overflow}px"
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= (36 if large else 18), f"{name}: body text is {body}px"
    small = page.evaluate(SMALL_TARGETS, TARGETS)
    assert small == [], f"{name}: touch targets under 44 px: {small}"
    assert page.elsewhere == [], f"{name}: requests to another site: {page.elsewhere}"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("stage", STAGES)
def test_every_resident_page_passes_axe(
    phone: Any, data: Flask, tmp_path: Any, stage: str, lang: str
) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    world = resident_world(stage)
    phone.goto("/code")
    if lang == "en":
        press(phone, BUTTONS["en"]["lang"])
    assert phone.locator("html").get_attribute("lang") == lang.replace("_", "-")
    checked = []
    for large in (False, True):
        if large:
            press(phone, BUTTONS[lang]["large"])
        visitor = "anonymous"
        for page in pages_of(stage):
            if page.visitor != visitor:
                visitor = page.visitor
                phone.goto(f"/r/{token_of(world, visitor)}")
            response = phone.goto(page.path(world))
            if page.submit:
                with phone.expect_navigation() as sent:
                    phone.locator("main form[method=post] button[type=submit]").first.click()
                response = sent.value
                assert phone.locator(".error-summary").count() >= 1, f"{page.name}: no error summary"
            assert response.status == page.status, f"{page.name}: {response.status}"
            assert (phone.locator("html.large").count() == 1) is large, page.name
            name = f"{lang}-{'large' if large else 'normal'}-{page.name}"
            check(phone, name, large)
            if large:
                screenshot(phone, f"resident-{lang}-large-{page.name}")
            checked.append(page.name)
    assert checked == [p.name for p in pages_of(stage)] * 2


def test_keyboard_reaches_the_content_with_a_visible_focus(phone: Any, data: Flask) -> None:
    phone.goto("/code")
    phone.keyboard.press("Tab")
    focused = phone.evaluate(
        """() => { const e = document.activeElement; const s = getComputedStyle(e);
                  const r = e.getBoundingClientRect();
                  return {cls: e.className, outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                          visible: r.left >= 0 && r.width > 0}; }"""
    )
    assert focused["cls"] == "skip"
    assert focused["outline"] != "none"
    assert focused["width"] >= 2
    assert focused["visible"]
    phone.keyboard.press("Enter")
    assert phone.evaluate("location.hash") == "#main"
