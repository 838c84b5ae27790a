"""Consent rules and the tally of a vote: pure functions over exact numbers (Fraction, Decimal), never floats.

A consent rule has a participation bar and an approval bar, each on floor area and on headcount
(DESIGN.md, "Vote rules"). "以上" includes the bound (≥); "过半数" is strictly more than half (>).
Voters are the owners who cast a ballot (abstaining included); a non-voter never counts as agreeing.
A dwelling whose owner is not known (the roster left it without one) counts as one owner who did not vote,
with its floor area, in the owners and the area of every scope it is in (民法典 278 counts the 专有部分
and the 业主 of the whole): it can never vote nor approve, so it can only make a bar harder to meet.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from decimal import Decimal
from fractions import Fraction


class Choice(enum.StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class Base(enum.StrEnum):
    """What an approval bar is measured against."""

    VOTERS = "voters"  # the owners who voted (民法典 278: 参与表决)
    ALL = "all"  # every owner in scope (entering the programme)


@dataclass(frozen=True)
class Threshold:
    """A bar: at least ``fraction`` of the whole (以上), or strictly more (过半数) when ``strict``."""

    fraction: Fraction
    strict: bool = False

    def met(self, part: Fraction, whole: Fraction) -> bool:
        if whole == 0:
            return False
        bound = self.fraction * whole
        return part > bound if self.strict else part >= bound

    def describe(self) -> str:
        return f"{'>' if self.strict else '≥'} {self.fraction}"


@dataclass(frozen=True)
class ConsentRule:
    """Participation and approval bars, each on area and on headcount; None where a bar does not apply."""

    key: str
    participation_area: Threshold | None
    participation_count: Threshold | None
    approval_area: Threshold | None
    approval_count: Threshold | None
    approval_base: Base = Base.VOTERS


TWO_THIRDS = Threshold(Fraction(2, 3))
THREE_QUARTERS = Threshold(Fraction(3, 4))
OVER_HALF = Threshold(Fraction(1, 2), strict=True)

PRESETS: dict[str, ConsentRule] = {
    # 民法典 278, items 6–8: works on common parts, raising the maintenance fund, lifts
    "civil_code_major": ConsentRule(
        "civil_code_major", TWO_THIRDS, TWO_THIRDS, THREE_QUARTERS, THREE_QUARTERS
    ),
    # 民法典 278, the other items: property management mode, the pact, using the fund
    "civil_code_ordinary": ConsentRule("civil_code_ordinary", TWO_THIRDS, TWO_THIRDS, OVER_HALF, OVER_HALF),
    # entering the renovation programme: two thirds of all owners agree
    "programme_admission": ConsentRule("programme_admission", None, None, None, TWO_THIRDS, Base.ALL),
}


@dataclass(frozen=True)
class BarResult:
    """One bar as computed: ``part`` of ``whole`` against the threshold."""

    name: str  # participation_area, participation_count, approval_area, approval_count
    threshold: Threshold
    part: Fraction
    whole: Fraction
    met: bool

    @property
    def value(self) -> Fraction | None:
        return self.part / self.whole if self.whole else None


@dataclass(frozen=True)
class Tally:
    """Every figure of a vote's result, and whether it passed."""

    rule: str
    owners: int
    area: Decimal
    voters: int
    voters_area: Decimal
    approving: int
    approving_area: Decimal
    against: int
    abstaining: int
    bars: tuple[BarResult, ...] = field(default_factory=tuple)
    #: of ``owners``, the dwellings whose owner is not known (each counts as an owner who did not vote)
    unknown: int = 0

    @property
    def passed(self) -> bool:
        return all(bar.met for bar in self.bars)

    @property
    def failed_bars(self) -> list[str]:
        return [bar.name for bar in self.bars if not bar.met]


def unknown_owner(dwelling_id: int) -> int:
    """The key under which a dwelling without a known owner counts: an owner of its own, negative so that
    no ballot (keyed by an owner's id) can ever carry it."""
    return -dwelling_id


