"""Every staff page (each GET route of the role × route table that staff use), in the access world at its
stage, as a staff member in its row: no serious or critical axe violation at 1280 px."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from consult.compounds.models import Dwelling
from consult.extensions import db
from tests.browser.conftest import axe_violations
from tests.resident_pages import NOT_PAGES
from tests.resident_pages import PAGES
from tests.security.access_world import PASSWORD
from tests.security.access_world import build_world
from tests.security.test_access_table import ACCESS
from tests.security.test_access_table import ADMIN
from tests.security.test_access_table import ANONYMOUS
from tests.security.test_access_table import CARD_HOLDERS
from tests.security.test_access_table import EXPERT
from tests.security.test_access_table import REVIEWER
from tests.security.test_access_table import STAGE
from tests.security.test_access_table import WORKER
from tests.security.test_access_table import url_for_rule

#: who walks a page: the first staff member of its row in this order
WALKERS = (WORKER, ADMIN, REVIEWER, EXPERT)
#: pages of the members of an expert panel (their rows are empty: the walk's expert sits on no panel)
PANEL = "panel"
PANEL_PAGES = {"experts.conflict", "experts.score", "experts.opinion", "experts.remark"}
PANEL_EMAIL = "panel@example.test"
#: staff routes that answer with a file, not a page
FILES = {
    "district.compounds_export",
    "voting.paper_photo",
    "voting.proxy_photo",
    "schemes.document",
    "dossier.pdf",
}
#: staff pages that anyone may open (the rest of those rows are resident pages)
OPEN_STAFF_PAGES = {"auth.login", "auth.forgot", "auth.reset"}
#: the page between a right password and the app's code (its row is empty): walked by its own test below
MID_SIGN_IN = {"auth.second_factor"}
RESIDENT_ROUTES = {p.endpoint for p in PAGES} | set(NOT_PAGES) - OPEN_STAFF_PAGES


def staff_endpoints(app: Flask) -> dict[str, str]:
    """endpoint -> who walks it, for every staff page of the app."""
    walked = {}
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if "GET" not in rule.methods or endpoint == "static" or endpoint.startswith("api."):
            continue
        if endpoint in FILES or endpoint in RESIDENT_ROUTES or endpoint in MID_SIGN_IN:
            continue
        allowed = ACCESS[endpoint]
        if endpoint in OPEN_STAFF_PAGES:
            walked[endpoint] = ANONYMOUS
        elif endpoint in PANEL_PAGES:
            walked[endpoint] = PANEL
        else:
            assert not allowed & (CARD_HOLDERS | {ANONYMOUS}), f"{endpoint}: a resident route, list it"
            walkers = [p for p in WALKERS if p in allowed]
            assert walkers, f"{endpoint}: nobody walks it"
            walked[endpoint] = walkers[0]
    return walked


STAGES = ("needs", "needs_published", "schemes", "vote")


@pytest.fixture
def desktop(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1280, "height": 900}, locale="zh-CN", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.width_name = "desktop"
    yield page
    context.close()


def sign_in(page: Any, email: str) -> None:
    page.context.clear_cookies()
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()
    assert "/auth/login" not in page.url, f"{email} could not sign in"


def test_every_staff_route_is_walked(server_app: Flask) -> None:
    walked = staff_endpoints(server_app)
    assert {"compounds.detail", "voting.paper_new", "paper.ballot_sheets", "experts.score"} <= set(walked)


@pytest.mark.parametrize("stage", STAGES)
def test_staff_pages_have_no_serious_axe_violation(
    desktop: Any, data: Flask, tmp_path: Any, stage: str
) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    walked = {e: who for e, who in staff_endpoints(data).items() if STAGE.get(e, "needs") == stage}
    world = build_world(stage)
    rules = {r.endpoint: r for r in data.url_map.iter_rules()}
    emails = {**world.emails, PANEL: PANEL_EMAIL}
    problems = []
    visited: list[str] = []
    for who in sorted(set(walked.values())):
        if who == ANONYMOUS:
            desktop.context.clear_cookies()
        else:
            sign_in(desktop, emails[who])
        for endpoint in sorted(e for e, w in walked.items() if w == who):
            url, absent = url_for_rule(data, rules[endpoint], world)
            assert not absent, f"{endpoint}: the world of stage {stage} lacks {absent}"
            visited.append(endpoint)
            response = desktop.goto(url)
            if response.status >= 400 or ("/auth/login" in desktop.url and endpoint != "auth.login"):
                problems.append(f"{endpoint} as {who}: {response.status} at {desktop.url}")
                continue
            violations = axe_violations(desktop)
            if violations:
                problems.append(f"{endpoint} as {who} ({url}): {violations}")
            if endpoint == "surveys.paper_answer":  # and the entry form of one home's sheet
                dwelling = db.session.scalars(select(Dwelling.id).order_by(Dwelling.id)).first()
                desktop.goto(f"{url}?dwelling={dwelling}")
                assert desktop.locator("main form[method=post]").count() == 1
                violations = axe_violations(desktop)
                if violations:
                    problems.append(f"{endpoint} as {who} (one home's sheet): {violations}")
    assert problems == []
    assert sorted(visited) == sorted(walked)


def test_two_step_sign_in_in_the_browser(desktop: Any, data: Flask) -> None:
    """A staff member turns two-step sign-in on from its page, is shown their recovery codes, signs out,
    and signs in again with the password and then the app's code; no page on the way has a serious axe
    violation."""
    import re
    import time

    from consult.auth.rules import time_step
    from consult.auth.rules import totp_code

    world = build_world("needs")
    email = world.emails[WORKER]
    sign_in(desktop, email)
    desktop.goto("/auth/two-step")
    assert axe_violations(desktop) == []
    secret = re.sub(r"\s", "", desktop.locator("main code").inner_text())
    desktop.fill("#code", totp_code(secret, time_step(time.time())))
    with desktop.expect_navigation():
        desktop.locator("main button[type=submit]").click()
    assert "两步登录已开启" in desktop.locator("body").inner_text()
    codes = desktop.locator("main .recovery-codes code").all_inner_texts()  # shown this once
    assert len(codes) == 10
    assert axe_violations(desktop) == []
    with desktop.expect_navigation():
        desktop.locator("main a.button").click()  # "I have kept them"
    assert desktop.url.endswith("/auth/two-step")
    assert "还剩 10 个恢复码" in desktop.locator("main").inner_text()
    assert axe_violations(desktop) == []  # two forms, each with its own code field
    with desktop.expect_navigation():
        desktop.locator("form[action='/auth/logout'] button").click()
    desktop.goto("/auth/login")
    desktop.fill("#email", email)
    desktop.fill("#password", PASSWORD)
    with desktop.expect_navigation():
        desktop.locator("main button[type=submit]").click()
    assert desktop.url.endswith("/auth/code")
    assert axe_violations(desktop) == []
    desktop.fill("#code", totp_code(secret, time_step(time.time()) + 1))  # the first code is used
    with desktop.expect_navigation():
        desktop.locator("main button[type=submit]").click()
    assert desktop.url.endswith("/compounds/")
