"""Every transition of the round engine and its guards, on plain values."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from consult.rounds.rules import Action
from consult.rounds.rules import RoundFacts
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.rules import is_open_for_input
from consult.rounds.rules import next_state
from consult.rounds.rules import overtaken

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
DRAFT = RoundFacts(
    state=RoundState.DRAFT,
    opens_at=NOW,
    closes_at=NOW + timedelta(days=14),
    notice_days=7,
    notice_ends_at=None,
    previous_state=None,
    all_answered=False,
    answer_blocker=None,
)


def test_the_happy_path():
    assert next_state(DRAFT, Action.OPEN, NOW).state is RoundState.OPEN
    open_ = replace(DRAFT, state=RoundState.OPEN)
    assert next_state(open_, Action.CLOSE, NOW + timedelta(days=14)).state is RoundState.CLOSED
    closed = replace(DRAFT, state=RoundState.CLOSED)
    published = next_state(closed, Action.PUBLISH, NOW + timedelta(days=15))
    assert published.state is RoundState.NOTICE
    assert published.notice_ends_at == NOW + timedelta(days=22)
    notice = replace(DRAFT, state=RoundState.NOTICE, notice_ends_at=published.notice_ends_at)
    assert next_state(notice, Action.FINISH, NOW + timedelta(days=22)).state is RoundState.DONE


@pytest.mark.parametrize(
    "previous", [RoundState.DRAFT, RoundState.OPEN, RoundState.CLOSED, RoundState.FAILED]
)
def test_a_round_cannot_open_before_the_previous_answer_is_published(previous):
    with pytest.raises(TransitionRefused, match="previous round"):
        next_state(replace(DRAFT, previous_state=previous), Action.OPEN, NOW)


@pytest.mark.parametrize("previous", [RoundState.NOTICE, RoundState.DONE])
def test_a_round_opens_once_the_previous_answer_is_out(previous):
    assert next_state(replace(DRAFT, previous_state=previous), Action.OPEN, NOW).state is RoundState.OPEN


def test_opening_needs_a_closing_time_in_the_future():
    with pytest.raises(TransitionRefused, match="closing time first"):
        next_state(replace(DRAFT, closes_at=None), Action.OPEN, NOW)
    with pytest.raises(TransitionRefused, match="has passed"):
        next_state(DRAFT, Action.OPEN, NOW + timedelta(days=14))


def test_closing_early_only_when_everyone_answered():
    open_ = replace(DRAFT, state=RoundState.OPEN)
    with pytest.raises(TransitionRefused, match="early only"):
        next_state(open_, Action.CLOSE, NOW + timedelta(days=3))
    assert (
        next_state(replace(open_, all_answered=True), Action.CLOSE, NOW + timedelta(days=3)).state
        is RoundState.CLOSED
    )


def test_publishing_is_blocked_while_the_answer_is_incomplete():
    closed = replace(DRAFT, state=RoundState.CLOSED, answer_blocker="2 comments have no answer")
    with pytest.raises(TransitionRefused, match="2 comments have no answer"):
        next_state(closed, Action.PUBLISH, NOW)


def test_the_notice_period_runs_its_course():
    notice = replace(DRAFT, state=RoundState.NOTICE, notice_ends_at=NOW + timedelta(days=7))
    with pytest.raises(TransitionRefused, match="not over"):
        next_state(notice, Action.FINISH, NOW + timedelta(days=6, hours=23))


def test_the_failed_path_needs_a_reason():
    for state in (RoundState.OPEN, RoundState.CLOSED):
        facts = replace(DRAFT, state=state)
        with pytest.raises(TransitionRefused, match="why"):
            next_state(facts, Action.FAIL, NOW, reason="  ")
        assert next_state(facts, Action.FAIL, NOW, reason="participation 41%").state is RoundState.FAILED


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (RoundState.OPEN, Action.OPEN),
        (RoundState.DRAFT, Action.CLOSE),
        (RoundState.OPEN, Action.PUBLISH),
        (RoundState.CLOSED, Action.FINISH),
        (RoundState.DRAFT, Action.FAIL),
        (RoundState.NOTICE, Action.FAIL),
        (RoundState.DONE, Action.OPEN),
        (RoundState.FAILED, Action.OPEN),
    ],
)
def test_actions_out_of_order_are_refused(state, action):
    with pytest.raises(TransitionRefused):
        next_state(replace(DRAFT, state=state), action, NOW, reason="x")


def test_open_for_input_only_between_its_times():
    closes = NOW + timedelta(days=1)
    assert is_open_for_input(RoundState.OPEN, NOW, closes, NOW)
    assert not is_open_for_input(RoundState.OPEN, NOW, closes, closes)
    assert not is_open_for_input(RoundState.OPEN, NOW, closes, NOW - timedelta(seconds=1))
    assert not is_open_for_input(RoundState.CLOSED, NOW, closes, NOW)


@pytest.mark.parametrize("state", [RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE])
def test_a_returned_record_reopens_a_closed_or_published_round(state):
    facts = replace(DRAFT, state=state, notice_ends_at=NOW)
    outcome = next_state(facts, Action.REOPEN, NOW, "答复不充分", until=NOW + timedelta(days=7))
    assert outcome.state is RoundState.OPEN
    assert outcome.closes_at == NOW + timedelta(days=7)


@pytest.mark.parametrize("state", [RoundState.DRAFT, RoundState.OPEN, RoundState.FAILED])
def test_only_a_closed_or_published_round_is_reopened(state):
    with pytest.raises(TransitionRefused, match="present state"):
        next_state(replace(DRAFT, state=state), Action.REOPEN, NOW, "x", until=NOW + timedelta(days=7))


def test_reopening_needs_a_reason_a_future_closing_time_and_no_later_round_open():
    done = replace(DRAFT, state=RoundState.DONE)
    later = NOW + timedelta(days=7)
    with pytest.raises(TransitionRefused, match="why"):
        next_state(done, Action.REOPEN, NOW, "  ", until=later)
    for until in (None, NOW, NOW - timedelta(days=1)):
        with pytest.raises(TransitionRefused, match="closing time"):
            next_state(done, Action.REOPEN, NOW, "x", until=until)
    with pytest.raises(TransitionRefused, match="later round"):
        next_state(replace(done, later_open=True), Action.REOPEN, NOW, "x", until=later)


@pytest.mark.parametrize(
    ("later", "expected"),
    [
        (RoundState.DRAFT, False),  # has taken no input yet: it opens on what comes down again
        (RoundState.OPEN, False),  # never the case: a round is not reopened behind an open one
        (RoundState.CLOSED, True),
        (RoundState.NOTICE, True),
        (RoundState.DONE, True),
        (RoundState.FAILED, False),  # already to be held again
    ],
)
def test_a_later_round_that_took_its_input_is_overtaken_by_a_reopened_one(later, expected):
    assert overtaken(later) is expected
