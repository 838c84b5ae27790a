"""Pure rules of the needs survey: what a valid answer is, the needs list (ranking by share of
respondents, exact fractions), the willingness tally, and which needs must be decided before the needs
list is published. No Flask request, no database.

Definitions (DESIGN.md, "Needs categories"):

- A **respondent** is a dwelling with a current answer. The share of an item is the number of
  respondents naming it divided by *all* respondents, including those who named nothing, so a share is
  never inflated by households that did not pick.
- Items are ranked per category by share (highest first), then by code; equal shares have the same rank
  (1, 1, 3) and are marked as tied. Items nobody named are not ranked.
- Safety items (安全类) are fixed on discovery: they are never picked as needs nor ranked. Residents
  report them, and the needs list shows each reported hazard first, in catalogue order, with the number
  of households reporting it. A reported danger never disappears because the household answered again
  without it: the danger list reads *every* answer of the round, the replaced ones too
  (:func:`danger_reports`), while the ranking and the willingness read the answers that count only.
- **Top needs**: in each ranked category, the items whose rank is at most ``TOP_PER_CATEGORY`` (ties at
  the boundary included). The needs list may be published only when each top need carries a decision
  (it enters the scheme, or not now with a reason).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from fractions import Fraction
from typing import Any
from typing import Protocol

from flask_babel import lazy_gettext as _l

from consult.surveys.catalogue import CATALOGUE
from consult.surveys.catalogue import CATEGORY_ORDER
from consult.surveys.catalogue import Category

#: residents pick at most this many needs ("your top three")
MAX_NEEDS = 3
#: per category, the items ranked this high or higher need a decision before publishing
TOP_PER_CATEGORY = 3
#: longest free-text answer, and longest note on a hazard
TEXT_MAX = 2000
NOTE_MAX = 500


class Willingness(enum.StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"


WILLINGNESS_CHOICES = {
    Willingness.YES: _l("Yes, I agree"),
    Willingness.NO: _l("No, I do not agree"),
    Willingness.UNSURE: _l("Not sure yet"),
}

WILLINGNESS_LABELS = {
    Willingness.YES: _l("Agree"),
    Willingness.NO: _l("Do not agree"),
    Willingness.UNSURE: _l("Not sure"),
}


class QuestionKind(enum.StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TEXT = "text"


QUESTION_KIND_LABELS = {
    QuestionKind.SINGLE: _l("Single choice"),
    QuestionKind.MULTIPLE: _l("Multiple choice"),
    QuestionKind.TEXT: _l("Free text"),
}


class Decision(enum.StrEnum):
    IN_SCHEME = "in_scheme"
    NOT_NOW = "not_now"


DECISION_LABELS = {
    Decision.IN_SCHEME: _l("Enters the scheme"),
    Decision.NOT_NOW: _l("Not now"),
}


# --- the needs list


class ItemLike(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def category(self) -> Category | str: ...


class AnswerLike(Protocol):
    @property
    def willingness(self) -> Willingness | str | None: ...
    @property
    def needs(self) -> Sequence[str]: ...
    @property
    def hazards(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class AnswerFacts:
    """An answer as plain values (tests and callers without a database row)."""

    willingness: Willingness | None = None
    needs: tuple[str, ...] = ()
    hazards: tuple[str, ...] = ()


@dataclass(frozen=True)
class NeedRow:
    code: str
    category: Category
    count: int
    share: Fraction
    rank: int
    #: another item has the same share (and so the same rank)
    tied: bool


@dataclass(frozen=True)
class HazardRow:
    code: str
    #: households (dwellings) that reported it, in any answer of the round
    count: int
    #: of those, the households that reported it only in an answer a later one of theirs replaced
    earlier: int = 0


@dataclass(frozen=True)
class NeedsList:
    respondents: int
    #: respondents who named at least one need
    naming: int
    #: reported safety hazards, in catalogue order: fixed on discovery, never ranked
    hazards: tuple[HazardRow, ...]
    #: every ranked item, across categories
    overall: tuple[NeedRow, ...]
    #: ranking within each category (safety excluded), in the catalogue's category order
    by_category: tuple[tuple[Category, tuple[NeedRow, ...]], ...] = field(default=())

    def category(self, category: Category) -> tuple[NeedRow, ...]:
        return dict(self.by_category).get(category, ())


def _ranked(counts: dict[str, int], categories: dict[str, Category], respondents: int) -> tuple[NeedRow, ...]:
    shares = {code: Fraction(n, respondents) for code, n in counts.items()}
    order = sorted(shares, key=lambda code: (-shares[code], code))
    per_share = Counter(shares.values())
    rows = []
    for position, code in enumerate(order, start=1):
        share = shares[code]
        rank = position if not rows or rows[-1].share != share else rows[-1].rank
        rows.append(NeedRow(code, categories[code], counts[code], share, rank, per_share[share] > 1))
    return tuple(rows)


class HistoryAnswerLike(Protocol):
    """An answer of a dwelling, current or replaced (a :class:`SurveyAnswer` row)."""

    @property
    def dwelling_id(self) -> int: ...
    @property
    def revision(self) -> int: ...
    @property
    def hazards(self) -> Sequence[str]: ...
    @property
    def hazard_note(self) -> str: ...
    @property
    def superseded_at(self) -> Any: ...


@dataclass(frozen=True)
class DangerReport:
    """One answer's report of danger that stands on the danger list."""

    dwelling_id: int
    #: the safety hazards this answer reported, in catalogue order
    codes: tuple[str, ...]
    #: where the danger is, in the resident's words ("" when none)
    note: str
    #: the answer has been replaced by a later answer of the household (it no longer counts as an answer)
    earlier: bool
    #: the answer itself (when it was given, online or on paper)
    answer: Any


