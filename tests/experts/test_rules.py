from datetime import UTC
from datetime import datetime
from datetime import timedelta
from fractions import Fraction

import pytest

from consult.experts.rules import DEFAULT_RUBRIC
from consult.experts.rules import Aggregation
from consult.experts.rules import CriterionSpec
from consult.experts.rules import RubricInvalid
from consult.experts.rules import ScoreFact
from consult.experts.rules import aggregate
from consult.experts.rules import centre
from consult.experts.rules import check_rubric
from consult.experts.rules import disagrees
from consult.experts.rules import expert_totals
from consult.experts.rules import may_reopen
from consult.experts.rules import may_write_opinion
from consult.experts.rules import method_used
from consult.experts.rules import ranking
from consult.experts.rules import variance
from consult.experts.rules import with_new_criterion
from consult.rounds.rules import RoundState

TWO = (CriterionSpec("safety", "安全", "Safety", 60), CriterionSpec("cost", "造价", "Cost", 40))


def facts(scheme: int, criterion: str, values: list[int], first_expert: int = 1) -> list[ScoreFact]:
    return [ScoreFact(first_expert + i, scheme, criterion, v) for i, v in enumerate(values)]


def test_default_rubric_has_six_criteria_weighing_100() -> None:
    check_rubric(DEFAULT_RUBRIC)
    assert [c.key for c in DEFAULT_RUBRIC] == [
        "safety", "function", "cost", "feasibility", "appearance", "maintenance",
    ]  # fmt: skip
    assert all(c.scale == 10 for c in DEFAULT_RUBRIC)


@pytest.mark.parametrize(
    "specs",
    [
        (),
        (CriterionSpec("a", "a", "a", 50), CriterionSpec("b", "b", "b", 40)),
        (CriterionSpec("a", "a", "a", 50), CriterionSpec("a", "b", "b", 50)),
        (CriterionSpec("a", "a", "a", 100, scale=0),),
    ],
)
def test_bad_rubrics_refused(specs) -> None:
    with pytest.raises(RubricInvalid):
        check_rubric(specs)


def test_mean() -> None:
    assert centre([7, 8, 9], Aggregation.MEAN) == (Fraction(8), Aggregation.MEAN)
    assert centre([7, 8], Aggregation.MEAN) == (Fraction(15, 2), Aggregation.MEAN)


def test_trimmed_mean_drops_highest_and_lowest_from_five() -> None:
    # 2 and 10 dropped: (7 + 8 + 9) / 3
    assert centre([10, 2, 8, 7, 9], Aggregation.TRIMMED_MEAN) == (Fraction(8), Aggregation.TRIMMED_MEAN)
    # the plain mean would be 36/5
    assert centre([10, 2, 8, 7, 9], Aggregation.MEAN) == (Fraction(36, 5), Aggregation.MEAN)


def test_trimmed_mean_falls_back_to_mean_below_five() -> None:
    assert centre([10, 2, 8, 7], Aggregation.TRIMMED_MEAN) == (Fraction(27, 4), Aggregation.MEAN)


def test_population_variance_exact() -> None:
    assert variance([7, 8, 9]) == Fraction(2, 3)
    # mean 36/5; squared deviations sum to 194/5; / 5
    assert variance([10, 2, 8, 7, 9]) == Fraction(194, 25)


def test_disagreement_is_strictly_above_threshold() -> None:
    assert variance([5, 8]) == Fraction(9, 4)  # sd exactly 1.5
    assert not disagrees(Fraction(9, 4), Fraction(3, 2))
    assert disagrees(variance([4, 8]), Fraction(3, 2))  # sd 2
    assert not disagrees(variance([4, 8]), Fraction(2))
    # on a 5-point scale the threshold halves to 0.75: sd 1 is flagged
    assert disagrees(variance([1, 3]), Fraction(3, 2), scale=5)


