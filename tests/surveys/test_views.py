"""Pages of the needs survey: the builder and results for workers (scoped to their street), the resident's
answer page (owners and occupants, both languages), the resident's and the public needs list."""

from __future__ import annotations

import re

import pytest
from flask import g
from flask import render_template_string
from sqlalchemy import select

from consult.auth.models import Role
from consult.db import utcnow
from consult.extensions import db
from consult.residents.models import Invitation
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import RoundState
from consult.surveys import services
from consult.surveys.charts import BarRow
from consult.surveys.models import Survey
from consult.surveys.models import SurveyAnswer
from consult.surveys.rules import AnswerValues
from consult.surveys.rules import Decision
from consult.surveys.rules import QuestionKind
from tests.conftest import PASSWORD
from tests.surveys.conftest import close_round
from tests.surveys.conftest import open_round

LANGS = pytest.mark.parametrize("lang", ["zh_CN", "en"])
#: a catalogue item's stored names: which one a page shows tells its language
GAS = {"zh_CN": "燃气管道老化、漏气", "en": "Old or leaking gas pipes"}
ROOF = {"zh_CN": "屋面防水", "en": "Roof waterproofing"}
OTHER = {"zh_CN": "en", "en": "zh_CN"}


def speak(client, lang: str) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en" if lang == "en" else "zh-CN"


def page(response) -> str:
    return response.get_data(as_text=True)


def base(compound, round_) -> str:
    return f"/compounds/{compound.id}/rounds/{round_.id}/survey"


def survey_rows() -> list[Survey]:
    db.session.rollback()
    return list(db.session.scalars(select(Survey)))


def answers() -> list[SurveyAnswer]:
    db.session.rollback()
    return list(db.session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id)))


# --- workers


@LANGS
def test_a_worker_makes_the_survey_and_sees_it_in_their_language(
    client, auth, worker, compound, needs_round, lang
):
    auth.login(worker)
    speak(client, lang)
    empty = client.get(base(compound, needs_round))
    assert empty.status_code == 200
    assert GAS[lang] not in page(empty)
    response = client.post(base(compound, needs_round) + "/create")
    assert response.status_code == 302
    assert len(survey_rows()) == 1
    html = page(client.get(base(compound, needs_round)))
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert GAS[lang] in html
    assert ROOF[lang] in html
    assert GAS[OTHER[lang]] not in html
    assert page(client.get(base(compound, needs_round) + "/results")).count("<svg") == 0  # no answers


def test_a_worker_adds_and_removes_questions_while_draft(client, auth, worker, compound, needs_round, survey):
    auth.login(worker)
    speak(client, "en")
    url = base(compound, needs_round)
    bad = client.post(
        url + "/questions", data={"kind": "single", "prompt_zh": "几口人？", "options_zh": "一人"}
    )
    assert bad.status_code == 422
    assert 'id="options_zh-error"' in page(bad)
    assert "Give between 2 and 20 options" in page(bad)
    good = client.post(
        url + "/questions",
        data={
            "kind": "multiple",
            "prompt_zh": "您常用哪些设施？",
            "prompt_en": "Which facilities do you use?",
            "options_zh": "健身器材\n凉亭\n",
            "options_en": "Exercise equipment\nPavilion",
            "required": "y",
        },
    )
    assert good.status_code == 302
    db.session.rollback()
    question = survey.questions[0]
    assert (question.kind, question.required, len(question.options)) == (QuestionKind.MULTIPLE, True, 2)
    html = page(client.get(url))
    assert "Which facilities do you use?" in html
    assert "Pavilion" in html
    assert "(Multiple choice, required)" in html
    speak(client, "zh")
    assert "（多选题，必答）" in page(client.get(url))  # full-width brackets and comma in Chinese
    speak(client, "en")
    assert client.post(f"{url}/questions/{question.id}/delete").status_code == 302
    db.session.rollback()
    assert survey.questions == []


def test_the_survey_is_frozen_once_the_round_opens(client, auth, worker, compound, needs_round, survey):
    open_round(needs_round)
    auth.login(worker)
    url = base(compound, needs_round)
    html = page(client.get(url))
    assert 'action="' + url + '/questions"' not in html  # no form to add questions
    response = client.post(url + "/questions", data={"kind": "text", "prompt_zh": "还有什么？"})
    assert response.status_code == 302
    db.session.rollback()
    assert survey.questions == []


