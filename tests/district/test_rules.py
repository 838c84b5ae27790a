"""The district's pure rules: stage, ordering, plan progress, being stuck, CSV cells."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from consult.compounds.rules import Coverage
from consult.district.rules import PLAN_TARGETS
from consult.district.rules import NextStep
from consult.district.rules import RoundView
from consult.district.rules import all_stages
from consult.district.rules import csv_cell
from consult.district.rules import days_in_stage
from consult.district.rules import entered_at
from consult.district.rules import is_stuck
from consult.district.rules import mean_share
from consult.district.rules import next_step
from consult.district.rules import parse_stage
from consult.district.rules import plan_progress
from consult.district.rules import stage_and_since
from consult.district.rules import stage_label
from consult.district.rules import stage_of
from consult.rounds.rules import RoundState

D, OPEN, C, N, DONE, F = (
    RoundState.DRAFT,
    RoundState.OPEN,
    RoundState.CLOSED,
    RoundState.NOTICE,
    RoundState.DONE,
    RoundState.FAILED,
)
EMPTY = Coverage(0, 0, Decimal(0), Decimal(0), 0, 0)
PARTIAL = Coverage(10, 9, Decimal(700), Decimal(630), 9, 0)
FULL = Coverage(10, 10, Decimal(700), Decimal(700), 8, 2)


def views(*rounds: tuple[int, int, RoundState]) -> list[RoundView]:
    return [RoundView(n, a, s) for n, a, s in rounds]


def three(s1: RoundState, s2: RoundState = D, s3: RoundState = D) -> list[RoundView]:
    return views((1, 1, s1), (2, 1, s2), (3, 1, s3))


@pytest.mark.parametrize(
    ("coverage", "rounds", "key"),
    [
        (EMPTY, [], "no_roster"),
        (PARTIAL, [], "roster_partial"),
        (FULL, [], "ready"),
        (FULL, three(D), "ready"),
        (PARTIAL, three(D), "roster_partial"),
        (PARTIAL, three(OPEN), "round1_open"),  # rounds run while a few owners are still unknown
        (EMPTY, three(OPEN), "round1_open"),
        (FULL, three(C), "round1_closed"),
        (FULL, three(N), "round1_notice"),
        (FULL, three(DONE), "round1_done"),
        (FULL, three(F), "round1_failed"),
        (FULL, [*views((1, 1, F), (1, 2, D)), *three(D)[1:]], "round1_failed"),
        (FULL, [*views((1, 1, F), (1, 2, OPEN)), *three(D)[1:]], "round1_open"),
        (FULL, three(DONE, OPEN), "round2_open"),
        (FULL, three(DONE, N), "round2_notice"),
        (FULL, three(DONE, DONE), "round2_done"),
        (FULL, three(DONE, DONE, C), "round3_closed"),
        (FULL, three(DONE, DONE, F), "round3_failed"),
        (FULL, three(DONE, DONE, DONE), "consensus"),
        (PARTIAL, three(DONE, DONE, DONE), "consensus"),
        # attempts in any order: the latest attempt of each number counts
        (FULL, views((2, 2, OPEN), (1, 1, DONE), (2, 1, F), (3, 1, D)), "round2_open"),
    ],
)
def test_stage_of(coverage, rounds, key):
    assert stage_of(coverage, rounds).key == key


CREATED = datetime(2025, 9, 1, 0, 0)  # naive, as read back from the database: UTC


def day(month: int, dom: int) -> datetime:
    return datetime(2025, month, dom, 2, 0, tzinfo=UTC)


def entered(*rounds: tuple[int, int, RoundState, datetime | None]) -> list[RoundView]:
    """Round attempts with the moment each entered its present state."""
    return [RoundView(n, a, s, at) for n, a, s, at in rounds]


def since(coverage: Coverage, rounds: list[RoundView]) -> datetime:
    return stage_and_since(coverage, rounds, CREATED)[1]


def test_since_is_when_the_round_that_names_the_stage_entered_its_state():
    for state in (OPEN, C, N, F):
        rounds = entered((1, 1, DONE, day(10, 1)), (2, 1, state, day(11, 5)), (3, 1, D, day(12, 1)))
        assert stage_of(FULL, rounds).key == f"round2_{state.value}"
        assert since(FULL, rounds) == day(11, 5)


def test_scheduling_the_next_round_while_on_notice_does_not_move_since():
    # round 2 went on notice on 11-26; the vote (round 3, a draft) was rescheduled on 12-14
    rounds = entered((1, 1, DONE, day(10, 1)), (2, 1, N, day(11, 26)), (3, 1, D, day(12, 14)))
    assert stage_of(FULL, rounds).key == "round2_notice"
    assert since(FULL, rounds) == day(11, 26)
    # the vote on notice, a fourth round planned after it: still on notice since 11-26
    voted = entered((1, 1, DONE, day(9, 20)), (2, 1, DONE, day(11, 1)), (3, 1, N, day(11, 26)))
    planned = [*voted, RoundView(4, 1, D, day(12, 14))]
    assert stage_of(FULL, planned).key == "round3_notice"
    assert since(FULL, planned) == day(11, 26)


def test_since_a_round_became_done_while_the_next_is_a_draft():
    rounds = entered((1, 1, DONE, day(10, 3)), (2, 1, D, day(12, 1)), (3, 1, D, day(12, 1)))
    assert stage_of(FULL, rounds).key == "round1_done"
    assert since(FULL, rounds) == day(10, 3)


def test_a_failed_vote_awaiting_its_repeat_dates_from_its_failure():
    failed = entered((1, 1, DONE, day(9, 1)), (2, 1, DONE, day(10, 1)), (3, 1, F, day(11, 2)))
    assert since(FULL, failed) == day(11, 2)
    # the repeat is held as a draft and scheduled: the compound is still where the failure left it
    awaiting = [*failed, RoundView(3, 2, D, day(11, 20))]
    assert stage_of(FULL, awaiting).key == "round3_failed"
    assert since(FULL, awaiting) == day(11, 2)
    assert since(FULL, list(reversed(awaiting))) == day(11, 2)  # attempts in any order
    # once the repeat opens, the compound is in a new stage from then
    opened = [*failed, RoundView(3, 2, OPEN, day(12, 1))]
    assert since(FULL, opened) == day(12, 1)


def test_consensus_dates_from_when_the_last_round_became_done():
    rounds = entered(
        (1, 1, DONE, day(9, 1)), (2, 1, DONE, day(10, 1)), (3, 1, F, day(10, 20)), (3, 2, DONE, day(12, 9))
    )
    assert stage_of(FULL, rounds).key == "consensus"
    assert since(FULL, rounds) == day(12, 9)


def test_a_reopened_round_dates_from_its_reopening():
    # round 2 reopened on the district review's return: its latest entry into "open" is the reopening
    rounds = entered((1, 1, DONE, day(9, 1)), (2, 1, OPEN, day(12, 2)), (3, 1, F, day(12, 2)))
    assert stage_of(FULL, rounds).key == "round2_open"
    assert since(FULL, rounds) == day(12, 2)


@pytest.mark.parametrize("coverage", [EMPTY, PARTIAL, FULL])
def test_before_any_round_has_begun_since_is_the_creation(coverage):
    planned = entered((1, 1, D, day(11, 1)), (2, 1, D, day(11, 2)), (3, 1, D, day(11, 3)))
    assert since(coverage, []) == CREATED.replace(tzinfo=UTC)
    assert since(coverage, planned) == CREATED.replace(tzinfo=UTC)


def test_a_round_with_no_entry_in_its_history_falls_back_to_the_creation():
    rounds = entered((1, 1, DONE, day(9, 1)), (2, 1, C, None), (3, 1, D, None))
    assert since(FULL, rounds) == CREATED.replace(tzinfo=UTC)
    repeat_alone = entered((1, 2, D, day(9, 1)))  # the failed attempt is not among the rounds given
    assert stage_of(FULL, repeat_alone).key == "round1_failed"
    assert since(FULL, repeat_alone) == CREATED.replace(tzinfo=UTC)


def test_stages_sort_in_the_order_of_progress():
    stages = all_stages()
    assert [s.key for s in stages][:4] == ["no_roster", "roster_partial", "ready", "round1_failed"]
    assert stages[-1].key == "consensus"
    assert sorted(reversed(stages)) == stages
    assert [s.key for s in stages if s.number == 2] == [
        "round2_failed",
        "round2_open",
        "round2_closed",
        "round2_notice",
        "round2_done",
    ]
    assert parse_stage("round2_done") < parse_stage("round3_failed") < parse_stage("consensus")
    assert parse_stage("round12_open") > parse_stage("round3_done")


@pytest.mark.parametrize("key", [s.key for s in all_stages((1, 2, 3, 4))])
def test_every_stage_key_parses_back(key):
    assert parse_stage(key).key == key
    assert str(stage_label(parse_stage(key)))


@pytest.mark.parametrize(
    "key", ["", None, "round", "round0_open", "round1_draft", "round1_", "roundx_open", "Consensus", "ready "]
)
def test_unknown_stage_keys(key):
    assert parse_stage(key) is None


def test_since_and_stuck():
    created = datetime(2026, 1, 1, 0, 0)  # naive, as read back from the database: UTC
    event = datetime(2026, 3, 1, 0, 0)
    assert entered_at(None, created) == created.replace(tzinfo=UTC)
    assert entered_at(event, created) == event.replace(tzinfo=UTC)
    now = datetime(2026, 3, 31, 0, 0, tzinfo=UTC)
    since = entered_at(event, created)
    stage = parse_stage("round1_open")
    assert days_in_stage(since, now) == 30
    assert not is_stuck(stage, since, now, 30)  # exactly 30 days: not yet "more than 30"
    assert is_stuck(stage, since, now + timedelta(seconds=1), 30)
    assert not is_stuck(parse_stage("consensus"), since, now + timedelta(days=400), 30)
    assert is_stuck(parse_stage("no_roster"), since, now, 7)


def test_plan_progress_counts_registered_under_way_and_consensus():
    stage = parse_stage
    rows = [
        (2022, stage("consensus")),
        (2022, stage("round2_open")),
        (2022, stage("roster_partial")),
        (2023, stage("ready")),
        (2025, stage("consensus")),  # not a plan year with a target
        (None, stage("consensus")),
    ]
    progress = {p.year: p for p in plan_progress(rows)}
    assert list(progress) == sorted(PLAN_TARGETS) == [2022, 2023, 2024]
    assert (progress[2022].target, progress[2022].registered) == (162, 3)
    assert (progress[2022].under_way, progress[2022].consensus) == (1, 1)
    assert progress[2022].percent_done == 0  # 1/162, rounded down
    assert progress[2024].registered == 0
    over = plan_progress([(2022, stage("consensus"))] * 5, {2022: 4})[0]
    assert over.scale == 5
    assert over.permille(over.target) == 800
    assert over.percent_done == 125


def test_mean_share_weighs_each_round_the_same_and_skips_empty_ones():
    assert mean_share([]) is None
    assert mean_share([(0, 0)]) is None
    assert mean_share([(1, 2), (3, 4), (5, 0)]) == Fraction(5, 8)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("浣花小区", "浣花小区"),
        ("a=b", "a=b"),
        (12, "12"),
        (None, ""),
    ],
)
def test_csv_cells_never_start_a_formula(value, cell):
    assert csv_cell(value) == cell


@pytest.mark.parametrize(
    ("key", "record", "may_submit", "step"),
    [
        ("no_roster", None, False, NextStep.IMPORT_ROSTER),
        ("roster_partial", None, False, NextStep.COMPLETE_ROSTER),
        ("ready", None, False, NextStep.OPEN_FIRST),
        ("round1_open", None, False, NextStep.FOLLOW_ROUND),
        ("round2_closed", None, False, NextStep.ANSWER_ROUND),
        ("round2_notice", None, False, NextStep.ON_NOTICE),
        ("round1_done", None, False, NextStep.PREPARE_NEXT),
        ("round3_failed", None, False, NextStep.REPEAT_ROUND),
        ("round3_closed", None, True, NextStep.ANSWER_ROUND),  # the result is published first
        ("round3_notice", None, True, NextStep.SUBMIT_RECORD),
        ("round3_notice", None, False, NextStep.RECORD_BLOCKED),  # e.g. the plan was not approved
        ("round3_notice", "submitted", False, NextStep.AWAIT_REVIEW),
        ("round3_notice", "returned", True, NextStep.SUBMIT_RECORD),  # the reopened round closed again
        ("consensus", None, True, NextStep.SUBMIT_RECORD),
        ("consensus", "approved", False, NextStep.COMPLETE),
    ],
)
def test_the_next_step_follows_the_stage_and_then_the_record(key, record, may_submit, step):
    assert next_step(parse_stage(key), 3, record, may_submit) is step


def test_only_the_last_rounds_answer_leads_to_the_record():
    assert (
        next_step(parse_stage("round3_notice"), 4, None, True) is NextStep.ON_NOTICE
    )  # a fourth round follows
    assert next_step(parse_stage("round4_notice"), 4, None, True) is NextStep.SUBMIT_RECORD