def test_weighted_total_and_figures() -> None:
    scores = facts(1, "safety", [8, 8, 8]) + facts(1, "cost", [4, 6, 5])
    result = aggregate(scores, TWO, [1], Aggregation.MEAN)[1]
    # 60 × 8/10 + 40 × 5/10
    assert result.total == Fraction(68)
    assert result.figures["cost"].value == Fraction(5)
    assert result.figures["cost"].variance == Fraction(2, 3)
    assert result.figures["safety"].variance == 0
    assert not result.disagreement


def test_trimmed_total_with_five_experts_and_flag() -> None:
    scores = facts(1, "safety", [10, 2, 8, 7, 9]) + facts(1, "cost", [5, 5, 5, 5, 5])
    result = aggregate(scores, TWO, [1], Aggregation.TRIMMED_MEAN)[1]
    assert result.figures["safety"].method is Aggregation.TRIMMED_MEAN
    assert result.total == 60 * Fraction(8, 10) + 40 * Fraction(5, 10)  # 68
    assert result.figures["safety"].disagreement  # 194/25 > 9/4
    assert result.disagreement


def test_conflicted_scores_excluded() -> None:
    scores = facts(1, "safety", [8, 8, 2]) + facts(1, "cost", [5, 5, 0])
    result = aggregate(scores, TWO, [1], Aggregation.MEAN, conflicts=[(3, 1)])[1]
    assert result.figures["safety"].count == 2
    assert result.total == Fraction(68)
    # the conflict is per scheme: expert 3 still counts on scheme 2
    other = facts(2, "safety", [8, 8, 2]) + facts(2, "cost", [5, 5, 2])
    assert aggregate(other, TWO, [2], Aggregation.MEAN, conflicts=[(3, 1)])[2].figures["safety"].count == 3


def test_total_needs_every_criterion() -> None:
    result = aggregate(facts(1, "safety", [8]), TWO, [1, 2], Aggregation.MEAN)
    assert result[1].total is None
    assert result[2].figures == {}
    assert result[2].total is None


def test_ranking_states_ties() -> None:
    places = ranking({1: Fraction(70), 2: Fraction(80), 3: Fraction(70), 4: None, 5: Fraction(60)})
    assert [(p.rank, p.schemes, p.tied) for p in places] == [
        (1, (2,), False),
        (2, (1, 3), True),
        (4, (5,), False),
    ]


def test_each_experts_own_total_for_the_spread_chart() -> None:
    scores = (
        facts(1, "safety", [8, 6, 10])
        + facts(1, "cost", [5, 10, 0])
        + facts(2, "safety", [7])
        + facts(2, "cost", [7])
    )
    totals = expert_totals(scores, TWO, conflicts=[(3, 2)])
    # expert 1: 60·8/10 + 40·5/10 = 68; expert 2: 36 + 40 = 76; expert 3: 60 + 0 = 60
    assert totals[1] == {1: Fraction(68), 2: Fraction(76), 3: Fraction(60)}
    # on scheme 2 only expert 1 scored: 42 + 28 = 70
    assert totals[2] == {1: Fraction(70)}


def test_spread_leaves_out_conflicts_and_unfinished_sheets() -> None:
    scores = facts(1, "safety", [8, 9]) + facts(1, "cost", [5])  # expert 2 gave no cost
    assert expert_totals(scores, TWO) == {1: {1: Fraction(68)}}
    assert expert_totals(scores, TWO, conflicts=[(1, 1)]) == {}


def test_a_new_criterion_takes_the_first_free_key() -> None:
    first = with_new_criterion(DEFAULT_RUBRIC[:2], "邻里", "", 5)
    assert first[-1] == CriterionSpec("criterion1", "邻里", "邻里", 5, 10)
    second = with_new_criterion(first, "绿化", "Greenery", 5, 5)
    assert second[-1] == CriterionSpec("criterion2", "绿化", "Greenery", 5, 5)
    assert len(second) == 4