def test_another_streets_worker_gets_404(
    client, auth, create_user, other_street, compound, needs_round, survey
):
    stranger = create_user("other@example.test", Role.WORKER, other_street)
    auth.login(stranger)
    url = base(compound, needs_round)
    for path in (url, url + "/results"):
        assert client.get(path).status_code == 404
    assert client.post(url + "/create").status_code == 404
    assert client.post(url + "/questions", data={"kind": "text", "prompt_zh": "x"}).status_code == 404
    assert client.post(url + "/publish").status_code == 404
    assert client.post(url + "/decisions/B01", data={"B01-decision": "in_scheme"}).status_code == 404


def test_a_round_of_another_compound_or_kind_is_404(
    client, auth, worker, create_compound, compound, rounds, survey
):
    auth.login(worker)
    other = create_compound("草堂小区")
    assert client.get(f"/compounds/{other.id}/rounds/{rounds[0].id}/survey").status_code == 404
    assert client.get(base(compound, rounds[1])).status_code == 404  # round 2 is not a needs round


def test_a_reviewer_reads_but_does_not_change(client, auth, create_user, compound, needs_round, survey):
    reviewer = create_user("reviewer@example.test", Role.REVIEWER, None)
    auth.login(reviewer)
    url = base(compound, needs_round)
    html = page(client.get(url))
    assert ROOF["zh_CN"] in html
    assert "/questions" not in html
    assert client.get(url + "/results").status_code == 200
    assert client.post(url + "/questions", data={"kind": "text", "prompt_zh": "x"}).status_code == 403


# --- residents


