"""Consent rules: boundaries on area and on headcount for every preset, and a reference model."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from consult.voting.rules import PRESETS
from consult.voting.rules import Choice
from consult.voting.rules import owner_areas
from consult.voting.rules import tally

Y, N, A = Choice.YES, Choice.NO, Choice.ABSTAIN


def bar(result, name):
    [found] = [b for b in result.bars if b.name == name]
    return found


# --- headcount: 12 owners of equal area, so that 2/3, 3/4 and 1/2 fall on whole numbers


def equal_owners(n: int) -> dict[int, Decimal]:
    return {i: Decimal("50.00") for i in range(1, n + 1)}


@pytest.mark.parametrize("preset", ["civil_code_major", "civil_code_ordinary"])
@pytest.mark.parametrize(("voters", "met"), [(7, False), (8, True), (9, True)])  # 8/12 = 2/3 exactly
def test_participation_by_headcount_at_two_thirds(preset, voters, met):
    areas = equal_owners(12)
    # the voters hold most of the area, so only the headcount bar is at stake
    areas.update({i: Decimal("500.00") for i in range(1, voters + 1)})
    result = tally(PRESETS[preset], areas, {i: Y for i in range(1, voters + 1)})
    assert bar(result, "participation_count").met is met
    assert bar(result, "participation_area").met


@pytest.mark.parametrize("preset", ["civil_code_major", "civil_code_ordinary"])
@pytest.mark.parametrize(("voters_area", "met"), [("199.99", False), ("200.00", True), ("200.01", True)])
def test_participation_by_area_at_two_thirds(preset, voters_area, met):
    # 3 voters of 3 owners by count; the area of the voters moves around 2/3 of 300 m²
    voters = {1: Decimal(voters_area) / 2, 2: Decimal(voters_area) / 2}
    areas = {**voters, 3: Decimal("300.00") - Decimal(voters_area)}
    result = tally(PRESETS[preset], areas, {1: Y, 2: Y})
    assert bar(result, "participation_area").met is met
    assert bar(result, "participation_area").value == Fraction(Decimal(voters_area)) / 300


@pytest.mark.parametrize(("yes", "met"), [(8, False), (9, True), (10, True)])  # 9/12 = 3/4 exactly
def test_major_approval_by_headcount_at_three_quarters(yes, met):
    areas = equal_owners(12)
    areas.update({i: Decimal("500.00") for i in range(1, yes + 1)})  # approving area far above 3/4
    ballots = {i: (Y if i <= yes else N) for i in range(1, 13)}
    result = tally(PRESETS["civil_code_major"], areas, ballots)
    assert bar(result, "approval_count").met is met
    assert bar(result, "approval_area").met
    assert result.passed is met


@pytest.mark.parametrize(("yes_area", "met"), [("299.99", False), ("300.00", True), ("300.01", True)])
def test_major_approval_by_area_at_three_quarters(yes_area, met):
    # 4 voters; 3 say yes (3/4 by count); the yes area moves around 3/4 of 400 m²
    yes_each = Decimal(yes_area) / 3
    areas = {1: yes_each, 2: yes_each, 3: yes_each, 4: Decimal("400.00") - Decimal(yes_area)}
    result = tally(PRESETS["civil_code_major"], areas, {1: Y, 2: Y, 3: Y, 4: N})
    assert bar(result, "approval_area").met is met
    assert bar(result, "approval_count").met


@pytest.mark.parametrize(("yes", "met"), [(5, False), (6, False), (7, True)])  # 6/12 is half: not over half
def test_ordinary_approval_by_headcount_is_strictly_over_half(yes, met):
    areas = equal_owners(12)
    areas.update({i: Decimal("500.00") for i in range(1, yes + 1)})
    ballots = {i: (Y if i <= yes else N) for i in range(1, 13)}
    assert bar(tally(PRESETS["civil_code_ordinary"], areas, ballots), "approval_count").met is met


@pytest.mark.parametrize(("yes_area", "met"), [("199.99", False), ("200.00", False), ("200.01", True)])
def test_ordinary_approval_by_area_is_strictly_over_half(yes_area, met):
    areas = {1: Decimal(yes_area) / 2, 2: Decimal(yes_area) / 2, 3: Decimal("400.00") - Decimal(yes_area)}
    result = tally(PRESETS["civil_code_ordinary"], areas, {1: Y, 2: Y, 3: N})
    assert bar(result, "approval_area").met is met


@pytest.mark.parametrize(("yes", "met"), [(7, False), (8, True), (9, True)])  # 8 of all 12 owners
def test_programme_admission_counts_two_thirds_of_all_owners(yes, met):
    areas = equal_owners(12)
    ballots = {i: Y for i in range(1, yes + 1)}  # the others did not vote: never counted as agreeing
    result = tally(PRESETS["programme_admission"], areas, ballots)
    assert [b.name for b in result.bars] == ["approval_count"]
    assert bar(result, "approval_count").whole == 12
    assert result.passed is met


def test_abstaining_takes_part_but_does_not_approve():
    areas = equal_owners(4)
    result = tally(PRESETS["civil_code_ordinary"], areas, {1: Y, 2: Y, 3: A, 4: N})
    assert (result.voters, result.approving, result.abstaining, result.against) == (4, 2, 1, 1)
    assert not bar(result, "approval_count").met  # 2 of 4 voters is not over half


def test_non_voters_never_agree_and_outsiders_are_ignored():
    areas = equal_owners(3)
    result = tally(PRESETS["civil_code_major"], areas, {1: Y, 99: Y})
    assert (result.voters, result.approving) == (1, 1)
    assert not result.passed
    assert result.failed_bars == ["participation_area", "participation_count"]


def test_nobody_voted_fails_without_dividing_by_zero():
    result = tally(PRESETS["civil_code_major"], equal_owners(5), {})
    assert not result.passed
    assert bar(result, "approval_count").value is None


def test_an_owner_of_several_dwellings_counts_once_with_the_areas_summed():
    areas = owner_areas(
        [(7, Decimal("60.50")), (7, Decimal("45.25")), (8, Decimal("90.00")), (None, Decimal("70"))]
    )
    assert areas == {7: Decimal("105.75"), 8: Decimal("90.00")}
    result = tally(PRESETS["civil_code_major"], areas, {7: Y})
    assert (result.owners, result.voters, result.voters_area) == (2, 1, Decimal("105.75"))


# --- a reference model in integers (areas in hundredths of m²), written independently


def reference(preset: str, dwellings: list[tuple[int, int]], ballots: dict[int, str]) -> bool:
    area: dict[int, int] = {}
    for owner, hundredths in dwellings:
        area[owner] = area.get(owner, 0) + hundredths
    voters = [o for o in ballots if o in area]
    yes = [o for o in voters if ballots[o] == "yes"]
    total_a, total_n = sum(area.values()), len(area)
    vote_a, vote_n = sum(area[o] for o in voters), len(voters)
    yes_a, yes_n = sum(area[o] for o in yes), len(yes)
    if preset == "programme_admission":
        return total_n > 0 and 3 * yes_n >= 2 * total_n
    participation = total_a > 0 and 3 * vote_a >= 2 * total_a and 3 * vote_n >= 2 * total_n
    if preset == "civil_code_major":
        return participation and vote_n > 0 and 4 * yes_a >= 3 * vote_a and 4 * yes_n >= 3 * vote_n
    return participation and vote_n > 0 and 2 * yes_a > vote_a and 2 * yes_n > vote_n


@settings(max_examples=300, deadline=None)
@given(
    preset=st.sampled_from(sorted(PRESETS)),
    dwellings=st.lists(
        st.tuples(st.integers(1, 12), st.integers(1, 20_000)), min_size=1, max_size=40
    ),  # owners 1–12 may hold several dwellings
    changes=st.lists(st.tuples(st.integers(1, 14), st.sampled_from(["yes", "no", "abstain"])), max_size=60),
)
def test_the_tally_matches_a_reference_model(preset, dwellings, changes):
    ballots: dict[int, str] = {}
    for owner, choice in changes:  # each owner's last ballot counts
        ballots[owner] = choice
    areas = owner_areas((o, Decimal(h) / 100) for o, h in dwellings)
    result = tally(PRESETS[preset], areas, {o: Choice(c) for o, c in ballots.items()})
    assert result.passed is reference(preset, dwellings, ballots)
    assert result.area == Decimal(sum(h for _, h in dwellings)) / 100


def test_a_rule_below_the_laws_names_each_laxer_bar():
    from consult.voting.counting import below_the_law
    from consult.voting.counting import custom_rule
    from consult.voting.counting import rule_to_dict
    from consult.voting.rules import laxer_bars

    major, ordinary = PRESETS["civil_code_major"], PRESETS["civil_code_ordinary"]
    assert laxer_bars(major, major) == []
    assert laxer_bars(major, ordinary) == []  # stricter than the law asks is fine
    assert laxer_bars(ordinary, major) == ["approval_area", "approval_count"]
    one_in_a_hundred = custom_rule("1/100", "1/100", ">1/2", ">1/2")
    assert laxer_bars(one_in_a_hundred, major) == list(BARS)
    # "at least half" lets exactly half pass, where the law wants more than half
    assert laxer_bars(custom_rule("2/3", "2/3", "1/2", ">1/2"), ordinary) == ["approval_area"]
    assert laxer_bars(custom_rule("", "", "", "2/3", "voters"), PRESETS["programme_admission"]) == [
        "approval_count"  # two thirds of the voters is less than two thirds of all owners
    ]
    assert laxer_bars(custom_rule("", "2/3", "3/4", "3/4"), major) == ["participation_area"]  # none set
    assert below_the_law("plan", rule_to_dict(one_in_a_hundred)) == list(BARS)
    assert below_the_law("management", rule_to_dict(ordinary)) == []
    assert below_the_law("other", rule_to_dict(one_in_a_hundred)) == []  # the law names no bar for it


BARS = ("participation_area", "participation_count", "approval_area", "approval_count")
