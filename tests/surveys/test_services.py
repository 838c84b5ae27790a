"""Services of the needs survey: making it, the freeze, answering per dwelling with history, the engine
hooks (answered dwellings, the publishing blocker) and the decisions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consult.audit.models import AuditEntry
from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import StairUnit
from consult.db import utcnow
from consult.extensions import db
from consult.residents.models import Invitation
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import Action
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import latest_published
from consult.rounds.services import participation
from consult.surveys import services
from consult.surveys.catalogue import CATALOGUE
from consult.surveys.models import SurveyAnswer
from consult.surveys.rules import AnswerValues
from consult.surveys.rules import Decision
from consult.surveys.rules import QuestionKind
from consult.surveys.rules import Willingness
from tests.surveys.conftest import close_round
from tests.surveys.conftest import open_round


def invitation(cards, name: str) -> Invitation:
    return db.session.get(Invitation, cards[name].invitation.id)


def answer(survey, cards, name, willingness="yes", needs=("B01",), hazards=(), note="", extra=None, now=None):
    saved = services.submit_answer(
        survey,
        invitation(cards, name),
        AnswerValues(willingness, tuple(needs), tuple(hazards), note, extra or {}),
        now or utcnow(),
    )
    db.session.commit()
    return saved


@pytest.fixture(autouse=True)
def in_english(english_messages: None) -> None:
    """These tests compare messages in English."""


def test_a_survey_is_made_with_the_whole_catalogue(survey, needs_round):
    assert survey.round_id == needs_round.id
    assert [(i.code, i.category, i.name_zh, i.name_en) for i in survey.items] == [
        (i.code, i.category, i.name_zh, i.name_en) for i in CATALOGUE
    ]
    assert survey.questions == []
    with pytest.raises(services.SurveyError):
        services.create_survey(needs_round, "test", utcnow())


def test_only_a_needs_round_has_a_survey(rounds):
    with pytest.raises(services.SurveyError, match="needs round"):
        services.create_survey(rounds[1], "test", utcnow())


def test_the_builder_edits_while_draft_and_freezes_once_open(survey, needs_round):
    single = services.add_question(
        survey,
        QuestionKind.SINGLE,
        "您家有几口人？",
        "How many live in your home?",
        [("1", None), ("2+", None)],
        True,
        "w",
    )
    text = services.add_question(
        survey, QuestionKind.TEXT, "还有什么建议？", None, [("ignored", None)], False, "w"
    )
    db.session.commit()
    assert [q.kind for q in survey.questions] == [QuestionKind.SINGLE, QuestionKind.TEXT]
    assert [o.label_zh for o in single.options] == ["1", "2+"]
    assert text.options == []  # free text has no options
    assert single.prompt("en") == "How many live in your home?"
    assert text.prompt("en") == "还有什么建议？"  # no English: the Chinese is shown
    with pytest.raises(services.SurveyError):
        services.add_question(survey, QuestionKind.MULTIPLE, "只有一项", None, [("a", None)], False, "w")
    services.remove_question(survey, text.id, "w")
    db.session.commit()
    assert [q.id for q in survey.questions] == [single.id]

    open_round(needs_round)
    assert not services.is_editable(survey)
    with pytest.raises(services.SurveyFrozen):
        services.add_question(survey, QuestionKind.TEXT, "晚了", None, [], False, "w")
    with pytest.raises(services.SurveyFrozen):
        services.remove_question(survey, single.id, "w")
    db.session.rollback()
    assert len(survey.questions) == 1


def test_no_survey_is_made_for_a_round_already_open(needs_round):
    open_round(needs_round)
    with pytest.raises(services.SurveyFrozen):
        services.create_survey(needs_round, "test", utcnow())


def test_answers_are_refused_unless_the_round_is_open(survey, needs_round, cards):
    with pytest.raises(services.SurveyClosed):
        answer(survey, cards, "李娜")  # draft
    open_round(needs_round)
    answer(survey, cards, "李娜")
    close_round(needs_round)
    with pytest.raises(services.SurveyClosed):
        answer(survey, cards, "李娜", willingness="no")
    assert [a.willingness for a in services.current_answers(survey)] == [Willingness.YES]


def test_answers_past_the_closing_time_are_refused_even_before_the_round_is_closed(
    opened, needs_round, cards
):
    with pytest.raises(services.SurveyClosed):
        answer(opened, cards, "李娜", now=needs_round.closes_at + timedelta(seconds=1))


def test_an_owner_answers_once_for_each_of_their_dwellings(opened, needs_round, roster, cards):
    saved = answer(opened, cards, "张伟", needs=("B01", "I07"))
    assert {a.dwelling_id for a in saved} == {roster["101"].id, roster["102"].id}
    assert services.answered_dwellings(needs_round) == {roster["101"].id, roster["102"].id}
    part = participation(needs_round)
    assert (part.answered, part.eligible) == (2, 3)
    assert part.missing == {roster["201"].id}


def test_changing_an_answer_keeps_the_history_and_the_latest_counts(opened, roster, cards):
    answer(opened, cards, "李娜", willingness="no", needs=("B01",))
    answer(opened, cards, "李娜", willingness="yes", needs=("I01", "I02"))
    history = db.session.scalars(
        select(SurveyAnswer)
        .where(SurveyAnswer.dwelling_id == roster["201"].id)
        .order_by(SurveyAnswer.revision)
    ).all()
    assert [(a.revision, a.willingness, a.superseded_at is None) for a in history] == [
        (1, Willingness.NO, False),
        (2, Willingness.YES, True),
    ]
    current = services.current_answers(opened)
    assert [(a.dwelling_id, a.needs) for a in current] == [(roster["201"].id, ["I01", "I02"])]


def test_an_occupant_answers_for_their_dwelling_and_the_last_answer_counts(
    opened, needs_round, roster, cards
):
    answer(opened, cards, "张伟", willingness="no", needs=("B01",))
    answer(opened, cards, "王芳", willingness="yes", needs=("I03",))  # rents 102
    current = {a.dwelling_id: a for a in services.current_answers(opened)}
    assert current[roster["101"].id].willingness is Willingness.NO
    assert current[roster["102"].id].willingness is Willingness.YES
    assert current[roster["102"].id].occupant_id is not None
    assert current[roster["102"].id].owner_id is None
    # the owner's own answer still counts for 101 and fills their form; the tenant's is never shown to them
    own = services.own_answer(opened, invitation(cards, "张伟"))
    assert own is not None
    assert own.dwelling_id == roster["101"].id
    status = {s.dwelling_id: s.by for s in services.household_status(opened, invitation(cards, "张伟"), "en")}
    assert status == {roster["101"].id: "you", roster["102"].id: "occupant"}
    tenant = {s.dwelling_id: s.by for s in services.household_status(opened, invitation(cards, "王芳"), "en")}
    assert tenant == {roster["102"].id: "you"}
    assert services.answered_dwellings(needs_round) == {roster["101"].id, roster["102"].id}


def test_an_invalid_answer_is_refused_with_its_problems(opened, cards):
    with pytest.raises(services.InvalidAnswer) as refused:
        answer(opened, cards, "李娜", needs=("B01", "B02", "B03", "B04"))
    assert set(refused.value.problems) == {"needs"}
    with pytest.raises(services.InvalidAnswer) as refused:
        answer(opened, cards, "李娜", needs=("S01",))
    assert set(refused.value.problems) == {"needs"}
    db.session.rollback()
    assert services.current_answers(opened) == []


def test_required_extra_questions_are_enforced(survey, needs_round, cards):
    question = services.add_question(
        survey, QuestionKind.SINGLE, "愿意出资吗？", None, [("愿意", None), ("不愿意", None)], True, "w"
    )
    db.session.commit()
    open_round(needs_round)
    with pytest.raises(services.InvalidAnswer) as refused:
        answer(survey, cards, "李娜")
    assert set(refused.value.problems) == {f"q{question.id}"}
    db.session.rollback()
    answer(survey, cards, "李娜", extra={question.id: question.options[1].id})
    assert services.current_answers(survey)[0].extra == {str(question.id): question.options[1].id}


def test_the_database_refuses_two_answers_with_the_same_revision(opened, roster):
    for __ in range(2):
        db.session.add(
            SurveyAnswer(
                survey_id=opened.id, dwelling_id=roster["201"].id, revision=1, willingness=Willingness.YES
            )
        )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_an_answer_is_audited_without_its_content(opened, cards):
    answer(opened, cards, "李娜", needs=("I07",), note="二楼燃气味")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.answered")).one()
    detail = json.loads(entry.detail)
    assert entry.actor == f"resident:{cards['李娜'].invitation.id}"
    assert set(detail) == {"round", "dwellings", "revisions"}
    assert "I07" not in entry.detail
    assert "燃气" not in entry.detail


def test_needs_list_and_tally_from_current_answers(opened, cards):
    answer(opened, cards, "张伟", willingness="yes", needs=("B01", "I07"), hazards=("S01",))
    answer(opened, cards, "李娜", willingness="no", needs=("B01",))
    needs = services.needs_list(opened)
    assert needs.respondents == 3  # two dwellings of 张伟, one of 李娜
    assert [(r.code, r.count) for r in needs.overall] == [("B01", 3), ("I07", 2)]
    assert [(h.code, h.count) for h in needs.hazards] == [("S01", 2)]
    tally = services.willingness_tally(opened)
    assert (tally.yes, tally.no, tally.unsure, tally.dwellings) == (2, 1, 0, 3)


def test_publishing_waits_for_a_decision_on_each_top_need(opened, needs_round, cards):
    answer(opened, cards, "张伟", needs=("B01", "I07", "E01"))
    answer(opened, cards, "李娜", needs=("B02",))
    close_round(needs_round)
    assert services.top_needs(opened) == ["B01", "B02", "I07", "E01"]
    blocker = services.answer_blocker(needs_round)
    assert "4 still without one" in str(blocker)
    with pytest.raises(TransitionRefused):
        apply(needs_round, Action.PUBLISH, "w", utcnow())
    assert needs_round.state is RoundState.CLOSED

    for code in ("B01", "B02", "I07"):
        services.record_decision(opened, code, Decision.IN_SCHEME, "", "w", utcnow())
    assert "1 still without one" in str(services.answer_blocker(needs_round))
    with pytest.raises(services.SurveyError):
        services.record_decision(opened, "E01", Decision.NOT_NOW, "  ", "w", utcnow())
    services.record_decision(opened, "E01", Decision.NOT_NOW, "区里明年统一建设", "w", utcnow())
    assert services.answer_blocker(needs_round) is None
    apply(needs_round, Action.PUBLISH, "w", utcnow())
    db.session.commit()
    assert needs_round.state is RoundState.NOTICE
    assert latest_published(needs_round.compound_id, RoundKind.NEEDS).id == needs_round.id
    with pytest.raises(services.SurveyError):  # frozen once published
        services.record_decision(opened, "E01", Decision.IN_SCHEME, "", "w", utcnow())


def test_a_decision_can_change_before_publishing_and_the_log_keeps_both(opened, needs_round, cards):
    answer(opened, cards, "李娜", needs=("B01",))
    close_round(needs_round)
    services.record_decision(opened, "B01", Decision.NOT_NOW, "资金不足", "w", utcnow())
    services.record_decision(opened, "B01", Decision.IN_SCHEME, "", "w", utcnow())
    db.session.commit()
    assert services.decisions_of(opened)["B01"].decision is Decision.IN_SCHEME
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.decision")).all()
    assert [json.loads(e.detail)["decision"] for e in entries] == ["not_now", "in_scheme"]
    assert json.loads(entries[1].detail)["before"] == ["not_now", "资金不足"]


def test_decisions_are_for_needs_of_a_closed_round(opened, needs_round, cards):
    answer(opened, cards, "李娜", needs=("B01",))
    with pytest.raises(services.SurveyError):  # still open
        services.record_decision(opened, "B01", Decision.IN_SCHEME, "", "w", utcnow())
    close_round(needs_round)
    with pytest.raises(services.SurveyError):  # a hazard is fixed, not decided
        services.record_decision(opened, "S01", Decision.IN_SCHEME, "", "w", utcnow())
    with pytest.raises(services.SurveyError):
        services.record_decision(opened, "X99", Decision.IN_SCHEME, "", "w", utcnow())


def test_nothing_blocks_publishing_without_answers_or_without_a_survey(rounds):
    needs_round = rounds[0]
    open_round(needs_round)
    close_round(needs_round)
    assert services.answer_blocker(needs_round) is None  # no survey
    assert services.answered_dwellings(needs_round) == set()
    apply(needs_round, Action.PUBLISH, "w", utcnow())
    assert needs_round.state is RoundState.NOTICE


def test_resident_links_list_open_surveys_and_whether_the_home_answered(opened, needs_round, cards):
    owner = invitation(cards, "张伟")
    links = services.resident_links(owner, utcnow())
    assert len(links) == 1
    assert links[0][1:] == (f"/me/survey/{needs_round.id}", False, True)
    assert "1" in links[0][0]  # the round's number
    answer(opened, cards, "张伟")
    assert services.resident_links(owner, utcnow())[0][2] is True
    tenant = invitation(cards, "王芳")
    assert services.resident_links(tenant, utcnow())[0][2] is True  # the home has an answer
    assert services.resident_links(invitation(cards, "李娜"), utcnow())[0][2] is False
    assert services.resident_links(owner, needs_round.closes_at + timedelta(seconds=1)) == []
    assert services.published_links(owner) == []


def test_counts_of_answer_rows(opened, cards):
    answer(opened, cards, "张伟")
    answer(opened, cards, "张伟", willingness="unsure")
    total = db.session.scalar(select(func.count(SurveyAnswer.id)))
    assert total == 4  # two dwellings, two revisions each
    assert len(services.current_answers(opened)) == 2


def paper(survey, dwelling, willingness="yes", needs=("B01",), hazards=(), note="", now=None, replaces=None):
    saved = services.enter_paper_answer(
        survey,
        dwelling,
        AnswerValues(willingness, tuple(needs), tuple(hazards), note, {}),
        "user:7",
        now or utcnow(),
        replaces=replaces,
    )
    db.session.commit()
    return saved


def all_rows() -> list[tuple[int, int, bool]]:
    db.session.rollback()
    return [
        (a.dwelling_id, a.revision, a.superseded_at is None)
        for a in db.session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))
    ]


def test_a_paper_survey_replaces_the_homes_online_answer_and_is_marked_and_audited(opened, roster, cards):
    answer(opened, cards, "张伟", willingness="no", needs=("B01",))  # for 101 and 102
    online = services.current_answer(opened, roster["102"].id)
    saved = paper(opened, roster["102"], willingness="yes", needs=("I01",), replaces=online.id)
    assert (saved.on_paper, saved.entered_by, saved.revision) == (True, "user:7", 2)
    assert (saved.owner_id, saved.occupant_id) == (None, None)  # who signed is on the sheet
    current = {a.dwelling_id: a for a in services.current_answers(opened)}
    assert current[roster["102"].id].willingness is Willingness.YES
    assert current[roster["101"].id].willingness is Willingness.NO  # only the sheet's home changes
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "survey.paper_entered")).one()
    assert entry.actor == "user:7"
    assert json.loads(entry.detail)["dwelling"] == roster["102"].id
    assert json.loads(entry.detail)["replaced"] == online.id
    assert "I01" not in entry.detail  # the answer's content is not in the log
    statuses = {
        s.dwelling_id: s.by for s in services.household_status(opened, invitation(cards, "张伟"), "en")
    }
    assert statuses == {roster["101"].id: "you", roster["102"].id: "paper"}


def test_a_paper_survey_follows_the_same_rules_as_an_online_answer(opened, needs_round, roster):
    with pytest.raises(services.InvalidAnswer):
        paper(opened, roster["201"], willingness=None)
    with pytest.raises(services.InvalidAnswer):
        paper(opened, roster["201"], needs=("B01", "B02", "I01", "I02"))  # more than three
    db.session.rollback()
    close_round(needs_round)
    with pytest.raises(services.SurveyClosed):
        paper(opened, roster["201"])


def test_a_paper_survey_is_for_a_home_of_the_surveys_compound(opened, create_compound):
    other = create_compound("宽窄小区")
    apply_rows(
        other, parse_roster("楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,70.00,周建国\n".encode()), "test"
    )
    db.session.commit()
    elsewhere = db.session.scalars(
        select(Dwelling).join(StairUnit).join(Building).where(Building.compound_id == other.id)
    ).one()
    with pytest.raises(services.SurveyError):
        paper(opened, elsewhere)


def test_a_paper_survey_replaces_an_answer_only_when_the_worker_confirmed_that_very_answer(
    opened, roster, cards
):
    paper(opened, roster["201"], willingness="no")  # nobody had answered: nothing to confirm
    first = services.current_answer(opened, roster["201"].id)
    assert (first.revision, first.on_paper) == (1, True)
    answer(opened, cards, "李娜", willingness="yes", needs=("I07",))  # then online, by the owner
    online = services.current_answer(opened, roster["201"].id)
    before = all_rows()
    with pytest.raises(services.ReplaceNotConfirmed) as refused:
        paper(opened, roster["201"], willingness="unsure")  # not confirmed
    assert refused.value.current.id == online.id
    with pytest.raises(services.ReplaceNotConfirmed):
        paper(opened, roster["201"], willingness="unsure", replaces=first.id)  # confirmed an older answer
    assert all_rows() == before  # nothing written
    assert services.current_answer(opened, roster["201"].id).willingness is Willingness.YES
    saved = paper(opened, roster["201"], willingness="unsure", replaces=online.id)
    assert saved.revision == 3
    assert services.current_answer(opened, roster["201"].id).id == saved.id


def test_a_danger_reported_online_stays_listed_after_a_paper_survey_without_it(opened, roster, cards):
    """The user test of round 1: 101 reported a gas leak online, then a paper survey without it."""
    answer(
        opened, cards, "张伟", willingness="yes", needs=("B01",), hazards=("S01",), note="3单元楼道有燃气味"
    )
    online = services.current_answer(opened, roster["101"].id)
    paper(opened, roster["101"], willingness="no", needs=("I01",), replaces=online.id)
    listed = services.needs_list(opened)
    # the danger list reads every answer: 101 (its answer replaced) and 102 (the same online answer,
    # which still counts)
    assert [(h.code, h.count, h.earlier) for h in listed.hazards] == [("S01", 2, 1)]
    # needs, respondents and willingness read the answers that count only
    assert listed.respondents == 2
    assert sorted((r.code, r.count) for r in listed.overall) == [("B01", 1), ("I01", 1)]
    tally = services.willingness_tally(opened)
    assert (tally.yes, tally.no) == (1, 1)
    reports = {(r.dwelling_id, r.earlier): r for r in services.danger_reports(opened)}
    assert set(reports) == {(roster["101"].id, True), (roster["102"].id, False)}
    assert reports[roster["101"].id, True].codes == ("S01",)
    assert reports[roster["101"].id, True].note == "3单元楼道有燃气味"
    # and a later answer of 102 without the danger does not take it off either
    current_102 = services.current_answer(opened, roster["102"].id)
    paper(opened, roster["102"], willingness="no", needs=(), replaces=current_102.id)
    assert [(h.code, h.count, h.earlier) for h in services.needs_list(opened).hazards] == [("S01", 2, 2)]
