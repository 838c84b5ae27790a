"""No resident task needs JavaScript: with scripts switched off, a resident comes in by the card link,
reads the privacy notice, answers the survey, comments on a scheme and votes, and gets a receipt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from consult.extensions import db
from consult.schemes.models import SchemeComment as Comment
from consult.surveys.models import SurveyAnswer
from consult.voting.models import BallotReceipt
from tests.resident_pages import resident_world


@pytest.fixture
def no_script(browser: Any, base_url: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=base_url, viewport={"width": 360, "height": 800}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def send(page: Any, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


def test_survey_without_javascript(no_script: Any, data: Flask, tmp_path: Any) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    world = resident_world("needs")
    page = no_script
    page.goto(f"/r/{world.ids['token']}")  # 李娜: the privacy notice first
    send(page, "我知道了")
    with page.expect_navigation():
        page.locator("main a[href*='/me/survey/']").first.click()
    page.get_by_label("我同意").check()
    page.locator("input[name=needs]").first.check()
    send(page, "保存我的回答")
    assert page.url.endswith("/me")
    db.session.rollback()
    assert db.session.scalars(select(SurveyAnswer)).all() != []


def test_comment_without_javascript(no_script: Any, data: Flask, tmp_path: Any) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    world = resident_world("schemes")
    page = no_script
    page.goto(f"/r/{world.tokens['resident']}")
    page.goto(f"/me/schemes/{world.rounds[2]}")
    before = len(db.session.scalars(select(Comment)).all())
    page.locator("main textarea").first.fill("楼道里请多装几盏灯")
    with page.expect_navigation():
        page.locator("main form[method=post] button[type=submit]").first.click()
    db.session.rollback()
    assert len(db.session.scalars(select(Comment)).all()) == before + 1


def test_vote_without_javascript(no_script: Any, data: Flask, tmp_path: Any) -> None:
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    world = resident_world("vote")
    page = no_script
    page.goto(f"/r/{world.tokens['resident']}")
    page.goto(f"/me/vote/{world.rounds[3]}/for/{world.ids['proxy_giver']}")  # 李娜 has not voted yet
    for group in page.locator("main fieldset").all():
        group.locator("input[type=radio]").last.check()  # abstain on each
    send(page, "提交投票")
    assert "/receipt/" in page.url
    db.session.rollback()
    assert len(db.session.scalars(select(BallotReceipt)).all()) == 2  # the owner's own, and this one
