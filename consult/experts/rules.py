"""Expert scoring, pure: the default rubric, aggregation per criterion (mean or trimmed mean), the
spread and disagreement flag, weighted totals and the ranking with ties. Exact arithmetic throughout."""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from consult.rounds.rules import RoundState

#: round states in which the round's answers ("down") are published: the panel's word is out
ANSWERS_PUBLISHED = (RoundState.NOTICE, RoundState.DONE)
#: round states in which a reopened round takes its revised scheme: open for comments, or closed while
#: the revision and the answers are written (before they are published again)
TAKING_REVISION = (RoundState.OPEN, RoundState.CLOSED)

#: the trimmed mean drops the highest and lowest score only when at least this many experts scored
TRIM_MINIMUM = 5
#: standard deviation above which a criterion is flagged, on a 10-point scale
DEFAULT_THRESHOLD = Fraction(3, 2)


class Aggregation(enum.StrEnum):
    MEAN = "mean"
    TRIMMED_MEAN = "trimmed_mean"


class Verdict(enum.StrEnum):
    RECOMMEND = "recommend"
    RECOMMEND_WITH_CHANGES = "with_changes"
    DO_NOT_RECOMMEND = "not_recommend"


@dataclass(frozen=True)
class CriterionSpec:
    key: str
    name_zh: str
    name_en: str
    weight: int
    scale: int = 10


DEFAULT_RUBRIC: tuple[CriterionSpec, ...] = (
    CriterionSpec("safety", "安全", "Safety", 25),
    CriterionSpec("function", "功能", "Function", 20),
    CriterionSpec("cost", "造价", "Cost", 20),
    CriterionSpec("feasibility", "可实施性", "Feasibility", 15),
    CriterionSpec("appearance", "外观", "Appearance", 10),
    CriterionSpec("maintenance", "长效维护", "Long-term maintenance", 10),
)


class RubricInvalid(ValueError):
    pass


def check_rubric(specs: Iterable[CriterionSpec]) -> None:
    """Weights are positive and sum to 100; scales are positive; keys are distinct."""
    specs = list(specs)
    if not specs:
        raise RubricInvalid("A rubric needs at least one criterion.")
    if len({s.key for s in specs}) != len(specs):
        raise RubricInvalid("Criteria must be distinct.")
    if any(s.weight <= 0 or s.scale <= 0 for s in specs):
        raise RubricInvalid("Weights and scales must be positive.")
    if sum(s.weight for s in specs) != 100:
        raise RubricInvalid("Weights must sum to 100.")


def with_new_criterion(
    specs: Sequence[CriterionSpec], name_zh: str, name_en: str, weight: int, scale: int = 10
) -> list[CriterionSpec]:
    """The rubric with one more criterion, under the first free key ``criterion1``, ``criterion2``…
    (its English name is the Chinese one when none is given)."""
    taken = {spec.key for spec in specs}
    key = next(f"criterion{n}" for n in range(1, len(taken) + 2) if f"criterion{n}" not in taken)
    return [*specs, CriterionSpec(key, name_zh, name_en or name_zh, weight, scale)]


def value_in_scale(value: int, scale: int) -> bool:
    return 0 <= value <= scale


@dataclass(frozen=True)
class ScoreFact:
    expert: int
    scheme: int
    criterion: str
    value: int


def centre(values: list[int], method: Aggregation) -> tuple[Fraction, Aggregation]:
    """The aggregate of one criterion's scores and the method actually used: a trimmed mean falls back
    to the plain mean below TRIM_MINIMUM scores."""
    if not values:
        raise ValueError("no scores")
    if method is Aggregation.TRIMMED_MEAN and len(values) >= TRIM_MINIMUM:
        kept = sorted(values)[1:-1]
        return Fraction(sum(kept), len(kept)), Aggregation.TRIMMED_MEAN
    return Fraction(sum(values), len(values)), Aggregation.MEAN


def method_used(methods: Iterable[str]) -> str | None:
    """What the figures' own methods say was used, for the record to state: "mean", "trimmed_mean", or
    "mixed" (trimmed where enough experts scored a criterion, the mean elsewhere); None without figures."""
    used = {Aggregation(m) for m in methods}
    if not used:
        return None
    return used.pop().value if len(used) == 1 else "mixed"


def variance(values: list[int]) -> Fraction:
    """Population variance, exact."""
    n = len(values)
    mean = Fraction(sum(values), n)
    return sum(((v - mean) ** 2 for v in values), Fraction(0)) / n


