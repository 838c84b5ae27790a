"""The vote in a real browser: an owner votes from the card's link and gets a receipt, then, after the
round closes, reads the result and finds the receipt in the public list; and three community workers enter
one paper ballot, the first two differently, the third settling it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from consult.auth.models import Role
from consult.auth.services import create_user
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.voting import services
from consult.voting.models import PaperSheet
from consult.voting.models import SheetState
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import screenshot
from tests.voting.conftest import jpeg_with_exif
from tests.voting.scenario import build_vote

PASSWORD = "browser journey pw"


def in_english(page: Any) -> None:
    page.get_by_role("button", name="English").click()


def test_an_owner_votes_gets_a_receipt_and_finds_it_after_the_result(page: Any, data: Flask) -> None:
    scenario = build_vote(acknowledge=False)
    round_id, compound_id = scenario.round.id, scenario.compound.id

    page.goto(f"/r/{scenario.cards['张伟'].token}")
    in_english(page)
    page.get_by_role("button", name="I understand").click()
    page.get_by_role("link", name="Vote on the renovation plan (round 3)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Vote of round 3"
    questions = page.locator("fieldset.question")
    assert questions.count() == 5  # the compound's four and the lift of their own unit
    screenshot(page, "40-ballot")
    assert_accessible(page)

    page.get_by_role("button", name="Cast my vote").click()  # nothing chosen: every question says so
    page.get_by_role("alert").wait_for(state="visible")
    assert_accessible(page)
    for n in range(questions.count()):
        questions.nth(n).locator("input[type=radio]").first.check()
    page.get_by_role("button", name="Cast my vote").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your vote is received"
    receipt = page.locator("#receipt-code").inner_text()
    assert len(receipt) == 14  # XXXX-XXXX-XXXX
    screenshot(page, "41-receipt")
    assert_accessible(page)

    round_ = db.session.get(Round, round_id)
    apply(round_, Action.CLOSE, "test", round_.closes_at)
    apply(round_, Action.PUBLISH, "test", round_.closes_at + timedelta(hours=1))
    db.session.commit()

    page.goto("/me")
    page.get_by_role("link", name="Result of the vote (round 3)").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Result of the vote of round 3"
    assert page.locator("svg.threshold-chart").count() >= 5
    assert "1 of 6 owners voted" in page.content()  # 2-1-202, its owner not known, counts as not voting
    assert "张伟" not in page.content()
    screenshot(page, "42-result")
    assert_accessible(page)

    page.get_by_role("link", name="Find your receipt").first.click()
    page.get_by_label("Your receipt code").fill(receipt.lower().replace("-", " "))
    page.get_by_role("button", name="Find it").click()
    page.get_by_role("status").get_by_text("its ballot is counted").wait_for(state="visible")
    screenshot(page, "43-receipt-found")
    assert_accessible(page)
    assert f"/p/{compound_id}/receipts/{round_id}" in page.url


def sign_in(page: Any, email: str) -> None:
    page.goto("/auth/login")
    if page.locator("html").get_attribute("lang") != "en":
        in_english(page)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()


def fill_paper(page: Any, day: str, pick: str) -> None:
    page.get_by_label("Signed on").fill(day)
    questions = page.locator("fieldset.question")
    for n in range(questions.count()):
        radios = questions.nth(n).locator("input[type=radio]")
        (radios.first if pick == "first" else radios.nth(1)).check()


def test_workers_enter_a_paper_ballot_twice_and_settle_a_mismatch(page: Any, data: Flask) -> None:
    scenario = build_vote()
    street = scenario.compound.street
    for who in ("a", "b", "c"):
        user = create_user(f"{who}@example.test", f"工作人员{who}", PASSWORD, Role.WORKER, street)
        user.locale = "en"
    db.session.commit()
    owner = scenario.cards["李娜"].person.owner
    base = f"/compounds/{scenario.compound.id}/votes/{scenario.round.id}/paper"
    day = scenario.round.opens_at.astimezone(services.local_zone()).date().isoformat()

    sign_in(page, "a@example.test")
    page.goto(base)
    page.get_by_label("Owner").select_option(str(owner.id))
    page.get_by_role("button", name="Continue").click()
    fill_paper(page, day, "first")
    page.set_input_files(
        "input[name=photo]",
        files=[{"name": "ballot.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_exif()}],
    )
    screenshot(page, "50-paper-first-entry")
    assert_accessible(page)
    page.get_by_role("button", name="Save the entry").click()
    page.get_by_text("First entry saved").wait_for(state="visible")
    screenshot(page, "51-paper-list")
    assert_accessible(page)
    sign_out(page)

    sheet_id = db.session.scalar(db.select(PaperSheet.id))
    sign_in(page, "b@example.test")
    page.goto(base)
    assert page.get_by_role("link", name=f"Enter ballot {sheet_id} again").count() == 1
    # worker b takes the obvious path for the same paper: it leads to the sheet waiting for its second entry
    page.get_by_label("Owner").select_option(str(owner.id))
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("This owner's paper ballot is waiting for its second entry: enter it here.").wait_for(
        state="visible"
    )
    assert page.url.endswith(f"{base}/{sheet_id}")
    assert_accessible(page)
    page.get_by_role("img", name="Photo of the signed ballot").wait_for(state="visible")  # once loaded
    fill_paper(page, day, "second")  # worker b reads it differently
    page.get_by_role("button", name="Save the entry").click()
    page.get_by_text("The entries differ").wait_for(state="visible")
    page.get_by_role("heading", name="The entries side by side").wait_for(state="visible")
    screenshot(page, "52-paper-mismatch")
    assert_accessible(page)
    sign_out(page)

    sign_in(page, "c@example.test")
    page.goto(base)
    page.get_by_role("link", name=f"Compare and resolve ballot {sheet_id}").click()
    assert page.locator("table.comparison tr.differs").count() >= 1
    fill_paper(page, day, "first")  # the photo shows what worker a read
    page.get_by_role("button", name="Save the entry").click()
    page.get_by_text("The entries match: the paper ballot counts.").wait_for(state="visible")
    screenshot(page, "53-paper-confirmed")
    assert_accessible(page)

    db.session.expire_all()
    assert db.session.scalars(db.select(PaperSheet.id)).all() == [sheet_id]  # one signed paper, one sheet
    sheet = db.session.get(PaperSheet, sheet_id)
    assert sheet.state is SheetState.CONFIRMED
    assert [e.chosen for e in sheet.entries] == [True, False, False]
    assert services.my_choices(scenario.round, owner.id)
