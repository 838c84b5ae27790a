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
from consult.voting.rules import unknown_owner

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
        [
            (1, 7, Decimal("60.50")),
            (2, 7, Decimal("45.25")),
            (3, 8, Decimal("90.00")),
            (4, None, Decimal("70")),
        ]
    )
    # dwelling 4, whose owner is not known, is an owner of its own under a key no ballot carries
    assert areas == {7: Decimal("105.75"), 8: Decimal("90.00"), unknown_owner(4): Decimal("70")}
    result = tally(PRESETS["civil_code_major"], areas, {7: Y})
    assert (result.owners, result.unknown, result.voters, result.voters_area) == (3, 1, 1, Decimal("105.75"))
    assert result.area == Decimal("265.75")


# --- dwellings whose owner is not known: each an owner who did not vote, with its area (民法典 278)


def test_dwellings_without_a_known_owner_make_a_passing_vote_fail_by_area_and_headcount():
    # 7 known owners of 100 m² each, 5 of whom vote yes: 5/7 by area and by count, over 2/3
    known = [(n, n, Decimal("100.00")) for n in range(1, 8)]
    ballots = {n: Y for n in range(1, 6)}
    before = tally(PRESETS["civil_code_major"], owner_areas(known), ballots)
    assert before.passed
    # 30% of the dwellings without a known owner: 3 more of 100 m², so 5/10 took part
    unknown = [(n, None, Decimal("100.00")) for n in range(8, 11)]
    after = tally(PRESETS["civil_code_major"], owner_areas(known + unknown), ballots)
    assert (after.owners, after.unknown, after.area, after.voters) == (10, 3, Decimal("1000.00"), 5)
    assert after.failed_bars == ["participation_area", "participation_count"]
    assert bar(after, "participation_count").whole == 10
    assert bar(after, "participation_area").whole == 1000


@pytest.mark.parametrize(("area", "met"), [("50.00", True), ("50.01", False)])
def test_an_unknown_owners_area_decides_the_participation_bar_at_its_boundary(area, met):
    # 4 of 5 known owners vote, 50 m² each: with the unknown dwelling, 4 of 6 owners (2/3, met) and
    # 200 m² of 250 m² and the unknown dwelling's area: 2/3 exactly at 50.00 m²
    known = [(n, n, Decimal("50.00")) for n in range(1, 6)]
    ballots = {n: Y for n in range(1, 5)}
    assert tally(PRESETS["civil_code_major"], owner_areas(known), ballots).passed  # 200 of 250 m²
    result = tally(PRESETS["civil_code_major"], owner_areas([*known, (6, None, Decimal(area))]), ballots)
    assert bar(result, "participation_count").met
    assert bar(result, "participation_area").whole == 250 + Fraction(Decimal(area))
    assert bar(result, "participation_area").met is met
    assert result.passed is met


def test_programme_admission_counts_unknown_owners_in_all_owners():
    # 8 of 12 known owners agree (2/3): two dwellings without a known owner make it 8 of 14
    known = [(n, n, Decimal("50.00")) for n in range(1, 13)]
    ballots = {n: Y for n in range(1, 9)}
    assert tally(PRESETS["programme_admission"], owner_areas(known), ballots).passed
    unknown = [(13, None, Decimal("50.00")), (14, None, Decimal("50.00"))]
    result = tally(PRESETS["programme_admission"], owner_areas(known + unknown), ballots)
    assert not result.passed
    assert bar(result, "approval_count").whole == 14


def test_dwellings_without_a_known_owner_outside_the_scope_change_nothing():
    # a lift question for unit 1: unit 2's dwelling without a known owner is not in its scope
    dwellings = [(1, 1, "u1", Decimal("80.00")), (2, 2, "u1", Decimal("70.00")), (3, 3, "u1", Decimal("60"))]
    dwellings.append((4, None, "u2", Decimal("90.00")))
    in_unit = owner_areas((d, o, a) for d, o, unit, a in dwellings if unit == "u1")
    result = tally(PRESETS["civil_code_major"], in_unit, {1: Y, 2: Y})
    assert (result.owners, result.unknown, result.area) == (3, 0, Decimal("210.00"))
    assert result.passed  # 2 of 3 owners, 150 of 210 m²
    whole = tally(
        PRESETS["civil_code_major"], owner_areas((d, o, a) for d, o, _u, a in dwellings), {1: Y, 2: Y}
    )
    assert not whole.passed  # the same ballots on a compound question: 2 of 4 owners


def test_no_ballot_counts_under_an_unknown_owners_key():
    areas = owner_areas([(1, 1, Decimal("10")), (2, None, Decimal("10"))])
    result = tally(PRESETS["civil_code_ordinary"], areas, {1: N, unknown_owner(2): Y})
    assert (result.voters, result.approving, result.against) == (1, 0, 1)


# --- a reference model in integers (areas in hundredths of m²), written independently


def reference(preset: str, dwellings: list[tuple[int | None, int]], ballots: dict[int, str]) -> bool:
    area: dict[object, int] = {}
    for n, (owner, hundredths) in enumerate(dwellings):
        who = owner if owner is not None else ("nobody known", n)  # an owner of its own, never voting
        area[who] = area.get(who, 0) + hundredths
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
        st.tuples(st.integers(1, 13).map(lambda n: None if n == 13 else n), st.integers(1, 20_000)),
        min_size=1,
        max_size=40,
    ),  # owners 1–12 may hold several dwellings; one dwelling in thirteen has no known owner
    changes=st.lists(st.tuples(st.integers(1, 14), st.sampled_from(["yes", "no", "abstain"])), max_size=60),
)
def test_the_tally_matches_a_reference_model(preset, dwellings, changes):
    ballots: dict[int, str] = {}
    for owner, choice in changes:  # each owner's last ballot counts
        ballots[owner] = choice
    areas = owner_areas((n, o, Decimal(h) / 100) for n, (o, h) in enumerate(dwellings, start=1))
    result = tally(PRESETS[preset], areas, {o: Choice(c) for o, c in ballots.items()})
    assert result.passed is reference(preset, dwellings, ballots)
    assert result.area == Decimal(sum(h for _, h in dwellings)) / 100
    unknown = sum(1 for o, _h in dwellings if o is None)
    assert result.unknown == unknown
    assert result.owners == len({o for o, _h in dwellings if o is not None}) + unknown


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