def disagrees(var: Fraction, threshold: Fraction, scale: int = 10) -> bool:
    """Standard deviation above the threshold (given on a 10-point scale, rescaled), compared on the
    variance so no square root is taken."""
    limit = threshold * Fraction(scale, 10)
    return var > limit * limit


@dataclass(frozen=True)
class CriterionFigure:
    criterion: str
    count: int
    value: Fraction
    method: Aggregation
    variance: Fraction
    disagreement: bool


@dataclass(frozen=True)
class SchemeResult:
    scheme: int
    figures: dict[str, CriterionFigure]
    #: weighted total on a 0–100 scale, None until every criterion has a score
    total: Fraction | None

    @property
    def disagreement(self) -> bool:
        return any(f.disagreement for f in self.figures.values())


def aggregate(
    scores: Iterable[ScoreFact],
    rubric: Iterable[CriterionSpec],
    schemes: Iterable[int],
    method: Aggregation,
    conflicts: Iterable[tuple[int, int]] = (),
    threshold: Fraction = DEFAULT_THRESHOLD,
) -> dict[int, SchemeResult]:
    """Per scheme: per-criterion figures and the weighted total (Σ weight × value / scale). Scores by an
    expert who declared a conflict with that scheme are left out."""
    rubric = list(rubric)
    excluded = set(conflicts)
    by: dict[tuple[int, str], list[int]] = defaultdict(list)
    for s in scores:
        if (s.expert, s.scheme) not in excluded:
            by[s.scheme, s.criterion].append(s.value)
    results: dict[int, SchemeResult] = {}
    for scheme in schemes:
        figures: dict[str, CriterionFigure] = {}
        for spec in rubric:
            values = by.get((scheme, spec.key))
            if not values:
                continue
            value, used = centre(values, method)
            var = variance(values)
            figures[spec.key] = CriterionFigure(
                spec.key, len(values), value, used, var, disagrees(var, threshold, spec.scale)
            )
        total = None
        if rubric and len(figures) == len(rubric):
            total = sum((spec.weight * figures[spec.key].value / spec.scale for spec in rubric), Fraction(0))
        results[scheme] = SchemeResult(scheme, figures, total)
    return results


@dataclass(frozen=True)
class Place:
    rank: int
    schemes: tuple[int, ...]

    @property
    def tied(self) -> bool:
        return len(self.schemes) > 1


def ranking(totals: Mapping[int, Fraction | None]) -> list[Place]:
    """Highest total first; equal totals share a place and the next place skips (1, 1, 3). Schemes
    without a total are not ranked."""
    groups: dict[Fraction, list[int]] = defaultdict(list)
    for scheme, total in totals.items():
        if total is not None:
            groups[total].append(scheme)
    places: list[Place] = []
    rank = 1
    for total in sorted(groups, reverse=True):
        members = tuple(sorted(groups[total]))
        places.append(Place(rank, members))
        rank += len(members)
    return places


def expert_totals(
    scores: Iterable[ScoreFact],
    rubric: Iterable[CriterionSpec],
    conflicts: Iterable[tuple[int, int]] = (),
) -> dict[int, dict[int, Fraction]]:
    """Each expert's own weighted total per scheme (scheme → expert → Σ weight × value / scale), for the
    spread chart. Only experts who scored every criterion of a scheme, without a declared conflict."""
    rubric = list(rubric)
    specs = {spec.key: spec for spec in rubric}
    excluded = set(conflicts)
    given: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for s in scores:
        if (s.expert, s.scheme) not in excluded and s.criterion in specs:
            given[s.scheme, s.expert][s.criterion] = s.value
    totals: dict[int, dict[int, Fraction]] = defaultdict(dict)
    for (scheme, expert), values in sorted(given.items()):
        if rubric and len(values) == len(rubric):
            totals[scheme][expert] = sum(
                (Fraction(spec.weight * values[spec.key], spec.scale) for spec in rubric), Fraction(0)
            )
    return dict(totals)


def may_reopen(
    panel_closed_at: datetime | None, round_state: RoundState, round_reopened_at: datetime | None
) -> bool:
    """A closed panel opens again only when the district review has reopened its round since the panel
    closed, and only until the round publishes its answers again: the experts then score the schemes as
    they are now (a revised version included)."""
    return (
        panel_closed_at is not None
        and round_reopened_at is not None
        and round_reopened_at > panel_closed_at
        and round_state in TAKING_REVISION
    )


def may_write_opinion(round_state: RoundState) -> bool:
    """The chair writes or changes the panel's opinion, before or after the panel closes, until the
    round's answers are published (the opinion is part of what comes down to residents)."""
    return round_state not in ANSWERS_PUBLISHED
