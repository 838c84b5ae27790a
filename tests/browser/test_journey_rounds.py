"""A resident's journey through rounds 1 and 2: open the card's link, answer the survey, see the needs list,
comment on a scheme, read the answer. Workers' steps go through the same services their pages call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.services import create_user
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.db import utcnow
from consult.extensions import db
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds
from consult.schemes import services as schemes
from consult.schemes.models import SchemeComment
from consult.schemes.rules import AnswerOutcome
from consult.surveys import services as surveys
from consult.surveys.rules import Decision
from consult.surveys.rules import top_codes
from tests.browser.conftest import assert_accessible
from tests.browser.conftest import screenshot

ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n5,1,301,68.20,周秀兰\n5,1,302,70.00,吴建国\n"


def test_resident_answers_the_survey_and_comments_on_the_scheme(page: Any, data: Flask) -> None:
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, "清溪东路5号院")
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    worker = create_user("w@example.test", "李明", "a long password", Role.WORKER, street)
    [card, _other] = issue_cards(card_people(compound), compound, "test", utcnow())
    needs_round, scheme_round, _vote = plan_default_rounds(compound, utcnow() - timedelta(hours=1), "test")
    survey = surveys.create_survey(needs_round, "test", utcnow())
    apply(needs_round, Action.OPEN, "test", utcnow())
    db.session.commit()

    # round 1 up: the card's link, the privacy notice, the survey
    page.goto(f"/r/{card.token}")
    page.get_by_role("button", name="我知道了").click()
    page.get_by_role("link", name="调查：小区改造和您的需求（第 1 轮）").click()
    page.get_by_label("我同意").check()
    page.get_by_label("屋面防水").check()
    page.get_by_label("外墙修缮").check()
    screenshot(page, "30-survey")
    assert_accessible(page)
    page.get_by_role("button", name="保存我的回答").click()
    assert "保存" in page.get_by_role("status").inner_text()

    # round 1 down: the workers decide on the top needs and publish the needs list
    apply(needs_round, Action.CLOSE, "test", needs_round.closes_at + timedelta(seconds=1))
    for code in top_codes(surveys.needs_list(survey)):
        surveys.record_decision(survey, code, Decision.IN_SCHEME, "", "test", utcnow())
    apply(needs_round, Action.PUBLISH, "test", needs_round.closes_at + timedelta(seconds=2))
    db.session.commit()
    page.goto("/me")
    page.get_by_role("link", name="小区需求清单").first.click()
    assert "屋面防水" in page.get_by_role("main").inner_text()
    screenshot(page, "31-needs-list")
    assert_accessible(page)

    # round 2 up: a scheme with one item; the resident comments on it
    scheme = schemes.add_scheme(scheme_round, "方案一：整治为主", "test")
    schemes.add_item(scheme.latest, "屋面防水重做", "全部楼栋屋面重新做防水层。", "test")
    apply(scheme_round, Action.OPEN, "test", utcnow())
    db.session.commit()
    page.goto("/me")
    page.get_by_role("link", name="第 2 轮：对设计方案提意见").click()
    page.get_by_label("您对这一项的意见").first.fill("希望顺便加装太阳能热水器的支架。")
    screenshot(page, "32-comment")
    assert_accessible(page)
    page.get_by_role("button", name="提交意见").first.click()
    db.session.rollback()
    [comment] = db.session.scalars(select(SchemeComment)).all()

    # round 2 down: the comment is answered, the scheme revised, the answers published
    apply(scheme_round, Action.CLOSE, "test", scheme_round.closes_at + timedelta(seconds=1))
    answer = "支架可以预留，热水器由住户自购。"
    schemes.answer_comment(comment, AnswerOutcome.PARTLY, answer, worker, utcnow())
    schemes.revise(scheme, "test", utcnow(), "预留太阳能支架。")
    apply(scheme_round, Action.PUBLISH, "test", scheme_round.closes_at + timedelta(seconds=2))
    db.session.commit()
    page.goto("/me")
    page.get_by_role("link", name="第 2 轮：修改后的方案和意见答复").first.click()
    main = page.get_by_role("main").inner_text()
    assert answer in main
    assert "部分采纳" in main
    screenshot(page, "33-answer")
    assert_accessible(page)
    page.goto(f"/p/{compound.id}")
    page.get_by_role("link", name="第 2 轮的设计方案，包括图纸和对意见的答复").click()
    assert answer in page.get_by_role("main").inner_text()
    assert "周秀兰" not in page.content()
    assert_accessible(page)
