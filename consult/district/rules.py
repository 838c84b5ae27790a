"""Pure rules of the district review: a compound's stage, its order, plan targets, being stuck, CSV cells.

No Flask and no database here: the services gather plain values and these functions decide.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from fractions import Fraction
from typing import Any
from typing import Protocol

from flask_babel import lazy_gettext as _l

from consult.rounds.rules import RoundState

#: compounds the district plans to renovate each year (shared/data/qingyang.md, "Plan by year")
PLAN_TARGETS: dict[int, int] = {2022: 162, 2023: 186, 2024: 221}

#: days in one stage after which a compound is listed as stuck (config STUCK_AFTER_DAYS)
DEFAULT_STUCK_AFTER_DAYS = 30

#: the stage keys before any round has begun, and after the last one
NO_ROSTER = "no_roster"
ROSTER_PARTIAL = "roster_partial"
READY = "ready"
CONSENSUS = "consensus"

#: the states a round passes through, in the order of progress; a failed round comes before the
#: repeat that opens again
ROUND_PHASES: tuple[RoundState, ...] = (
    RoundState.FAILED,
    RoundState.OPEN,
    RoundState.CLOSED,
    RoundState.NOTICE,
    RoundState.DONE,
)
#: the rounds every compound runs by default (三上三下)
ROUND_NUMBERS: tuple[int, ...] = (1, 2, 3)


class RosterCount(Protocol):
    """What the stage needs of a roster: ``consult.compounds.rules.Coverage`` is one."""

    @property
    def dwellings(self) -> int: ...

    @property
    def owned(self) -> int: ...


@dataclass(frozen=True)
class RoundView:
    """What the stage needs to know about one round attempt, and when it entered its present state
    (its latest event into that state; None when the history holds none)."""

    number: int
    attempt: int
    state: RoundState
    entered: datetime | None = None


@dataclass(frozen=True, order=True)
class Stage:
    """Where a compound stands. Stages sort in the order of progress (``rank``), whatever the language.

    ``key`` is stable text for URLs, CSV and the API: ``no_roster``, ``roster_partial``, ``ready``,
    ``round<N>_<state>`` (state: failed, open, closed, notice, done) and ``consensus``."""

    rank: int
    key: str
    number: int | None = None
    state: RoundState | None = None

    @property
    def label(self) -> Any:
        return stage_label(self)

    @property
    def is_final(self) -> bool:
        return self.key == CONSENSUS

    @property
    def under_way(self) -> bool:
        """A round has begun (the consultation is running or finished)."""
        return self.number is not None or self.key == CONSENSUS


def _fixed(rank: int, key: str) -> Stage:
    return Stage(rank, key)


STAGE_NO_ROSTER = _fixed(0, NO_ROSTER)
STAGE_ROSTER_PARTIAL = _fixed(1, ROSTER_PARTIAL)
STAGE_READY = _fixed(2, READY)
STAGE_CONSENSUS = _fixed(10_000, CONSENSUS)


def round_stage(number: int, state: RoundState) -> Stage:
    if state not in ROUND_PHASES:
        raise ValueError(f"a compound is not in a stage of a round in state {state}")
    return Stage(10 + number * 10 + ROUND_PHASES.index(state), f"round{number}_{state.value}", number, state)


def all_stages(numbers: Iterable[int] = ROUND_NUMBERS) -> list[Stage]:
    """Every stage a compound with these round numbers can be in, in order."""
    stages = [STAGE_NO_ROSTER, STAGE_ROSTER_PARTIAL, STAGE_READY]
    stages += [round_stage(n, state) for n in sorted(set(numbers)) for state in ROUND_PHASES]
    return [*stages, STAGE_CONSENSUS]


def parse_stage(key: str | None) -> Stage | None:
    """The stage named by ``key`` (from a URL), or None when it names none."""
    if not key:
        return None
    for stage in (STAGE_NO_ROSTER, STAGE_ROSTER_PARTIAL, STAGE_READY, STAGE_CONSENSUS):
        if stage.key == key:
            return stage
    prefix, __, state = key.partition("_")
    number = prefix.removeprefix("round")
    if not prefix.startswith("round") or not number.isdigit() or not 0 < int(number) < 100:
        return None
    try:
        return round_stage(int(number), RoundState(state))
    except ValueError:
        return None


def latest_attempts(rounds: Iterable[RoundView]) -> list[RoundView]:
    """The current attempt of each round number, by number (as the engine's ``latest_attempts``)."""
    latest: dict[int, RoundView] = {}
    for round_ in sorted(rounds, key=lambda r: (r.number, r.attempt)):
        latest[round_.number] = round_
    return [latest[n] for n in sorted(latest)]


def stage_of(coverage: RosterCount, rounds: Sequence[RoundView]) -> Stage:
    """The compound's stage from its roster coverage and its rounds (every attempt, in any order).

    Before any round has begun, the roster decides: no roster, roster incomplete, or ready. Once one
    has begun, the rounds decide (a roster is often still incomplete while they run): the first current
    attempt that is not done gives "round N open / closed / on notice / failed"; when the next round is
    still a draft, the compound is "round N done"; a failed round stays "round N failed" until its
    repeat opens. When every round is done, the compound has reached consensus.
    """
    return _placed(coverage, rounds)[0]


def stage_and_since(
    coverage: RosterCount, rounds: Sequence[RoundView], created_at: datetime
) -> tuple[Stage, datetime]:
    """The compound's stage (``stage_of``) and when it entered it, from one walk of the rounds: when the
    round attempt that defines the stage entered the state that names it.

    "Round N open / closed / on notice / failed": when that attempt entered that state; "round N failed"
    while its repeat is still a draft: when the failed attempt failed; "round N done" while the next
    round is still a draft: when round N became done; consensus: when the last round became done. A
    draft (planned, scheduled, rescheduled) never moves it. Before any round has begun, and when the
    history holds no entry into that state, it is the compound's creation.
    """
    stage, defining = _placed(coverage, rounds)
    return stage, entered_at(defining.entered if defining is not None else None, created_at)


def _placed(coverage: RosterCount, rounds: Sequence[RoundView]) -> tuple[Stage, RoundView | None]:
    """The compound's stage and the round attempt whose state names it (None before any round has
    begun): for "round N failed" awaiting its repeat, the failed attempt; for consensus, the last round."""
    attempts = latest_attempts(rounds)
    begun = any(r.state is not RoundState.DRAFT or r.attempt > 1 for r in attempts)
    if not begun:
        if coverage.dwellings == 0:
            return STAGE_NO_ROSTER, None
        if coverage.owned < coverage.dwellings:
            return STAGE_ROSTER_PARTIAL, None
        return STAGE_READY, None
    previous: RoundView | None = None
    for round_ in attempts:
        if round_.state is RoundState.DONE:
            previous = round_
            continue
        if round_.state is RoundState.DRAFT:
            if round_.attempt > 1:  # the repeat of a failed attempt, not opened yet
                return round_stage(round_.number, RoundState.FAILED), repeated_attempt(rounds, round_)
            if previous is not None:
                return round_stage(previous.number, RoundState.DONE), previous
            return STAGE_READY, None  # an earlier attempt would have made it "begun"; kept for safety
        return round_stage(round_.number, round_.state), round_
    return STAGE_CONSENSUS, previous


def repeated_attempt(rounds: Iterable[RoundView], repeat: RoundView) -> RoundView | None:
    """The failed attempt that ``repeat`` holds again: the latest earlier attempt of its number."""
    earlier = [r for r in rounds if r.number == repeat.number and r.attempt < repeat.attempt]
    return max(earlier, key=lambda r: r.attempt, default=None)


def stage_label(stage: Stage) -> Any:
    """The stage in words (lazy: rendered in the reader's language)."""
    if stage.key == NO_ROSTER:
        return _l("No roster yet")
    if stage.key == ROSTER_PARTIAL:
        return _l("Roster incomplete")
    if stage.key == READY:
        return _l("Ready for round 1")
    if stage.key == CONSENSUS:
        return _l("Consensus reached")
    number = stage.number
    if stage.state is RoundState.OPEN:
        return _l("Round %(number)s open", number=number)
    if stage.state is RoundState.CLOSED:
        return _l("Round %(number)s closed", number=number)
    if stage.state is RoundState.NOTICE:
        return _l("Round %(number)s on notice", number=number)
    if stage.state is RoundState.DONE:
        return _l("Round %(number)s done", number=number)
    return _l("Round %(number)s failed", number=number)


class NextStep(enum.StrEnum):
    """What the compound's organisers do next (the compound's page says it in words, with a link)."""

    IMPORT_ROSTER = "import_roster"
    COMPLETE_ROSTER = "complete_roster"  # or go on: a dwelling without a known owner counts as not voting
    OPEN_FIRST = "open_first"
    FOLLOW_ROUND = "follow_round"  # a round takes answers: who has, and the doors still to visit
    ANSWER_ROUND = "answer_round"  # a round has closed: its answer is prepared and published
    ON_NOTICE = "on_notice"  # its answer is on public notice; the next round is prepared
    PREPARE_NEXT = "prepare_next"
    REPEAT_ROUND = "repeat_round"
    SUBMIT_RECORD = "submit_record"
    RECORD_BLOCKED = "record_blocked"  # the vote is out but no record can be submitted: the reason says why
    AWAIT_REVIEW = "await_review"
    COMPLETE = "complete"


def record_decides(stage: Stage, last_number: int) -> bool:
    """Whether the consensus record decides the next step: once the last round's answer (the vote's
    result) is out, on notice or done."""
    return stage.key == CONSENSUS or (stage.number == last_number and stage.state is RoundState.NOTICE)


def next_step(stage: Stage, last_number: int, record: str | None, may_submit: bool) -> NextStep:
    """The next step from the compound's stage. Once the last round's answer (the vote's result) is out,
    the consensus record decides: ``record`` is the status of its latest version (None: none yet) and
    ``may_submit`` whether a new version may be submitted now."""
    if stage.key == NO_ROSTER:
        return NextStep.IMPORT_ROSTER
    if stage.key == ROSTER_PARTIAL:
        return NextStep.COMPLETE_ROSTER
    if stage.key == READY:
        return NextStep.OPEN_FIRST
    if record_decides(stage, last_number):
        if record == "approved":
            return NextStep.COMPLETE
        if record == "submitted":
            return NextStep.AWAIT_REVIEW
        return NextStep.SUBMIT_RECORD if may_submit else NextStep.RECORD_BLOCKED
    return {
        RoundState.OPEN: NextStep.FOLLOW_ROUND,
        RoundState.CLOSED: NextStep.ANSWER_ROUND,
        RoundState.NOTICE: NextStep.ON_NOTICE,
        RoundState.DONE: NextStep.PREPARE_NEXT,
        RoundState.FAILED: NextStep.REPEAT_ROUND,
    }[stage.state]  # type: ignore[index]


def as_utc(value: datetime) -> datetime:
    """Dates read back from the database are naive UTC; make them aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def entered_at(entered: datetime | None, created_at: datetime) -> datetime:
    """When the compound entered its stage: the moment given (a round's entry into its state), else
    the compound's creation; in UTC."""
    return as_utc(entered if entered is not None else created_at)


def days_in_stage(since: datetime, now: datetime) -> int:
    return max(0, (as_utc(now) - as_utc(since)) // timedelta(days=1))


def is_stuck(stage: Stage, since: datetime, now: datetime, after_days: int) -> bool:
    """In the same stage for longer than ``after_days`` days (a compound with consensus is never stuck)."""
    return not stage.is_final and as_utc(now) - as_utc(since) > timedelta(days=after_days)


@dataclass(frozen=True)
class PlanProgress:
    """One plan year: compounds planned, registered, under way and with consensus."""

    year: int
    target: int
    registered: int
    under_way: int
    consensus: int

    @property
    def scale(self) -> int:
        """The longest of the bars (a year may hold more compounds than planned)."""
        return max(self.target, self.registered, 1)

    def permille(self, count: int) -> int:
        """``count`` as a share of the year's scale, in thousandths (for drawing, rounded down)."""
        return count * 1000 // self.scale

    @property
    def percent_done(self) -> int:
        """Consensus reached, as a whole percent of the target (rounded down)."""
        return self.consensus * 100 // self.target if self.target else 0


def plan_progress(
    plan_years: Iterable[tuple[int | None, Stage]], targets: dict[int, int] = PLAN_TARGETS
) -> list[PlanProgress]:
    """Progress against each plan year's target, from (plan year, stage) of every compound."""
    counts = {year: [0, 0, 0] for year in targets}
    for year, stage in plan_years:
        if year not in counts:
            continue
        row = counts[year]
        row[0] += 1
        row[1] += stage.under_way and not stage.is_final
        row[2] += stage.is_final
    return [PlanProgress(year, targets[year], *counts[year]) for year in sorted(targets)]


def mean_share(parts: Iterable[tuple[int, int]]) -> Fraction | None:
    """The mean of answered/eligible over rounds with anyone eligible (each round weighs the same);
    None when there is none."""
    shares = [Fraction(answered, eligible) for answered, eligible in parts if eligible]
    if not shares:
        return None
    return sum(shares, Fraction(0)) / len(shares)


def whole_percent(share: Fraction | None) -> int | None:
    return None if share is None else math.floor(share * 100)


#: characters that make a spreadsheet read a cell as a formula (or hide one)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """A cell for a CSV that Excel opens: never read as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text
