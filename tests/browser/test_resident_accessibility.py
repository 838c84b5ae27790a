"""Every resident page, in both languages and at both type sizes: no axe violation at all, and no
sideways scrolling on a 360 px phone."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

import pytest
from flask import Flask

from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.extensions import db
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.browser.conftest import axe_violations
from tests.browser.conftest import screenshot

ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n3,2,501,76.40,陈秀英\n"
ALL_IMPACTS = ("minor", "moderate", "serious", "critical")


def switch(page: Any, button_name: str) -> None:
    page.get_by_role("button", name=button_name).first.click()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_resident_pages_pass_axe_at_both_sizes(page: Any, data: Flask, lang: str) -> None:
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "芳邻路2号小区")
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    [card] = issue_cards(card_people(compound), compound, "test", datetime.now(UTC))
    db.session.commit()

    page.goto("/code")
    if lang == "en":
        switch(page, "English")
    paths = [f"/p/{compound.id}", "/code", f"/p/{compound.id}/code"]
    for large in (False, True):
        if large:
            switch(page, "大字" if lang == "zh_CN" else "Large type")
        for path in paths:
            page.goto(path)
            check(page, f"{lang}-{'large' if large else 'normal'}-{path}")
        page.goto(f"/r/{card.token}")  # the privacy notice, then the home page
        check(page, f"{lang}-{'large' if large else 'normal'}-privacy")
        page.get_by_role("button", name="我知道了" if lang == "zh_CN" else "I understand").click()
        check(page, f"{lang}-{'large' if large else 'normal'}-home")
        if not large:
            db.session.execute(db.text("DELETE FROM privacy_acknowledgement"))
            db.session.commit()


def check(page: Any, name: str) -> None:
    violations = axe_violations(page, ALL_IMPACTS)
    assert violations == [], f"{name}: {violations}"
    if page.width_name == "phone":
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name}: scrolls sideways by {overflow}px"
    if "large" in name and "home" in name:
        screenshot(page, f"20-resident-{name.split('-')[0]}-large-home")
