"""Pure rules: the needs list's ranking (exact shares, ties), the willingness tally, answers' rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from fractions import Fraction

import pytest

from consult.surveys.catalogue import BY_CODE
from consult.surveys.catalogue import CATALOGUE
from consult.surveys.catalogue import Category
from consult.surveys.charts import count_bars
from consult.surveys.charts import permille
from consult.surveys.charts import share_bar
from consult.surveys.rules import AnswerFacts as A
from consult.surveys.rules import AnswerValues
from consult.surveys.rules import HazardRow
from consult.surveys.rules import QuestionKind
from consult.surveys.rules import QuestionSpec
from consult.surveys.rules import SurveySpec
from consult.surveys.rules import Willingness as W
from consult.surveys.rules import answer_problems
from consult.surveys.rules import danger_reports
from consult.surveys.rules import hazard_rows
from consult.surveys.rules import percent_text
from consult.surveys.rules import rank_needs
from consult.surveys.rules import stored_extra
from consult.surveys.rules import tally_willingness
from consult.surveys.rules import top_codes
from consult.surveys.rules import undecided


def rows(rows_):
    return [(r.code, r.count, r.share, r.rank, r.tied) for r in rows_]


def test_catalogue_codes_are_stable_unique_and_named_in_both_languages():
    assert len(CATALOGUE) == 26
    assert len(BY_CODE) == len(CATALOGUE)
    assert [i.code for i in CATALOGUE if i.category is Category.SAFETY] == ["S01", "S02", "S03", "S04", "S05"]
    assert CATALOGUE[0].category is Category.SAFETY  # safety is listed first
    assert all(i.name_zh and i.name_en and i.name_zh != i.name_en for i in CATALOGUE)
    assert BY_CODE["I07"].name("zh_CN") == "加装电梯"
    assert BY_CODE["I07"].name("en") == "Adding lifts"


def test_ranking_by_share_of_all_respondents_hand_computed():
    answers = [
        A(W.YES, ("B01", "I02", "E01")),
        A(W.YES, ("B01", "I02")),
        A(W.NO, ("B02",)),
        A(W.UNSURE, ()),  # named nothing: still a respondent, so shares are out of 4
    ]
    needs = rank_needs(answers)
    assert needs.respondents == 4
    assert needs.naming == 3
    # B01 and I02: 2 of 4; B02 and E01: 1 of 4. Equal shares tie, sorted by code; ranks 1, 1, 3, 3.
    assert rows(needs.overall) == [
        ("B01", 2, Fraction(1, 2), 1, True),
        ("I02", 2, Fraction(1, 2), 1, True),
        ("B02", 1, Fraction(1, 4), 3, True),
        ("E01", 1, Fraction(1, 4), 3, True),
    ]
    assert [c for c, _rows in needs.by_category] == [
        Category.BASIC,
        Category.IMPROVEMENT,
        Category.ENHANCEMENT,
    ]
    assert rows(needs.category(Category.BASIC)) == [
        ("B01", 2, Fraction(1, 2), 1, False),
        ("B02", 1, Fraction(1, 4), 2, False),
    ]
    assert rows(needs.category(Category.IMPROVEMENT)) == [("I02", 2, Fraction(1, 2), 1, False)]
    assert rows(needs.category(Category.ENHANCEMENT)) == [("E01", 1, Fraction(1, 4), 1, False)]


def test_ties_share_a_rank_and_the_next_rank_skips():
    answers = [A(W.YES, ("B03", "B02", "B01")), A(W.YES, ("B04",)), A(W.YES, ("B04",))]
    basic = rank_needs(answers).category(Category.BASIC)
    assert rows(basic) == [
        ("B04", 2, Fraction(2, 3), 1, False),
        ("B01", 1, Fraction(1, 3), 2, True),
        ("B02", 1, Fraction(1, 3), 2, True),
        ("B03", 1, Fraction(1, 3), 2, True),
    ]


def test_thirds_are_exact_not_floats():
    needs = rank_needs([A(W.YES, ("B01",)), A(W.NO, ()), A(W.NO, ())])
    assert needs.overall[0].share == Fraction(1, 3)
    assert isinstance(needs.overall[0].share, Fraction)
    assert percent_text(needs.overall[0].share) == "33.3%"


def test_zero_respondents():
    needs = rank_needs([])
    assert needs.respondents == 0
    assert needs.overall == ()
    assert needs.by_category == ()
    assert needs.hazards == ()
    assert top_codes(needs) == []
    tally = tally_willingness([], dwellings=12)
    assert (tally.yes, tally.no, tally.unsure, tally.respondents) == (0, 0, 0, 0)
    assert tally.share(W.YES) == 0
    assert tally.share_of_dwellings(W.YES) == 0


def test_safety_items_are_reported_not_ranked():
    answers = [
        A(W.YES, ("S01", "B01"), ("S03",)),  # a safety code among the needs is ignored
        A(W.YES, (), ("S03", "S01", "B02")),  # a non-safety code among the hazards is ignored
        A(W.NO, (), ("S03",)),
    ]
    needs = rank_needs(answers)
    assert [r.code for r in needs.overall] == ["B01"]
    assert all(r.category is not Category.SAFETY for r in needs.overall)
    assert Category.SAFETY not in dict(needs.by_category)
    # catalogue order, not the number of reports: S01 (1 home) before S03 (3 homes)
    assert [(h.code, h.count) for h in needs.hazards] == [("S01", 1), ("S03", 3)]


def test_a_need_named_twice_in_one_answer_counts_once_and_unknown_codes_are_ignored():
    needs = rank_needs([A(W.YES, ("B01", "B01", "X99"))])
    assert rows(needs.overall) == [("B01", 1, Fraction(1), 1, False)]


def test_top_needs_are_the_first_three_of_each_category_ties_included():
    answers = [
        A(W.YES, ("B01", "B02", "B03")),
        A(W.YES, ("B01", "B02", "B04")),
        A(W.YES, ("B01", "B05", "I01")),
        A(W.YES, ("B06",)),
    ]
    needs = rank_needs(answers)
    # basic: B01 3/4 (1), B02 2/4 (2), then B03 B04 B05 B06 1/4 tied at rank 3: all are top
    assert [(r.code, r.rank) for r in needs.category(Category.BASIC)] == [
        ("B01", 1),
        ("B02", 2),
        ("B03", 3),
        ("B04", 3),
        ("B05", 3),
        ("B06", 3),
    ]
    assert top_codes(needs) == ["B01", "B02", "B03", "B04", "B05", "B06", "I01"]
    assert undecided(needs, {"B01", "B03", "I01"}) == ["B02", "B04", "B05", "B06"]
    below = rank_needs(
        [
            A(W.YES, ("B01", "B02", "B03")),
            A(W.YES, ("B01", "B02", "B03")),
            A(W.YES, ("B01", "B02")),
            A(W.YES, ("B01", "B04")),
        ]
    )
    # B01 4/4, B02 3/4, B03 2/4, B04 1/4: ranks 1 to 4, and the fourth is not a top need
    assert [(r.code, r.rank, r.tied) for r in below.category(Category.BASIC)] == [
        ("B01", 1, False),
        ("B02", 2, False),
        ("B03", 3, False),
        ("B04", 4, False),
    ]
    assert top_codes(below) == ["B01", "B02", "B03"]


def test_willingness_tally_counts_and_shares():
    answers = [A(W.YES), A(W.YES), A(W.NO), A(W.UNSURE)]
    tally = tally_willingness(answers, dwellings=10)
    assert (tally.yes, tally.no, tally.unsure, tally.respondents, tally.dwellings) == (2, 1, 1, 4, 10)
    assert tally.share(W.YES) == Fraction(1, 2)
    assert tally.share(W.NO) == Fraction(1, 4)
    assert tally.share_of_dwellings(W.YES) == Fraction(1, 5)  # the six silent homes never agree
    assert tally.share_of_dwellings(W.UNSURE) == Fraction(1, 10)


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (Fraction(0), "0%"),
        (Fraction(1), "100%"),
        (Fraction(1, 2), "50%"),
        (Fraction(2, 3), "66.7%"),
        (Fraction(1, 8), "12.5%"),
        (Fraction(1, 16), "6.3%"),  # 6.25: half up
        (Fraction(1, 7), "14.3%"),
    ],
)
def test_percent_text_rounds_half_up_exactly(share, text):
    assert percent_text(share) == text


SPEC = SurveySpec(
    need_codes=frozenset({"B01", "B02", "B03", "B04", "I01"}),
    hazard_codes=frozenset({"S01", "S02"}),
    questions=(
        QuestionSpec(7, QuestionKind.SINGLE, True, frozenset({70, 71})),
        QuestionSpec(8, QuestionKind.MULTIPLE, False, frozenset({80, 81, 82})),
        QuestionSpec(9, QuestionKind.TEXT, False),
    ),
)


def test_a_valid_answer_has_no_problem_and_is_stored_plainly():
    values = AnswerValues("yes", ("B01", "I01"), ("S02",), "", {7: 71, 8: [82, 80], 9: "  more benches "})
    assert answer_problems(SPEC, values) == {}
    assert stored_extra(SPEC, values) == {"7": 71, "8": [80, 82], "9": "more benches"}


def test_answer_problems_name_each_field():
    values = AnswerValues(
        None, ("B01", "B02", "B03", "B04"), ("B01",), "x" * 501, {7: 99, 8: [80], 9: "y" * 2001}
    )
    problems = answer_problems(SPEC, values)
    assert set(problems) == {"willingness", "needs", "hazards", "hazard_note", "q7", "q9"}
    assert str(problems["needs"]) == "Choose at most three."
    assert str(problems["q7"]) == "Choose from the list."
    assert str(problems["hazard_note"]) == "Write at most 500 characters."


def test_safety_items_cannot_be_picked_as_needs_and_required_questions_need_an_answer():
    problems = answer_problems(SPEC, AnswerValues("no", ("S01",)))
    assert str(problems["needs"]) == "Choose from the list."
    assert str(problems["q7"]) == "Answer this question."
    assert "q8" not in problems  # optional
    assert answer_problems(SPEC, AnswerValues("maybe", (), (), "", {7: 70}))["willingness"]
    assert answer_problems(SPEC, AnswerValues("unsure", (), (), "", {7: [70, 71]}))["q7"]


def test_bars_are_permille_of_the_share():
    assert permille(Fraction(1, 3)) == 333
    assert permille(Fraction(2, 3)) == 667
    assert permille(Fraction(3, 2)) == 1000
    bar = share_bar("屋面防水", 2, Fraction(2, 3))
    assert (bar.label, bar.value, bar.permille) == ("屋面防水", "2 · 66.7%", 667)
    assert [b.permille for b in count_bars([("a", 4), ("b", 1), ("c", 0)])] == [1000, 250, 0]
    assert count_bars([("a", 0)])[0].permille == 0


# --- dangers: every answer of the round, replaced ones too


@dataclass(frozen=True)
class Given:
    """One answer of a dwelling, as the history keeps it."""

    dwelling_id: int
    revision: int
    hazards: tuple[str, ...] = ()
    hazard_note: str = ""
    replaced: bool = False
    willingness: W = W.YES
    needs: tuple[str, ...] = ()

    @property
    def superseded_at(self) -> datetime | None:
        return datetime(2025, 5, 1, tzinfo=UTC) if self.replaced else None


def reported(reports):
    return [(r.dwelling_id, r.codes, r.note, r.earlier) for r in reports]


def test_a_danger_stays_reported_when_a_later_answer_does_not_repeat_it():
    history = [
        Given(1, 1, ("S01",), "3单元楼道有燃气味", replaced=True, needs=("B01",)),  # online
        Given(1, 2, (), "", needs=("I01",)),  # the paper survey that replaced it, without the danger
    ]
    assert reported(danger_reports(history)) == [(1, ("S01",), "3单元楼道有燃气味", True)]
    assert hazard_rows(danger_reports(history)) == (HazardRow("S01", 1, 1),)
    needs = rank_needs([a for a in history if not a.replaced], dangers=danger_reports(history))
    assert [(h.code, h.count, h.earlier) for h in needs.hazards] == [("S01", 1, 1)]
    # only the answer that counts is ranked and counted as a respondent
    assert [r.code for r in needs.overall] == ["I01"]
    assert needs.respondents == 1
    # without the history, the danger would be lost: that is what the reports are for
    assert rank_needs([a for a in history if not a.replaced]).hazards == ()


def test_a_danger_counts_once_per_dwelling_and_no_note_is_lost():
    history = [
        # dwelling 2 repeated its danger: the replaced answer adds nothing and is left out
        Given(2, 1, ("S01",), "", replaced=True),
        Given(2, 2, ("S01",), ""),
        # dwelling 3 repeated the danger without its note: the note of the replaced answer stays
        Given(3, 1, ("S03", "S02"), "二楼电线裸露", replaced=True),
        Given(3, 2, ("S02",), ""),
        # dwelling 4 answered three times; the danger of the first answer only
        Given(4, 1, ("S01",), "燃气味", replaced=True),
        Given(4, 2, ("S01",), "燃气味", replaced=True),
        Given(4, 3, (), ""),
        # dwelling 5 reported nothing, ever
        Given(5, 1, (), "", replaced=True),
        Given(5, 2, (), ""),
        # a note with no box ticked still tells where a danger is
        Given(6, 1, (), "屋顶漏水"),
        # a non-safety code among the hazards is ignored
        Given(7, 1, ("B01",), ""),
    ]
    assert reported(danger_reports(history)) == [
        (2, ("S01",), "", False),
        (3, ("S02",), "", False),
        (3, ("S02", "S03"), "二楼电线裸露", True),  # catalogue order
        (4, ("S01",), "燃气味", True),  # once, from its latest report
        (6, (), "屋顶漏水", False),
    ]
    assert hazard_rows(danger_reports(history)) == (
        HazardRow("S01", 2, 1),  # dwellings 2 (still counts) and 4 (replaced)
        HazardRow("S02", 1, 0),
        HazardRow("S03", 1, 1),
    )


def test_the_danger_list_of_answers_that_never_changed_is_the_same_either_way():
    history = [Given(1, 1, ("S03",)), Given(2, 1, ("S01", "S03")), Given(3, 1, ())]
    plain = rank_needs(history)
    with_history = rank_needs(history, dangers=danger_reports(history))
    assert plain.hazards == with_history.hazards == (HazardRow("S01", 1, 0), HazardRow("S03", 2, 0))
    assert rank_needs([], dangers=danger_reports([Given(1, 1, ("S01",), replaced=True)])).hazards == (
        HazardRow("S01", 1, 1),
    )