def is_unknown(owner: int) -> bool:
    """Whether an owner key stands for a dwelling whose owner is not known (``unknown_owner``)."""
    return owner < 0


def owner_areas(dwellings: Iterable[tuple[int, int | None, Decimal]]) -> dict[int, Decimal]:
    """Owners in scope with the summed area of their dwellings in scope, from (dwelling id, owner id,
    area): one owner counts once, whatever the number of dwellings; a dwelling without a known owner
    (owner id None) counts as one owner of its own (``unknown_owner``), who never votes."""
    areas: dict[int, Decimal] = {}
    for dwelling_id, owner_id, area in dwellings:
        key = unknown_owner(dwelling_id) if owner_id is None else owner_id
        areas[key] = areas.get(key, Decimal(0)) + area
    return areas


def tally(rule: ConsentRule, areas: Mapping[int, Decimal], ballots: Mapping[int, Choice]) -> Tally:
    """The result of one question: ``areas`` are the owners in scope (``owner_areas``: dwellings without
    a known owner included, as owners who did not vote), ``ballots`` each owner's counted choice
    (ballots of owners outside the scope, or under an unknown owner's key, are ignored)."""
    counted = {owner: choice for owner, choice in ballots.items() if owner in areas and not is_unknown(owner)}
    total_area = sum(areas.values(), Decimal(0))
    voters_area = sum((areas[o] for o in counted), Decimal(0))
    yes = [o for o, c in counted.items() if c is Choice.YES]
    yes_area = sum((areas[o] for o in yes), Decimal(0))
    base_count, base_area = (
        (len(counted), voters_area) if rule.approval_base is Base.VOTERS else (len(areas), total_area)
    )
    bars = []
    for name, threshold, part, whole in (
        ("participation_area", rule.participation_area, voters_area, total_area),
        ("participation_count", rule.participation_count, len(counted), len(areas)),
        ("approval_area", rule.approval_area, yes_area, base_area),
        ("approval_count", rule.approval_count, len(yes), base_count),
    ):
        if threshold is not None:
            p, w = Fraction(part), Fraction(whole)
            bars.append(BarResult(name, threshold, p, w, threshold.met(p, w)))
    return Tally(
        rule=rule.key,
        owners=len(areas),
        area=total_area,
        voters=len(counted),
        voters_area=voters_area,
        approving=len(yes),
        approving_area=yes_area,
        against=sum(1 for c in counted.values() if c is Choice.NO),
        abstaining=sum(1 for c in counted.values() if c is Choice.ABSTAIN),
        bars=tuple(bars),
        unknown=sum(1 for o in areas if is_unknown(o)),
    )


def laxer_bars(rule: ConsentRule, minimum: ConsentRule) -> list[str]:
    """The bars of ``rule`` lower than ``minimum``'s (missing, a smaller fraction, "≥" where it says
    ">", or approval measured against the voters where it is against every owner): where a compound's
    own rule lets pass what the law's would not."""
    laxer = []
    for name in ("participation_area", "participation_count", "approval_area", "approval_count"):
        bar, least = getattr(rule, name), getattr(minimum, name)
        if least is None:
            continue
        if (
            bar is None
            or bar.fraction < least.fraction
            or (bar.fraction == least.fraction and least.strict and not bar.strict)
            or (
                name.startswith("approval")
                and minimum.approval_base is Base.ALL
                and rule.approval_base is Base.VOTERS
            )
        ):
            laxer.append(name)
    return laxer


#: the fewest voters on a question whose answers the public result shows: with one or two, the count or
#: the floor area of each answer tells how a known neighbour voted (a lift in a unit of two owners)
MIN_PUBLIC_VOTERS = 3


def answers_public(voters: int) -> bool:
    """Whether a public result may show how the voters of a question answered (by count and by area), or
    only its outcome and turnout."""
    return voters >= MIN_PUBLIC_VOTERS
