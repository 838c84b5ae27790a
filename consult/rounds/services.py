"""Use-cases of the round engine: planning rounds, moving them through their states, participation.

What a round's content is (a survey, schemes and comments, a ballot) belongs to other areas. They plug
into the engine through :func:`register`: which dwellings have answered, which may answer when that is
not every dwelling with an owner or an occupant (the vote: owners only, in the scope of its questions),
and what still blocks publishing the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consult.audit.services import record
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.notices import notify_residents
from consult.rounds.rules import DEFAULT_ROUNDS
from consult.rounds.rules import OVERTAKEN
from consult.rounds.rules import Action
from consult.rounds.rules import RoundFacts
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.rules import is_open_for_input
from consult.rounds.rules import next_state
from consult.rounds.rules import overtaken

#: dwelling ids whose household has answered the round
AnsweredDwellings = Callable[[Round], set[int]]
#: None when the round's answer may be published, else the reason it may not (shown to the worker)
AnswerBlocker = Callable[[Round], Any]
#: dwellings whose household may answer the round: dwelling id → stairwell unit id
EligibleDwellings = Callable[[Round], dict[int, int]]


@dataclass
class RoundContent:
    answered: AnsweredDwellings | None = None
    answer_blocker: AnswerBlocker | None = None
    #: None: every dwelling with a known owner or an occupant (``eligible_dwellings``)
    eligible: EligibleDwellings | None = None


CONTENT: dict[RoundKind, RoundContent] = {kind: RoundContent() for kind in RoundKind}


def register(
    kind: RoundKind,
    *,
    answered: AnsweredDwellings | None = None,
    answer_blocker: AnswerBlocker | None = None,
    eligible: EligibleDwellings | None = None,
) -> None:
    """Called by the area that owns a kind of round's content."""
    if answered is not None:
        CONTENT[kind].answered = answered
    if answer_blocker is not None:
        CONTENT[kind].answer_blocker = answer_blocker
    if eligible is not None:
        CONTENT[kind].eligible = eligible


def rounds_of(compound: Compound) -> list[Round]:
    """Every round of the compound, failed attempts included, in order."""
    return compound_rounds(compound.id)


def compound_rounds(compound_id: int) -> list[Round]:
    """Every round of the compound with this id, failed attempts included, in order (number, attempt).
    A page that asks several areas about the same compound loads them once and passes them on."""
    return list(
        db.session.scalars(
            select(Round).where(Round.compound_id == compound_id).order_by(Round.number, Round.attempt)
        )
    )


def latest_attempts(compound: Compound, rounds: Sequence[Round] | None = None) -> list[Round]:
    """The current attempt of each round number (of ``rounds``, the compound's rounds in order, when they
    are at hand)."""
    latest: dict[int, Round] = {}
    for round_ in rounds_of(compound) if rounds is None else rounds:
        latest[round_.number] = round_
    return [latest[n] for n in sorted(latest)]


def latest_published(
    compound_id: int, kind: RoundKind, rounds: Sequence[Round] | None = None
) -> Round | None:
    """The latest round of ``kind`` whose answer is published (on notice or done): the needs list of
    round 1, the revised scheme a vote is on. Of ``rounds``, the compound's rounds in order, when at hand."""
    if rounds is None:
        rounds = compound_rounds(compound_id)
    published = [r for r in rounds if r.kind is kind and r.state in (RoundState.NOTICE, RoundState.DONE)]
    return published[-1] if published else None


def current_round(compound: Compound, attempts: Sequence[Round] | None = None) -> Round | None:
    """The round the compound is in: the first current attempt that is not done (of ``attempts``, from
    ``latest_attempts``, when they are at hand)."""
    if attempts is None:
        attempts = latest_attempts(compound)
    for round_ in attempts:
        if round_.state is not RoundState.DONE:
            return round_
    return attempts[-1] if attempts else None


def open_rounds(compound_id: int, now: datetime) -> list[Round]:
    """Rounds residents of the compound may answer now."""
    candidates = db.session.scalars(
        select(Round)
        .where(Round.compound_id == compound_id, Round.state == RoundState.OPEN)
        .order_by(Round.number)
    ).all()
    return [r for r in candidates if is_open_for_input(r.state, r.opens_at, r.closes_at, now)]


