"""Paper versions of the survey and the ballot: they match the online forms item for item, staff print them
per compound and per building, a resident prints their own, and a worker enters the signed sheet so that
it counts."""

from __future__ import annotations

import html
import re
from datetime import UTC
from datetime import datetime
from io import BytesIO

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.paper.rules import ballot_sheet_code
from consult.paper.rules import in_building
from consult.paper.rules import survey_sheet_code
from consult.rounds.models import Round
from consult.surveys import services as surveys
from consult.surveys.models import SurveyAnswer
from consult.voting import services as voting
from consult.voting.models import PaperSheet
from consult.voting.models import SheetState
from tests.security.access_world import PASSWORD
from tests.security.access_world import build_world
from tests.security.access_world import png

OPTION = re.compile(r'<input [^>]*type="(?:radio|checkbox)"[^>]*> <label for="[^"]+">([^<]*)</label>')
LEGEND = re.compile(r"<legend>(\d+\. [^<]*)</legend>")
PAPER_OPTION = re.compile(
    r'<li class="choice-line"><span class="box" aria-hidden="true"></span><span>([^<]*)</span>'
)
PAPER_ITEM = re.compile(r'<h3 class="item">([^<]*)</h3>')
SHEET = re.compile(r"<dd>([SB]\d+)</dd>")


def texts(pattern: re.Pattern[str], page: str) -> list[str]:
    return [html.unescape(t).strip() for t in pattern.findall(page)]