def danger_reports(
    answers: Iterable[HistoryAnswerLike], items: Iterable[ItemLike] = CATALOGUE
) -> tuple[DangerReport, ...]:
    """Every danger reported by any answer of the round, the replaced answers included: a danger is
    fixed on discovery, so a later answer that does not repeat it never takes it off the list.

    Per dwelling, answers are read latest first; an answer is listed when it reports a hazard the
    dwelling's later answers did not, or a note they did not, so no hazard and no note is lost and a
    replaced answer that only repeats a later one is left out (a dwelling counts once per hazard in
    :func:`hazard_rows`). The answer that counts is listed whenever it reports a hazard or a note.
    Dwellings in order of their id."""
    order = [item.code for item in items if Category(item.category) is Category.SAFETY]
    by_dwelling: dict[int, list[HistoryAnswerLike]] = defaultdict(list)
    for answer in answers:
        by_dwelling[answer.dwelling_id].append(answer)
    reports = []
    for dwelling_id in sorted(by_dwelling):
        seen_codes: set[str] = set()
        seen_notes: set[str] = set()
        for answer in sorted(by_dwelling[dwelling_id], key=lambda a: a.revision, reverse=True):
            codes = tuple(code for code in order if code in answer.hazards)
            note = (answer.hazard_note or "").strip()
            if not set(codes) <= seen_codes or (note and note not in seen_notes):
                reports.append(
                    DangerReport(dwelling_id, codes, note, answer.superseded_at is not None, answer)
                )
            seen_codes.update(codes)
            if note:
                seen_notes.add(note)
    return tuple(reports)


def hazard_rows(
    reports: Iterable[DangerReport], items: Iterable[ItemLike] = CATALOGUE
) -> tuple[HazardRow, ...]:
    """The danger list: each hazard reported, in catalogue order, with the households that reported it
    in any answer, and how many of them only in an answer since replaced."""
    named: dict[str, set[int]] = defaultdict(set)
    current: dict[str, set[int]] = defaultdict(set)
    for report in reports:
        for code in report.codes:
            named[code].add(report.dwelling_id)
            if not report.earlier:
                current[code].add(report.dwelling_id)
    return tuple(
        HazardRow(item.code, len(named[item.code]), len(named[item.code] - current[item.code]))
        for item in items
        if Category(item.category) is Category.SAFETY and named[item.code]
    )


def rank_needs(
    answers: Iterable[AnswerLike],
    items: Iterable[ItemLike] = CATALOGUE,
    dangers: Iterable[DangerReport] | None = None,
) -> NeedsList:
    """The needs list of these (current) answers over these items (by default the catalogue).

    ``dangers``: the reports of every answer of the round (:func:`danger_reports`); when given, the
    hazards are listed from them, so a danger stays listed after the household answered again without
    it. Needs are always ranked, and respondents counted, from ``answers`` only."""
    item_list = list(items)
    categories = {item.code: Category(item.category) for item in item_list}
    needs: Counter[str] = Counter()
    hazards: Counter[str] = Counter()
    respondents = naming = 0
    for answer in answers:
        respondents += 1
        named = {c for c in answer.needs if c in categories and categories[c] is not Category.SAFETY}
        naming += bool(named)
        needs.update(named)
        hazards.update({c for c in answer.hazards if categories.get(c) is Category.SAFETY})
    if dangers is not None:
        listed = hazard_rows(dangers, item_list)
    else:
        listed = tuple(
            HazardRow(item.code, hazards[item.code]) for item in item_list if hazards[item.code] > 0
        )
    if not respondents:
        return NeedsList(0, 0, listed, (), ())
    overall = _ranked(dict(needs), categories, respondents)
    by_category = []
    for category in CATEGORY_ORDER:
        if category is Category.SAFETY:
            continue
        counts = {code: n for code, n in needs.items() if categories[code] is category}
        by_category.append((category, _ranked(counts, categories, respondents)))
    return NeedsList(respondents, naming, listed, overall, tuple(by_category))


def top_codes(needs: NeedsList, per_category: int = TOP_PER_CATEGORY) -> list[str]:
    """The top needs: in each category, the items ranked ``per_category`` or higher (ties included)."""
    return [row.code for _category, rows in needs.by_category for row in rows if row.rank <= per_category]