def plan_default_rounds(compound: Compound, start: datetime, actor: str) -> list[Round]:
    """The three default rounds of DESIGN.md, one after the other from ``start`` (drafts, editable)."""
    if rounds_of(compound):
        raise TransitionRefused(_l("The compound already has rounds."))
    rounds = []
    opens = start
    for number, kind, days_open, notice_days in DEFAULT_ROUNDS:
        closes = opens + timedelta(days=days_open)
        rounds.append(
            Round(
                compound_id=compound.id,
                number=number,
                kind=kind,
                opens_at=opens,
                closes_at=closes,
                notice_days=notice_days,
            )
        )
        opens = closes + timedelta(days=notice_days + 7)  # a week to prepare the answer
    db.session.add_all(rounds)
    db.session.flush()
    for round_ in rounds:
        _event(round_, actor, "plan", None, RoundState.DRAFT, "")
    record(actor, "rounds.planned", compound.id, rounds=len(rounds))
    return rounds


def set_schedule(
    round_: Round, opens_at: datetime, closes_at: datetime, notice_days: int, actor: str, now: datetime
) -> None:
    """Dates and notice days of a round still in draft. An open round may only be given more time, and
    only while it runs: once its closing time has passed its input has closed, and taking answers again
    is a reopening (``reopen``, with its reason in the history), not a change of dates."""
    if closes_at <= opens_at:
        raise TransitionRefused(_l("The round must close after it opens."))
    if notice_days < 0:
        raise TransitionRefused(_l("Notice days cannot be negative."))
    if round_.state is RoundState.OPEN:
        if round_.closes_at is not None and closes_at < round_.closes_at:
            raise TransitionRefused(_l("An open round may be extended, never shortened."))
        if round_.closes_at is not None and now >= round_.closes_at:
            raise TransitionRefused(_l("The round closed at its time: it can no longer be extended."))
        round_.closes_at = closes_at
    elif round_.state is RoundState.DRAFT:
        round_.opens_at, round_.closes_at, round_.notice_days = opens_at, closes_at, notice_days
    else:
        raise TransitionRefused(_l("The dates of this round can no longer change."))
    db.session.flush()
    record(
        actor,
        "round.scheduled",
        round_.compound_id,
        round=round_.id,
        opens=round_.opens_at,
        closes=round_.closes_at,
        notice_days=round_.notice_days,
    )


def eligible_dwellings(compound_id: int) -> dict[int, int]:
    """Dwellings someone can answer for (an owner or an occupant is known): dwelling id → unit id."""
    rows = db.session.execute(
        select(Dwelling.id, Dwelling.unit_id, Dwelling.owner_id)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound_id)
    ).all()
    with_occupants = set(
        db.session.scalars(select(Occupant.dwelling_id).where(Occupant.dwelling_id.in_([r.id for r in rows])))
    )
    return {r.id: r.unit_id for r in rows if r.owner_id is not None or r.id in with_occupants}


def round_eligible(round_: Round) -> dict[int, int]:
    """Dwellings whose household may answer this round (dwelling id → unit id): the content's own rule
    (the vote: owners only), else every dwelling with a known owner or an occupant."""
    content = CONTENT[round_.kind]
    return content.eligible(round_) if content.eligible else eligible_dwellings(round_.compound_id)


def answered_dwellings(round_: Round) -> set[int]:
    content = CONTENT[round_.kind]
    return content.answered(round_) if content.answered else set()


@dataclass
class Participation:
    """Who has answered a round, in all and per stairwell unit."""

    answered: int
    eligible: int
    #: unit id → (answered, eligible)
    by_unit: dict[int, tuple[int, int]] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)

    @property
    def percent(self) -> int:
        return self.answered * 100 // self.eligible if self.eligible else 0


def participation(round_: Round) -> Participation:
    eligible = round_eligible(round_)
    answered = answered_dwellings(round_) & eligible.keys()
    by_unit: dict[int, tuple[int, int]] = {}
    for dwelling_id, unit_id in eligible.items():
        done, total = by_unit.get(unit_id, (0, 0))
        by_unit[unit_id] = (done + (dwelling_id in answered), total + 1)
    return Participation(len(answered), len(eligible), by_unit, set(eligible) - answered)


def previous_attempt(round_: Round) -> Round | None:
    return db.session.scalars(
        select(Round)
        .where(Round.compound_id == round_.compound_id, Round.number == round_.number - 1)
        .order_by(Round.attempt.desc())
        .limit(1)
    ).first()


