"""The round engine (三上三下): states, actions and their guards, as pure functions over plain values.

A round goes  draft → open → closed → notice → done,  or fails from open or closed. In ``notice`` the
round's answer (the "down" part) is published and its notice period (公示) runs; ``done`` follows when
the notice period is over. A failed round is repeated by a new attempt with the same number. When the
district review returns the consensus record, the round it names is reopened (closed, notice or done →
open) with a new closing time; a later round that has taken its input is overtaken: it fails, to be held
again on what the reopened round comes down with (round 2 reopened: the vote is held again on the
revised plan).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l


class RoundKind(enum.StrEnum):
    NEEDS = "needs"  # 1: willingness and needs survey up; needs list down
    SCHEME = "scheme"  # 2: comments on the schemes up; revised scheme and answers down
    VOTE = "vote"  # 3: the household vote up; result and consensus record down


class RoundState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # open for input (the "up" part)
    CLOSED = "closed"  # input closed, answer being prepared
    NOTICE = "notice"  # answer published (the "down" part); notice period running
    DONE = "done"
    FAILED = "failed"  # too few took part, or the plan was rejected: repeat the round


class Action(enum.StrEnum):
    OPEN = "open"
    CLOSE = "close"
    PUBLISH = "publish"
    FINISH = "finish"
    FAIL = "fail"
    #: the district review returned the consensus record: the round takes input again
    REOPEN = "reopen"


#: the default rounds of a compound: (number, kind, days open, notice days)
DEFAULT_ROUNDS: tuple[tuple[int, RoundKind, int, int], ...] = (
    (1, RoundKind.NEEDS, 14, 7),
    (2, RoundKind.SCHEME, 14, 7),
    (3, RoundKind.VOTE, 14, 7),
)


@dataclass(frozen=True)
class RoundFacts:
    """What the guards need to know about a round and its compound, gathered by the caller."""

    state: RoundState
    opens_at: datetime | None
    closes_at: datetime | None
    notice_days: int
    notice_ends_at: datetime | None
    #: the state of the round before this one (None for round 1)
    previous_state: RoundState | None
    #: everyone eligible has answered (allows closing early)
    all_answered: bool
    #: None when the answer may be published, else why not (e.g. comments without an answer)
    answer_blocker: Any
    #: a later round of the compound is open for input now (a round is not reopened behind it)
    later_open: bool = False


class TransitionRefused(Exception):
    """The action is not allowed now; ``reason`` says why, in words a worker understands."""

    def __init__(self, reason: Any) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Outcome:
    state: RoundState
    #: set when the answer is published: the end of the notice period
    notice_ends_at: datetime | None = None
    #: set when the round is reopened: its new closing time
    closes_at: datetime | None = None


ALLOWED: dict[Action, tuple[RoundState, ...]] = {
    Action.OPEN: (RoundState.DRAFT,),
    Action.CLOSE: (RoundState.OPEN,),
    Action.PUBLISH: (RoundState.CLOSED,),
    Action.FINISH: (RoundState.NOTICE,),
    Action.FAIL: (RoundState.OPEN, RoundState.CLOSED),
    Action.REOPEN: (RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE),
}


def next_state(
    facts: RoundFacts, action: Action, now: datetime, reason: str = "", until: datetime | None = None
) -> Outcome:
    """The state after ``action``, or TransitionRefused with the reason (guards below). ``until`` is the
    new closing time of a reopened round."""
    if facts.state not in ALLOWED[action]:
        raise TransitionRefused(_l("This cannot be done to a round in its present state."))
    if action is Action.REOPEN:
        return _reopen(facts, now, reason, until)
    if action is Action.OPEN:
        if facts.previous_state not in (None, RoundState.NOTICE, RoundState.DONE):
            raise TransitionRefused(_l("The previous round's answer is not published yet."))
        if facts.closes_at is None:
            raise TransitionRefused(_l("Set the closing time first."))
        if facts.closes_at <= now:
            raise TransitionRefused(_l("The closing time has passed; set a later one."))
        return Outcome(RoundState.OPEN)
    if action is Action.CLOSE:
        if facts.closes_at is not None and now >= facts.closes_at:
            return Outcome(RoundState.CLOSED)
        if facts.all_answered:
            return Outcome(RoundState.CLOSED)
        raise TransitionRefused(
            _l("The round closes at its time; it may close early only when everyone has answered.")
        )
    if action is Action.PUBLISH:
        if facts.answer_blocker:
            raise TransitionRefused(facts.answer_blocker)
        return Outcome(RoundState.NOTICE, now + timedelta(days=facts.notice_days))
    if action is Action.FINISH:
        if facts.notice_ends_at is None or now < facts.notice_ends_at:
            raise TransitionRefused(_l("The notice period is not over yet."))
        return Outcome(RoundState.DONE)
    # Action.FAIL
    if not reason.strip():
        raise TransitionRefused(_l("Say why the round failed."))
    return Outcome(RoundState.FAILED)


def _reopen(facts: RoundFacts, now: datetime, reason: str, until: datetime | None) -> Outcome:
    """A closed or published round takes input again, on the district review's return: with a reason,
    a new closing time, and never behind a later round that is open now."""
    if not reason.strip():
        raise TransitionRefused(_l("Say why the round is reopened."))
    if facts.later_open:
        raise TransitionRefused(_l("A later round is open; it must close first."))
    if until is None or until <= now:
        raise TransitionRefused(_l("A reopened round needs a closing time in the future."))
    return Outcome(RoundState.OPEN, closes_at=until)


#: the history's name for a round failed because an earlier round was reopened after it took its input
OVERTAKEN = "overtaken"


def overtaken(later: RoundState) -> bool:
    """Whether a later round in this state is overtaken when an earlier round is reopened: it has taken
    its input (closed, on notice or done; never open, as a round is not reopened behind an open one)."""
    return later in (RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE)


def next_turn(rounds: Iterable[Any], now: datetime) -> datetime | None:
    """The next moment after ``now`` when one of these rounds opens or closes by the clock alone."""
    moments = [t for r in rounds for t in (r.opens_at, r.closes_at) if t is not None and t > now]
    return min(moments, default=None)


def is_open_for_input(
    state: RoundState, opens_at: datetime | None, closes_at: datetime | None, now: datetime
) -> bool:
    """Residents may answer: the round is open and its closing time has not passed."""
    if state is not RoundState.OPEN:
        return False
    if opens_at is not None and now < opens_at:
        return False
    return closes_at is None or now < closes_at