@pytest.fixture
def world(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")

    def _build(stage: str):
        return build_world(stage)

    return _build


def sign_in_resident(client, token: str) -> None:
    assert client.get(f"/r/{token}").status_code == 302


def test_sheet_codes_and_building_filter():
    assert survey_sheet_code(12) == "S12"
    assert ballot_sheet_code(7) == "B7"
    assert in_building([3, 4], None)
    assert in_building([3, 4], 4)
    assert not in_building([3], 4)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_paper_ballot_matches_the_online_ballot_item_for_item(client, world, lang):
    w = world("vote")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    sign_in_resident(client, w.tokens["resident"])
    online = client.get(f"/me/vote/{w.rounds[3]}").get_data(as_text=True)
    paper = client.get(f"/me/vote/{w.rounds[3]}/print")
    assert paper.status_code == 200
    page = paper.get_data(as_text=True)
    assert texts(LEGEND, online), "the online ballot has questions"
    assert texts(PAPER_ITEM, page) == texts(LEGEND, online)
    assert texts(PAPER_OPTION, page) == texts(OPTION, online)
    assert 'href="/static/css/paper.css"' in page
    assert len(SHEET.findall(page)) == 1  # 张伟: one sheet


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_paper_survey_matches_the_online_survey_item_for_item(client, world, lang):
    w = world("needs")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    sign_in_resident(client, w.tokens["resident"])
    online = client.get(f"/me/survey/{w.rounds[1]}").get_data(as_text=True)
    page = client.get(f"/me/survey/{w.rounds[1]}/print").get_data(as_text=True)
    options = texts(OPTION, online)
    assert len(options) > 10
    assert texts(PAPER_OPTION, page) == options
    assert len(texts(PAPER_ITEM, page)) == 4  # willingness, needs, dangers, the worker's own question
    assert len(SHEET.findall(page)) == 1  # 张伟 holds one home


def test_an_occupant_has_no_paper_ballot_but_a_paper_survey(client, world):
    w = world("vote")
    sign_in_resident(client, w.tokens["occupant"])
    assert client.get(f"/me/vote/{w.rounds[3]}/print").status_code == 403


def test_staff_print_ballots_per_compound_and_per_building(client, auth, world):
    w = world("vote")
    auth.login(w.emails["worker"], PASSWORD)
    url = f"/compounds/{w.compound}/votes/{w.rounds[3]}/print"
    whole = client.get(url).get_data(as_text=True)
    assert len(SHEET.findall(whole)) == 3  # 张伟, 李娜, 陈秀英: one sheet per owner
    one = client.get(f"{url}?building={w.building}").get_data(as_text=True)
    assert len(SHEET.findall(one)) == 2  # building 1: 张伟 and 李娜
    assert "陈秀英" not in whole
    assert "陈*" in whole
    assert client.get(f"{url}?building=987654").status_code == 404


def test_print_enter_count_a_paper_ballot(client, auth, world):
    w = world("vote")
    auth.login(w.emails["worker"], PASSWORD)
    base = f"/compounds/{w.compound}/votes/{w.rounds[3]}"
    printed = client.get(f"{base}/print?building={w.building}").get_data(as_text=True)
    li = int(w.ids["bystander_owner"])
    assert ballot_sheet_code(li) in SHEET.findall(printed)
    round_ = db.session.get(Round, w.rounds[3])
    questions = voting.owner_questions(round_, li)
    assert len(texts(PAPER_ITEM, printed)) >= len(questions)
    today = datetime.now(UTC).date().isoformat()
    values = {"signed_on": today, "proxy": "", **{f"q{q.id}": q.choices[0] for q in questions}}
    response = client.post(
        f"{base}/paper/new?owner={li}",
        data={**values, "photo": (BytesIO(png()), "ballot.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    sheet = db.session.scalars(select(PaperSheet).where(PaperSheet.owner_id == li)).one()
    auth.logout()
    auth.login("target@example.test", PASSWORD)  # a second worker of the street
    assert client.post(f"{base}/paper/{sheet.id}", data=values).status_code == 302
    db.session.rollback()
    assert db.session.get(PaperSheet, sheet.id).state is SheetState.CONFIRMED
    counted = voting.counted_ballots(db.session.get(Round, w.rounds[3]))
    assert all(li in counted[q.id] for q in questions)


def test_staff_print_surveys_per_compound_and_per_building(client, auth, world):
    w = world("needs")
    auth.login(w.emails["worker"], PASSWORD)
    url = f"/compounds/{w.compound}/rounds/{w.rounds[1]}/survey/print"
    assert len(SHEET.findall(client.get(url).get_data(as_text=True))) == 3  # one per home
    assert len(SHEET.findall(client.get(f"{url}?building={w.building}").get_data(as_text=True))) == 2


def test_print_enter_count_a_paper_survey(client, auth, world):
    w = world("needs")
    auth.login(w.emails["worker"], PASSWORD)
    printed = client.get(f"/compounds/{w.compound}/rounds/{w.rounds[1]}/survey/print").get_data(as_text=True)
    code = SHEET.findall(printed)[-1]
    dwelling = int(code.removeprefix("S"))
    base = f"/compounds/{w.compound}/rounds/{w.rounds[1]}/survey/paper"
    form = client.get(f"{base}?dwelling={dwelling}")
    assert form.status_code == 200
    assert code in form.get_data(as_text=True)
    bad = client.post(f"{base}?dwelling={dwelling}", data={"needs": [w.ids["need_code"]]})
    assert bad.status_code == 422  # no willingness: the error is shown next to the field and at the top
    assert 'class="error-summary"' in bad.get_data(as_text=True)
    response = client.post(
        f"{base}?dwelling={dwelling}", data={"willingness": "yes", "needs": [w.ids["need_code"]]}
    )
    assert response.status_code == 302
    db.session.rollback()
    survey = surveys.survey_of(db.session.get(Round, w.rounds[1]))
    [answer] = surveys.current_answers(survey)
    assert answer.dwelling_id == dwelling
    assert answer.on_paper
    assert answer.entered_by.startswith("user:")
    assert surveys.needs_list(survey).respondents == 1
    assert any(
        row.code == w.ids["need_code"] and row.count == 1
        for _c, rows in surveys.needs_list(survey).by_category
        for row in rows
    )
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.paper_entered")).one()
    assert entry.compound_id == w.compound
    assert db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.on_paper.is_(False))).all() == []


def test_paper_survey_entry_is_for_workers_of_the_compound_only(client, auth, world):
    w = world("needs")
    auth.login(w.emails["reviewer"], PASSWORD)
    assert client.get(f"/compounds/{w.compound}/rounds/{w.rounds[1]}/survey/paper").status_code == 403


def test_the_survey_results_say_how_many_answers_came_on_paper(client, auth, world):
    w = world("needs")
    auth.login(w.emails["worker"], PASSWORD)
    base = f"/compounds/{w.compound}/rounds/{w.rounds[1]}/survey"
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    assert "signed paper" not in client.get(f"{base}/results").get_data(as_text=True)
    printed = client.get(f"{base}/print").get_data(as_text=True)
    dwelling = int(SHEET.findall(printed)[0].removeprefix("S"))
    client.post(f"{base}/paper?dwelling={dwelling}", data={"willingness": "no"})
    assert "1 of the answers was entered from a signed paper survey." in client.get(
        f"{base}/results"
    ).get_data(as_text=True)


@pytest.mark.parametrize(
    ("stage", "url", "lang", "purpose", "retention"),
    [
        ("vote", "/compounds/{c}/votes/{r3}/print", "en", "Why: to ask residents", "How long: 3 years"),
        ("needs", "/compounds/{c}/rounds/{r1}/survey/print", "zh-CN", "为什么要用", "结束后 3 年"),
    ],
)
def test_every_paper_sheet_carries_the_privacy_notice(
    client, auth, world, stage, url, lang, purpose, retention
):
    """Who answers on paper never sees the resident's home page: each sheet says, before the first
    question, why the answers are collected and how long they are kept."""
    w = world(stage)
    auth.login(w.emails["worker"], PASSWORD)
    page = client.get(
        url.format(c=w.compound, r1=w.rounds[1], r3=w.rounds[3]), headers={"Accept-Language": lang}
    ).get_data(as_text=True)
    sheets = page.split('<article class="sheet"')[1:]
    assert len(sheets) == 3
    for sheet in sheets:
        first_question = sheet.index('<h3 class="item">')
        assert -1 < sheet.find(purpose) < first_question
        assert -1 < sheet.find(retention) < first_question


def test_a_sheet_for_the_developers_unsold_units_names_the_developer_not_a_masked_person(app):
    from flask_babel import force_locale

    from consult.compounds.models import Owner
    from consult.compounds.models import OwnerKind
    from consult.paper.services import addressee_name

    developer = Owner(name="青羊置业有限公司", kind=OwnerKind.DEVELOPER)
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            assert addressee_name(developer) == "开发商（未售房屋）"
            assert addressee_name(Owner(name="张伟", kind=OwnerKind.PERSON)) == "张*"
        with force_locale("en"):
            assert addressee_name(developer) == "The developer (unsold units)"