def facts_of(round_: Round) -> RoundFacts:
    previous = previous_attempt(round_)
    blocker_fn = CONTENT[round_.kind].answer_blocker
    blocker = blocker_fn(round_) if blocker_fn and round_.state is RoundState.CLOSED else None
    all_answered = False
    if round_.state is RoundState.OPEN:
        part = participation(round_)
        all_answered = part.eligible > 0 and part.answered == part.eligible
    return RoundFacts(
        state=round_.state,
        opens_at=round_.opens_at,
        closes_at=round_.closes_at,
        notice_days=round_.notice_days,
        notice_ends_at=round_.notice_ends_at,
        previous_state=previous.state if previous else None,
        all_answered=all_answered,
        answer_blocker=blocker,
    )


def apply(round_: Round, action: Action, actor: str, now: datetime, reason: str = "") -> Round:
    """Move the round on; TransitionRefused says why not. Every change is recorded (who, when, why)."""
    outcome = next_state(facts_of(round_), action, now, reason)
    before = round_.state
    round_.state = outcome.state
    if action is Action.OPEN and (round_.opens_at is None or round_.opens_at > now):
        round_.opens_at = now
    if action is Action.CLOSE and round_.closes_at is not None and round_.closes_at > now:
        round_.closes_at = now  # closed early: everyone answered
    if action is Action.PUBLISH:
        round_.published_at = now
        round_.notice_ends_at = outcome.notice_ends_at
    _event(round_, actor, action.value, before, outcome.state, reason, now)
    if action is Action.OPEN:
        notify_residents(round_, "round_opened", now, round_eligible(round_).keys())
    return round_


def reopen(round_: Round, actor: str, now: datetime, until: datetime, reason: str) -> Round:
    """The district review returned the consensus record: the round takes input again until ``until``.
    Its published answer is withdrawn (published again when it closes); the history keeps the reason. A
    later round that has taken its input is overtaken (see ``rules.overtaken``): it fails with the same
    reason and is held again by ``repeat``."""
    later_open = db.session.scalar(
        select(Round.id)
        .where(
            Round.compound_id == round_.compound_id,
            Round.number > round_.number,
            Round.state == RoundState.OPEN,
        )
        .limit(1)
    )
    facts = replace(facts_of(round_), later_open=later_open is not None)
    outcome = next_state(facts, Action.REOPEN, now, reason, until)
    before = round_.state
    round_.state = outcome.state
    round_.closes_at = outcome.closes_at
    round_.published_at = round_.notice_ends_at = None
    _event(round_, actor, Action.REOPEN.value, before, outcome.state, reason, now)
    for later in latest_attempts(round_.compound):
        if later.number > round_.number and overtaken(later.state):
            _overtake(later, actor, now, reason)
    db.session.flush()  # the reopening is counted in the notices' keys: announced, then reminded, again
    notify_residents(round_, "round_opened", now, round_eligible(round_).keys())
    return round_


def _overtake(later: Round, actor: str, now: datetime, reason: str) -> None:
    """A later round took its input on what the reopened round may now change (a vote on a plan that
    round 2 revises again): its result no longer stands. It fails, and is held again as a new attempt."""
    before = later.state
    later.state = RoundState.FAILED
    _event(later, actor, OVERTAKEN, before, RoundState.FAILED, reason, now)


def repeat(failed: Round, actor: str, now: datetime) -> Round:
    """A new attempt of a failed round (with a revised scheme); the failed one stays in the history."""
    if failed.state is not RoundState.FAILED:
        raise TransitionRefused(_l("Only a failed round is repeated."))
    latest = db.session.scalars(
        select(Round)
        .where(Round.compound_id == failed.compound_id, Round.number == failed.number)
        .order_by(Round.attempt.desc())
        .limit(1)
    ).one()
    if latest.id != failed.id:
        raise TransitionRefused(_l("This round has already been repeated."))
    again = Round(
        compound_id=failed.compound_id,
        number=failed.number,
        attempt=failed.attempt + 1,
        kind=failed.kind,
        notice_days=failed.notice_days,
        repeat_of_id=failed.id,
    )
    db.session.add(again)
    db.session.flush()
    _event(again, actor, "repeat", None, RoundState.DRAFT, f"repeats attempt {failed.attempt}", now)
    return again


def _event(
    round_: Round,
    actor: str,
    action: str,
    before: RoundState | None,
    after: RoundState,
    reason: str,
    now: datetime | None = None,
) -> None:
    event = RoundEvent(
        round_id=round_.id, actor=actor, action=action, from_state=before, to_state=after, reason=reason
    )
    if now is not None:
        event.at = now
    db.session.add(event)
    db.session.flush()
    record(
        actor,
        f"round.{action}",
        round_.compound_id,
        round=round_.id,
        number=round_.number,
        attempt=round_.attempt,
        to=after.value,
        reason=reason,
    )