@pytest.mark.parametrize(
    ("values", "expected", "method"),
    [
        # four: never trimmed, whatever the setting
        ([10, 10, 0, 0], Fraction(5), Aggregation.MEAN),
        # five: one highest and one lowest dropped, even when tied at either end
        ([10, 10, 5, 0, 0], Fraction(5), Aggregation.TRIMMED_MEAN),
        ([9, 9, 9, 9, 1], Fraction(9), Aggregation.TRIMMED_MEAN),
        # six: still only one of each end
        ([10, 9, 6, 6, 3, 0], Fraction(6), Aggregation.TRIMMED_MEAN),
        ([7, 7, 7, 7, 7, 7], Fraction(7), Aggregation.TRIMMED_MEAN),
    ],
)
def test_trimmed_mean_boundaries_and_ties(values, expected, method) -> None:
    assert centre(values, Aggregation.TRIMMED_MEAN) == (expected, method)


def test_trimming_counts_the_experts_who_scored_that_criterion() -> None:
    """Five experts, one of whom left cost unscored: safety is trimmed, cost (four scores) is not, and
    the total weighs each criterion's own figure."""
    scores = facts(1, "safety", [10, 8, 8, 8, 0]) + facts(1, "cost", [10, 6, 6, 2])
    result = aggregate(scores, TWO, [1], Aggregation.TRIMMED_MEAN)[1]
    assert (result.figures["safety"].count, result.figures["safety"].method) == (5, Aggregation.TRIMMED_MEAN)
    assert result.figures["safety"].value == 8
    assert (result.figures["cost"].count, result.figures["cost"].method) == (4, Aggregation.MEAN)
    assert result.figures["cost"].value == 6
    assert result.total == 60 * Fraction(8, 10) + 40 * Fraction(6, 10)


def test_a_conflict_can_take_a_criterion_below_the_trimming_bar() -> None:
    scores = facts(1, "safety", [10, 8, 8, 8, 0]) + facts(1, "cost", [5, 5, 5, 5, 5])
    result = aggregate(scores, TWO, [1], Aggregation.TRIMMED_MEAN, conflicts=[(5, 1)])[1]
    assert result.figures["safety"].method is Aggregation.MEAN
    assert result.figures["safety"].value == Fraction(34, 4)


@pytest.mark.parametrize(
    ("methods", "stated"),
    [
        ([], None),
        (["mean", "mean"], "mean"),
        (["trimmed_mean"], "trimmed_mean"),
        (["trimmed_mean", "mean"], "mixed"),
    ],
)
def test_the_method_used_is_read_from_the_figures(methods, stated) -> None:
    assert method_used(methods) == stated


CLOSED_AT = datetime(2026, 11, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "reopened_at", "expected"),
    [
        (RoundState.OPEN, CLOSED_AT + timedelta(days=3), True),  # reopened since: comments again
        (RoundState.CLOSED, CLOSED_AT + timedelta(days=3), True),  # the revision being written
        (RoundState.NOTICE, CLOSED_AT + timedelta(days=3), False),  # answers published again
        (RoundState.DONE, CLOSED_AT + timedelta(days=3), False),
        (RoundState.FAILED, CLOSED_AT + timedelta(days=3), False),  # held again: a new panel
        (RoundState.OPEN, None, False),  # never reopened
        (RoundState.OPEN, CLOSED_AT - timedelta(days=3), False),  # reopened before the panel closed
        (RoundState.OPEN, CLOSED_AT, False),
    ],
)
def test_a_panel_reopens_only_while_its_round_reopened_since_takes_the_revision(
    state, reopened_at, expected
) -> None:
    assert may_reopen(CLOSED_AT, state, reopened_at) is expected


def test_an_open_panel_is_not_reopened() -> None:
    assert not may_reopen(None, RoundState.OPEN, CLOSED_AT)


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (RoundState.DRAFT, True),
        (RoundState.OPEN, True),
        (RoundState.CLOSED, True),
        (RoundState.NOTICE, False),
        (RoundState.DONE, False),
    ],
)
def test_the_opinion_is_written_until_the_answers_are_published(state, expected) -> None:
    assert may_write_opinion(state) is expected