@LANGS
def test_an_owner_answers_in_their_language(client, enter, opened, needs_round, roster, lang):
    enter("张伟")
    speak(client, lang)
    form = client.get(f"/me/survey/{needs_round.id}")
    html = page(form)
    assert form.status_code == 200
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert ROOF[lang] in html
    assert GAS[lang] in html  # a danger to report
    assert ROOF[OTHER[lang]] not in html
    assert re.search(r'<fieldset[^>]*id="willingness"', html)
    assert re.search(r"<legend>", html)
    assert form.headers["Cache-Control"] == "no-store"
    assert form.headers["Referrer-Policy"] == "no-referrer"
    response = client.post(
        f"/me/survey/{needs_round.id}",
        data={
            "willingness": "yes",
            "needs": ["B01", "I07"],
            "hazards": ["S01"],
            "hazard_note": "楼道有燃气味",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"
    saved = answers()
    assert {a.dwelling_id for a in saved} == {roster["101"].id, roster["102"].id}
    assert all(a.needs == ["B01", "I07"] and a.hazards == ["S01"] for a in saved)
    again = page(client.get(f"/me/survey/{needs_round.id}"))
    assert re.search(r'<input checked[^>]*value="I07"|value="I07"[^>]*checked', again)  # filled in again


def test_more_than_three_needs_are_refused_with_the_error_by_the_field(client, enter, opened, needs_round):
    enter("李娜")
    speak(client, "en")
    response = client.post(f"/me/survey/{needs_round.id}", data={"needs": ["B01", "B02", "B03", "I01"]})
    html = page(response)
    assert response.status_code == 422
    assert 'id="needs-error"' in html
    assert "Choose at most three." in html
    assert re.search(r'<fieldset[^>]*id="needs"[^>]*aria-describedby="needs-hint needs-error"', html)
    assert 'href="#needs-0"' in html  # the summary links to the first checkbox
    assert 'href="#willingness-0"' in html  # the willingness question is required
    assert answers() == []


def test_an_occupant_can_answer_for_their_dwelling(client, enter, opened, needs_round, roster):
    enter("王芳")
    response = client.post(f"/me/survey/{needs_round.id}", data={"willingness": "unsure", "needs": ["I02"]})
    assert response.status_code == 302
    [saved] = answers()
    assert saved.dwelling_id == roster["102"].id
    assert saved.occupant_id is not None


def test_the_home_page_is_told_who_answered_without_names(client, enter, opened, needs_round, cards):
    enter("王芳")
    client.post(f"/me/survey/{needs_round.id}", data={"willingness": "no"})
    enter("张伟")
    speak(client, "en")
    html = page(client.get(f"/me/survey/{needs_round.id}"))
    assert "someone living there answered" in html
    assert "王" not in html


def test_a_resident_of_another_compound_gets_404(client, create_compound, street, opened, needs_round):
    other = create_compound("草堂小区")
    apply_rows(other, parse_roster("楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,50,赵六\n".encode()), "test")
    db.session.commit()
    [card] = issue_cards(card_people(other), other, "test", needs_round.opens_at)
    db.session.commit()
    client.get(f"/r/{card.token}")
    client.post("/me/privacy")
    assert client.get(f"/me/survey/{needs_round.id}").status_code == 404
    assert client.post(f"/me/survey/{needs_round.id}", data={"willingness": "yes"}).status_code == 404
    assert answers() == []


def test_a_draft_round_is_not_shown_to_residents(client, enter, survey, needs_round):
    enter("李娜")
    assert client.get(f"/me/survey/{needs_round.id}").status_code == 404


def test_the_privacy_notice_comes_before_the_first_answer(client, enter, opened, needs_round):
    enter("李娜", acknowledge=False)
    response = client.get(f"/me/survey/{needs_round.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/me"


def test_without_a_session_the_survey_asks_for_the_code(client, opened, needs_round):
    response = client.get(f"/me/survey/{needs_round.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/code"


@LANGS
def test_a_closed_survey_takes_no_answer(client, enter, opened, needs_round, lang):
    enter("李娜")
    close_round(needs_round)
    speak(client, lang)
    closed = client.get(f"/me/survey/{needs_round.id}")
    assert closed.status_code == 200
    assert 'name="willingness"' not in page(closed)
    assert ROOF[lang] not in page(closed)
    response = client.post(f"/me/survey/{needs_round.id}", data={"willingness": "yes"})
    assert response.status_code == 302
    assert answers() == []


# --- results, decisions, publishing, the needs lists


@pytest.fixture
def answered(client, enter, opened, needs_round):
    """Three homes answered (张伟 for two), with a free-text answer and a hazard note; round closed."""
    enter("张伟")
    client.post(
        f"/me/survey/{needs_round.id}",
        data={
            "willingness": "yes",
            "needs": ["B01", "I07"],
            "hazards": ["S01"],
            "hazard_note": "二单元楼道燃气味",
        },
    )
    enter("李娜")
    client.post(f"/me/survey/{needs_round.id}", data={"willingness": "no", "needs": ["B01", "E01"]})
    close_round(needs_round)
    return opened


@pytest.fixture
def with_text_question(survey):
    question = services.add_question(
        survey, QuestionKind.TEXT, "还有什么建议？", "Anything else?", [], False, "w"
    )
    db.session.commit()
    return question


def test_results_decisions_and_publishing(
    client, auth, worker, compound, needs_round, with_text_question, enter
):
    open_round(needs_round)
    enter("李娜")
    client.post(
        f"/me/survey/{needs_round.id}",
        data={
            "willingness": "yes",
            "needs": ["B01"],
            f"q{with_text_question.id}": "希望修好李娜家门口的路灯",
        },
    )
    close_round(needs_round)
    auth.login(worker)
    speak(client, "en")
    url = base(compound, needs_round)
    html = page(client.get(url + "/results"))
    assert "1 of 3 homes have answered" in html
    assert "希望修好李娜家门口的路灯" in html  # workers read the free text
    assert '<svg class="chart" role="img"' in html

    refused = client.post(url + "/publish")
    assert refused.status_code == 302
    assert "1 still without one" in page(client.get(url + "/results"))
    db.session.rollback()
    assert needs_round.state is RoundState.CLOSED

    missing_reason = client.post(url + "/decisions/B01", data={"B01-decision": "not_now", "B01-reason": ""})
    assert missing_reason.status_code == 422
    assert 'id="B01-reason-error"' in page(missing_reason)
    ok = client.post(url + "/decisions/B01", data={"B01-decision": "in_scheme", "B01-reason": ""})
    assert ok.status_code == 302
    db.session.rollback()
    survey = services.survey_of(needs_round)
    assert services.decisions_of(survey)["B01"].decision is Decision.IN_SCHEME
    assert client.post(url + "/publish").status_code == 302
    db.session.rollback()
    assert needs_round.state is RoundState.NOTICE


@LANGS
def test_the_results_page_for_workers_in_both_languages(
    client, auth, worker, compound, needs_round, answered, lang
):
    auth.login(worker)
    speak(client, lang)
    response = client.get(base(compound, needs_round) + "/results")
    html = page(response)
    assert response.status_code == 200
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert ROOF[lang] in html
    assert ROOF[OTHER[lang]] not in html
    assert "二单元楼道燃气味" in html  # the hazard note, for workers only
    assert 'action="' + base(compound, needs_round) + '/decisions/B01"' in html
    assert "张伟" not in html


@LANGS
def test_the_public_needs_list_shows_totals_only(client, auth, worker, compound, needs_round, answered, lang):
    survey = services.survey_of(needs_round)
    for code in services.top_needs(survey):
        services.record_decision(survey, code, Decision.IN_SCHEME, "纳入方案", "w", needs_round.closes_at)
    db.session.commit()
    auth.login(worker)
    assert client.post(base(compound, needs_round) + "/publish").status_code == 302
    auth.logout()
    speak(client, lang)
    response = client.get(f"/p/{compound.id}/needs")
    html = page(response)
    assert response.status_code == 200
    assert f'<html lang="{lang.replace("_", "-")}">' in html
    assert ROOF[lang] in html
    assert GAS[lang] in html  # a reported danger, as a count
    assert ">3 · 100%</text>" in html  # every home named the roof: 张伟's two and 李娜's
    assert "纳入方案" in html  # the decision's reason is the workers' own words
    for private in ("张伟", "李娜", "王芳", "张*", "李*", "二单元楼道燃气味", "13812341234"):
        assert private not in html, private
    svg = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    assert svg
    assert all('role="img"' in s and "<title>" in s and "style=" not in s for s in svg)


def test_the_public_needs_list_before_publishing_and_for_no_compound(client, compound, answered):
    speak(client, "en")
    response = client.get(f"/p/{compound.id}/needs")
    assert response.status_code == 200
    assert "not published yet" in page(response)
    assert ROOF["en"] not in page(response)
    assert client.get("/p/999999/needs").status_code == 404


@LANGS
def test_residents_see_the_published_needs_list(client, enter, needs_round, answered, lang):
    enter("王芳")
    assert client.get(f"/me/needs/{needs_round.id}").status_code == 404  # not published yet
    survey = services.survey_of(needs_round)
    for code in services.top_needs(survey):
        services.record_decision(survey, code, Decision.NOT_NOW, "下一批改造", "w", needs_round.closes_at)
    from consult.rounds.rules import Action
    from consult.rounds.services import apply

    apply(needs_round, Action.PUBLISH, "w", needs_round.closes_at)
    db.session.commit()
    speak(client, lang)
    response = client.get(f"/me/needs/{needs_round.id}")
    html = page(response)
    assert response.status_code == 200
    assert ROOF[lang] in html
    assert "下一批改造" in html
    assert "二单元楼道燃气味" not in html
    assert response.headers["Cache-Control"] == "no-store"
    closed = page(client.get(f"/me/survey/{needs_round.id}"))
    assert f"/me/needs/{needs_round.id}" in closed


def test_the_chart_macro_is_accessible_svg(app):
    rows = [BarRow("屋面防水", "3 · 75%", 750), BarRow("Adding lifts", "1 · 25%", 250)]
    html = render_template_string(
        '{% from "_macros/charts.html" import bar_chart %}{{ bar_chart(rows, "Needs") }}', rows=rows
    )
    assert html.count('<svg class="chart" role="img"') == 1
    assert "<title>Needs</title>" in html
    assert 'aria-label="Needs (屋面防水: 3 · 75%; Adding lifts: 1 · 25%)"' in html
    assert ">屋面防水</text>" in html
    assert ">3 · 75%</text>" in html
    assert 'width="187.5"' in html  # 750‰ of the 250-unit bar
    assert "style=" not in html
    assert "<script" not in html


@pytest.mark.options(WTF_CSRF_ENABLED=True)
def test_forms_carry_a_csrf_token_and_posts_without_one_are_refused(client, enter, worker, compound, opened):
    needs_round = opened.round
    invitation = enter("李娜", acknowledge=False)
    acknowledge_privacy(db.session.get(Invitation, invitation.id), needs_round.opens_at)
    db.session.commit()
    html = page(client.get(f"/me/survey/{needs_round.id}"))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token
    assert client.post(f"/me/survey/{needs_round.id}", data={"willingness": "yes"}).status_code == 400
    good = client.post(
        f"/me/survey/{needs_round.id}",
        data={"willingness": "yes", "needs": ["B01"], "csrf_token": token.group(1)},
    )
    assert good.status_code == 302
    assert len(answers()) == 1

    close_round(needs_round)
    login = page(client.get("/auth/login"))
    login_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    client.post("/auth/login", data={"email": worker.email, "password": PASSWORD, "csrf_token": login_token})
    url = base(compound, needs_round)
    # Flask 3.1's test client shares the test's app context, where Flask-WTF caches the token of the
    # session before sign-in: forget it, as a new request in production would
    g.pop("csrf_token", None)
    results = page(client.get(url + "/results"))
    assert 'name="B01-csrf_token"' not in results  # one plain token per form, checked by CSRFProtect
    form = re.search(r'action="[^"]*/decisions/B01".*?</form>', results, flags=re.S).group(0)
    plain = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert plain
    refused = client.post(url + "/decisions/B01", data={"B01-decision": "in_scheme"})
    assert refused.status_code == 400
    assert services.decisions_of(opened) == {}
    saved = client.post(
        url + "/decisions/B01", data={"B01-decision": "in_scheme", "csrf_token": plain.group(1)}
    )
    assert saved.status_code == 302
    db.session.rollback()
    assert services.decisions_of(opened)["B01"].decision is Decision.IN_SCHEME


# --- a paper survey over a home's answer


def paper_url(compound, round_, dwelling) -> str:
    return base(compound, round_) + f"/paper?dwelling={dwelling.id}"


def shown_answer_id(html: str) -> str:
    """The id of the answer the page shows, carried by the form."""
    return re.search(r'id="replaces" name="replaces" type="hidden" value="(\d+)"', html).group(1)


@pytest.fixture
def gas_reported_online(client, enter, opened, needs_round):
    """张伟 answered online for 101 and 102 and reported a gas leak with a note (the user test)."""
    enter("张伟")
    response = client.post(
        f"/me/survey/{needs_round.id}",
        data={"willingness": "yes", "needs": ["B01"], "hazards": ["S01"], "hazard_note": "3单元楼道有燃气味"},
    )
    assert response.status_code == 302
    return opened


def test_the_paper_page_shows_the_homes_online_answer_and_asks_to_confirm_replacing_it(
    client, auth, worker, compound, needs_round, roster, gas_reported_online
):
    auth.login(worker)
    speak(client, "en")
    html = page(client.get(paper_url(compound, needs_round, roster["101"])))
    assert "This home has already answered this survey" in html
    assert "Online, by the resident, on " in html
    assert "On paper, entered by a community worker" not in html
    facts = re.search(r'<dl class="facts">.*?</dl>', html, flags=re.S).group(0)
    assert "Agree" in facts
    assert ROOF["en"] in facts  # B01, the need named
    assert GAS["en"] in facts  # S01, the danger reported
    assert "3单元楼道有燃气味" in facts
    assert "stay on the list of dangers" in html
    assert 'name="replace_confirmed" required type="checkbox" value="y">' in html  # not ticked
    assert "newer than the answer above and should replace it" in html
    online = services.current_answer(gas_reported_online, roster["101"].id)
    assert shown_answer_id(html) == str(online.id)

    # a home nobody has answered for: no warning, nothing to confirm
    fresh = page(client.get(paper_url(compound, needs_round, roster["201"])))
    assert "This home has already answered this survey" not in fresh
    assert 'name="replace_confirmed"' not in fresh


def test_a_paper_survey_over_an_answer_is_saved_only_with_the_confirmation(
    client, auth, worker, compound, needs_round, roster, gas_reported_online
):
    auth.login(worker)
    speak(client, "en")
    url = paper_url(compound, needs_round, roster["101"])
    shown = shown_answer_id(page(client.get(url)))
    sheet = {"willingness": "no", "needs": ["I01"], "replaces": shown}
    before = [(a.id, a.revision, a.superseded_at, a.on_paper) for a in answers()]

    refused = client.post(url, data=sheet)
    html = page(refused)
    assert refused.status_code == 422
    assert 'class="error-summary"' in html
    assert 'id="replace_confirmed-error"' in html
    assert "Tick the box to confirm that this paper survey replaces the answer above." in html
    assert "This home has already answered this survey" in html  # the answer is still shown
    assert [(a.id, a.revision, a.superseded_at, a.on_paper) for a in answers()] == before

    saved = client.post(url, data={**sheet, "replace_confirmed": "y"})
    assert saved.status_code == 302
    current = {a.dwelling_id: a for a in services.current_answers(gas_reported_online)}
    assert current[roster["101"].id].on_paper
    assert current[roster["101"].id].hazards == []
    assert current[roster["102"].id].hazards == ["S01"]  # the sheet was for 101 only

    again = page(client.get(url))  # now the paper answer is the one a new sheet would replace
    assert "On paper, entered by a community worker on " in again
    assert shown_answer_id(again) == str(current[roster["101"].id].id)


def test_a_paper_survey_does_not_replace_an_answer_given_after_the_page_was_shown(
    client, auth, worker, compound, needs_round, roster, cards, gas_reported_online
):
    auth.login(worker)
    speak(client, "en")
    url = paper_url(compound, needs_round, roster["101"])
    shown = shown_answer_id(page(client.get(url)))
    newer = services.submit_answer(  # the resident answers again meanwhile
        gas_reported_online,
        db.session.get(Invitation, cards["张伟"].invitation.id),
        AnswerValues("unsure", ("E01",), (), ""),
        utcnow(),
    )
    db.session.commit()
    newer_ids = {a.dwelling_id: a.id for a in newer}
    before = [(a.id, a.superseded_at) for a in answers()]
    response = client.post(
        url, data={"willingness": "no", "needs": ["I01"], "replaces": shown, "replace_confirmed": "y"}
    )
    html = page(response)
    assert response.status_code == 422
    assert "changed while you were entering the sheet" in html
    assert [(a.id, a.superseded_at) for a in answers()] == before
    assert shown_answer_id(html) == str(newer_ids[roster["101"].id])  # the page now shows the newer one
    assert 'name="replace_confirmed" required type="checkbox" value="y">' in html  # to tick again


def test_the_results_still_list_a_danger_reported_online_after_a_paper_survey_without_it(
    client, auth, worker, compound, needs_round, roster, gas_reported_online
):
    auth.login(worker)
    speak(client, "en")
    url = paper_url(compound, needs_round, roster["101"])
    shown = shown_answer_id(page(client.get(url)))
    client.post(
        url, data={"willingness": "no", "needs": ["I01"], "replaces": shown, "replace_confirmed": "y"}
    )
    # 102 answers again too, without the danger: no household still counts an answer naming it
    url_102 = paper_url(compound, needs_round, roster["102"])
    shown_102 = shown_answer_id(page(client.get(url_102)))
    client.post(url_102, data={"willingness": "no", "replaces": shown_102, "replace_confirmed": "y"})
    assert all(a.hazards == [] for a in services.current_answers(gas_reported_online))

    html = page(client.get(base(compound, needs_round) + "/results"))
    dangers = re.search(r'<section aria-labelledby="dangers-heading">.*?</section>', html, flags=re.S).group(
        0
    )
    assert "No danger was reported." not in dangers
    assert f"{GAS['en']}: reported by 2 homes" in dangers
    assert "(2 of them only in earlier answers, since replaced)" in dangers
    words = html[html.index("Where the dangers are, in residents") :]
    line = re.search(r"<li>.*?</li>", words, flags=re.S).group(0)
    assert GAS["en"] in line
    assert "3单元楼道有燃气味" in line
    assert "reported in an earlier answer of this home, since replaced" in line
    assert words.count("3单元楼道有燃气味") == 1  # 张伟 reported it once, for both homes
    # the willingness and the needs read the answers that count: two paper surveys saying no
    assert re.search(r'<th scope="row">Agree</th>\s*<td class="num">0</td>', html)
    assert re.search(r'<th scope="row">Do not agree</th>\s*<td class="num">2</td>', html)
