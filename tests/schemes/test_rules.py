"""Round 2's pure rules: the answer a comment gets, what blocks publishing, the tally, who may change what."""

from __future__ import annotations

import pytest

from consult.rounds.rules import RoundState
from consult.schemes.rules import AnswerOutcome
from consult.schemes.rules import CommentFacts
from consult.schemes.rules import answer_blocker
from consult.schemes.rules import answer_problem
from consult.schemes.rules import comment_problem
from consult.schemes.rules import may_answer
from consult.schemes.rules import may_revise
from consult.schemes.rules import needs_revision
from consult.schemes.rules import next_label
from consult.schemes.rules import public_sees
from consult.schemes.rules import residents_see
from consult.schemes.rules import tally
from consult.schemes.rules import version_editable
from tests.schemes.factories import english

ADOPTED, PARTLY, NOT_ADOPTED = AnswerOutcome.ADOPTED, AnswerOutcome.PARTLY, AnswerOutcome.NOT_ADOPTED


def test_outcomes_are_the_ones_the_notice_expects():
    from consult.notify.rules import COMMENT_OUTCOMES

    assert {o.value for o in AnswerOutcome} == COMMENT_OUTCOMES


def test_every_answer_needs_an_outcome_and_a_reason(app):
    assert answer_problem(NOT_ADOPTED, "超出改造资金范围") is None
    assert answer_problem("partly", "部分采纳：增加8个车位") is None
    assert answer_problem(ADOPTED, "   ") is not None
    assert answer_problem(None, "理由") is not None
    assert answer_problem("maybe", "理由") is not None
    assert answer_problem(ADOPTED, "x" * 2001) is not None


def test_comments_must_say_something(app):
    assert comment_problem("希望保留那棵银杏树") is None
    assert comment_problem(" \n ") is not None
    assert comment_problem("长" * 2001) is not None


def test_nothing_blocks_a_round_without_comments():
    assert answer_blocker([]) is None


def test_an_unanswered_comment_blocks_publishing(app):
    facts = [CommentFacts(NOT_ADOPTED, False), CommentFacts(None, False), CommentFacts(None, False)]
    reason = english(answer_blocker(facts))
    assert "a comment has no answer" in reason
    assert "2 without one" in reason
    assert answer_blocker([CommentFacts(NOT_ADOPTED, False)] * 3) is None


@pytest.mark.parametrize("outcome", [ADOPTED, PARTLY])
def test_an_adopted_comment_waits_for_a_revised_version(app, outcome):
    reason = answer_blocker([CommentFacts(outcome, False), CommentFacts(NOT_ADOPTED, False)])
    assert reason is not None
    assert "revised version" in english(reason)
    assert answer_blocker([CommentFacts(outcome, True), CommentFacts(NOT_ADOPTED, False)]) is None


def test_unanswered_comments_are_named_before_missing_revisions(app):
    reason = english(answer_blocker([CommentFacts(ADOPTED, False), CommentFacts(None, False)]))
    assert "no answer" in reason


def test_only_adopted_comments_need_a_revision():
    assert needs_revision(ADOPTED)
    assert needs_revision(PARTLY)
    assert not needs_revision(NOT_ADOPTED)
    assert not needs_revision(None)


def test_tally_counts_each_dwelling_once_and_lists_every_alternative():
    assert tally(["A", "B", "A", "A"], ["A", "B", "C"]) == {"A": 3, "B": 1, "C": 0}
    assert list(tally([], ["B", "A"])) == ["B", "A"]
    assert tally(["Z"], ["A"]) == {"A": 0}  # a preference for no listed alternative counts nowhere


def test_alternatives_are_lettered():
    assert next_label(set()) == "A"
    assert next_label({"A", "C"}) == "B"
    assert next_label(set("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) is None


def test_who_may_change_what_when():
    draft, open_, closed, notice = RoundState.DRAFT, RoundState.OPEN, RoundState.CLOSED, RoundState.NOTICE
    assert version_editable(draft, revision=False)
    assert not version_editable(open_, revision=False)
    assert not version_editable(closed, revision=False)
    assert version_editable(closed, revision=True)
    assert not version_editable(notice, revision=True)
    assert may_revise(closed)
    assert not may_revise(open_)
    assert not may_revise(notice)
    assert may_answer(closed)
    assert not may_answer(open_)
    assert not may_answer(notice)


def test_who_sees_what_when():
    assert not residents_see(RoundState.DRAFT, revision=False)
    assert residents_see(RoundState.OPEN, revision=False)
    assert not residents_see(RoundState.CLOSED, revision=True)  # a revision is work in progress
    assert residents_see(RoundState.NOTICE, revision=True)
    assert not public_sees(RoundState.CLOSED)
    assert public_sees(RoundState.NOTICE)
    assert public_sees(RoundState.DONE)
