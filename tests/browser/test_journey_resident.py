"""A resident's first visit: the public notice page, a wrong code, the card's code, the privacy notice."""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime
from typing import Any

from flask import Flask

from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.extensions import db
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import screenshot

ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话\n3,2,501,76.40,陈秀英,13811112222\n3,2,502,80.00,周建国,\n"
)


def test_resident_comes_in_with_the_code_on_the_card(page: Any, data: Flask, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "芳邻路2号小区")
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    [card, _other] = issue_cards(card_people(compound), compound, "test", datetime.now(UTC))
    db.session.commit()

    page.goto(f"/p/{compound.id}")
    assert page.get_by_role("heading", level=1).inner_text() == "芳邻路2号小区"
    assert "陈秀英" not in page.content()
    screenshot(page, "10-public-notice")
    assert_accessible(page)

    page.get_by_role("link", name="输入邀请码").click()
    page.get_by_label("邀请码").fill("ABCDE-FGHJK")
    page.get_by_role("button", name="继续").click()
    assert page.get_by_role("alert").is_visible()
    screenshot(page, "11-wrong-code")
    assert_accessible(page)

    page.get_by_label("邀请码").fill(card.printed_code.lower())
    page.get_by_role("button", name="继续").click()
    assert page.url.endswith("/me")
    assert "3栋" in page.content() or "501" in page.content()
    screenshot(page, "12-privacy-notice")
    assert_accessible(page)

    page.get_by_role("button", name="我知道了").click()
    assert page.get_by_role("heading", name="现在可以参与的事项").is_visible()
    screenshot(page, "13-resident-home")
    assert_accessible(page)

    page.goto(f"/r/{card.token}")  # the card's link itself, as a scan would open it
    assert page.url.endswith("/me")
    logged = caplog.text
    assert "/r/[redacted]" in logged  # the request was logged, without its token
    for secret in (card.token, card.code, card.printed_code, "陈秀英", "13811112222"):
        assert secret not in logged