def undecided(needs: NeedsList, decided: Iterable[str]) -> list[str]:
    """Top needs that still have no decision; publishing waits for them."""
    done = set(decided)
    return [code for code in top_codes(needs) if code not in done]


# --- willingness


@dataclass(frozen=True)
class WillingnessTally:
    yes: int
    no: int
    unsure: int
    #: dwellings someone may answer for (the denominator of "share of dwellings")
    dwellings: int

    @property
    def respondents(self) -> int:
        return self.yes + self.no + self.unsure

    def count(self, choice: Willingness) -> int:
        return {Willingness.YES: self.yes, Willingness.NO: self.no, Willingness.UNSURE: self.unsure}[choice]

    def share(self, choice: Willingness) -> Fraction:
        """Share of the dwellings that answered."""
        return Fraction(self.count(choice), self.respondents) if self.respondents else Fraction(0)

    def share_of_dwellings(self, choice: Willingness) -> Fraction:
        """Share of all dwellings, answered or not: silence is never counted as agreement."""
        return Fraction(self.count(choice), self.dwellings) if self.dwellings else Fraction(0)


def tally_willingness(answers: Iterable[AnswerLike], dwellings: int) -> WillingnessTally:
    counts = Counter(Willingness(a.willingness) for a in answers if a.willingness)
    return WillingnessTally(
        counts[Willingness.YES], counts[Willingness.NO], counts[Willingness.UNSURE], dwellings
    )


def percent_text(share: Fraction) -> str:
    """A share as a percentage to one decimal, rounded half up, exactly: 1/3 → "33.3%", 1/2 → "50%"."""
    tenths = (share * 1000 + Fraction(1, 2)).__floor__()
    whole, tenth = divmod(tenths, 10)
    return f"{whole}%" if tenth == 0 else f"{whole}.{tenth}%"


# --- answers


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    kind: QuestionKind
    required: bool
    option_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SurveySpec:
    """What a survey accepts: the codes residents may name and report, and the extra questions."""

    need_codes: frozenset[str]
    hazard_codes: frozenset[str]
    questions: tuple[QuestionSpec, ...] = ()


@dataclass(frozen=True)
class AnswerValues:
    """What a resident sent. ``extra``: question id → option id, list of option ids, or text."""

    willingness: str | None
    needs: tuple[str, ...] = ()
    hazards: tuple[str, ...] = ()
    hazard_note: str = ""
    extra: dict[int, Any] = field(default_factory=dict)


def question_field(question_id: int) -> str:
    """The form field of an extra question."""
    return f"q{question_id}"


def answer_problems(spec: SurveySpec, values: AnswerValues) -> dict[str, Any]:
    """Field name → what is wrong with it, in plain words; empty when the answer may be saved."""
    problems: dict[str, Any] = {}
    if values.willingness not in set(Willingness):
        problems["willingness"] = _l("Say whether you agree to renovating the compound.")
    if not set(values.needs) <= spec.need_codes:
        problems["needs"] = _l("Choose from the list.")
    elif len(set(values.needs)) > MAX_NEEDS:
        problems["needs"] = _l("Choose at most three.")
    if not set(values.hazards) <= spec.hazard_codes:
        problems["hazards"] = _l("Choose from the list.")
    if len(values.hazard_note) > NOTE_MAX:
        problems["hazard_note"] = _l("Write at most %(max)s characters.", max=NOTE_MAX)
    for question in spec.questions:
        name = question_field(question.id)
        value = values.extra.get(question.id)
        if question.kind is QuestionKind.TEXT:
            text = value if isinstance(value, str) else ""
            if len(text) > TEXT_MAX:
                problems[name] = _l("Write at most %(max)s characters.", max=TEXT_MAX)
            elif question.required and not text.strip():
                problems[name] = _l("Answer this question.")
            continue
        chosen = (
            set(value) if isinstance(value, list | tuple | set) else ({value} if value is not None else set())
        )
        if question.kind is QuestionKind.SINGLE and len(chosen) > 1:
            problems[name] = _l("Choose one answer.")
        elif not chosen <= question.option_ids:
            problems[name] = _l("Choose from the list.")
        elif question.required and not chosen:
            problems[name] = _l("Answer this question.")
    return problems


def stored_extra(spec: SurveySpec, values: AnswerValues) -> dict[str, Any]:
    """The extra answers as stored: question id as text → option id, sorted option ids, or text.
    Unanswered questions are left out."""
    stored: dict[str, Any] = {}
    for question in spec.questions:
        value = values.extra.get(question.id)
        if question.kind is QuestionKind.TEXT:
            if isinstance(value, str) and value.strip():
                stored[str(question.id)] = value.strip()
        elif question.kind is QuestionKind.SINGLE:
            if value is not None and not isinstance(value, list | tuple | set):
                stored[str(question.id)] = int(value)
        elif value:
            stored[str(question.id)] = sorted({int(v) for v in value})
    return stored


def split_options(text: str) -> list[str]:
    """Options typed one per line: blank lines dropped, spaces trimmed."""
    return [line.strip() for line in text.splitlines() if line.strip()]
