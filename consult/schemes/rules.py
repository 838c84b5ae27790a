"""Round 2 (二上二下) as pure rules: who may change what in which state of the round, the answer a comment
gets, what blocks publishing the answers, and the tally of preferences. No Flask, no database.

- A scheme's first version is written while the round is a draft and is frozen once the round opens.
- Residents comment per item, and state a preference between alternatives, while the round is open.
- Once the round is closed (the "down" part), workers answer every comment and write a revised version
  of a scheme; the revision is frozen when the answers are published.
- A comment adopted in full or in part must be taken up by a revised version (linked to it) before
  the answers can be published; a comment not adopted needs none.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from consult.rounds.rules import RoundState

#: the longest comment a resident may write, and the longest reason of an answer
COMMENT_MAX = 2000
REASON_MAX = 2000
#: alternatives are lettered A to Z
LABELS = string.ascii_uppercase


class AnswerOutcome(enum.StrEnum):
    """意见采纳情况: the values are the ones the ``comment_answered`` notice expects."""

    ADOPTED = "adopted"
    PARTLY = "partly"
    NOT_ADOPTED = "not_adopted"


class AuthorRole(enum.StrEnum):
    OWNER = "owner"
    OCCUPANT = "occupant"


OUTCOME_LABELS = {
    AnswerOutcome.ADOPTED: _l("Adopted"),
    AnswerOutcome.PARTLY: _l("Partly adopted"),
    AnswerOutcome.NOT_ADOPTED: _l("Not adopted"),
}

#: states in which residents see the schemes of the round (their first versions)
SEEN_BY_RESIDENTS = (
    RoundState.OPEN,
    RoundState.CLOSED,
    RoundState.NOTICE,
    RoundState.DONE,
    RoundState.FAILED,
)
#: states in which the answers, the revised versions and the tally are public
PUBLISHED = (RoundState.NOTICE, RoundState.DONE)


def needs_revision(outcome: AnswerOutcome | None) -> bool:
    """An adopted or partly adopted comment is taken up by a revised version of a scheme."""
    return outcome in (AnswerOutcome.ADOPTED, AnswerOutcome.PARTLY)


def may_add_scheme(state: RoundState) -> bool:
    return state is RoundState.DRAFT


def may_revise(state: RoundState) -> bool:
    """Revised versions are written in the down phase: after input closed, before the answer is out."""
    return state is RoundState.CLOSED


def may_answer(state: RoundState) -> bool:
    return state is RoundState.CLOSED


def version_editable(state: RoundState, revision: bool) -> bool:
    """A first version may change only while the round is a draft; a revision only while the round is
    closed (it is frozen when the answers are published)."""
    return state is (RoundState.CLOSED if revision else RoundState.DRAFT)


def residents_see(state: RoundState, revision: bool) -> bool:
    """Residents of the compound see first versions from the opening, revisions once published."""
    return state in (PUBLISHED if revision else SEEN_BY_RESIDENTS)


def public_sees(state: RoundState) -> bool:
    """Everyone sees the schemes, the answers and the tally once the round's answer is published."""
    return state in PUBLISHED


def next_label(taken: Collection[str]) -> str | None:
    """The first free letter for a new alternative: A, B, …; None after Z."""
    return next((letter for letter in LABELS if letter not in taken), None)


def comment_problem(body: str) -> Any:
    """None when ``body`` is a comment that may be saved, else why not."""
    text = body.strip()
    if not text:
        return _l("Write your comment first.")
    if len(text) > COMMENT_MAX:
        return _l("A comment has at most %(max)s characters.", max=COMMENT_MAX)
    return None


def answer_problem(outcome: AnswerOutcome | str | None, reason: str) -> Any:
    """None when this is a complete answer: one of the outcomes, and the reason for it (always)."""
    if outcome not in set(AnswerOutcome):
        return _l("Choose whether the comment is adopted.")
    text = reason.strip()
    if not text:
        return _l("Give the reason for the answer.")
    if len(text) > REASON_MAX:
        return _l("A reason has at most %(max)s characters.", max=REASON_MAX)
    return None


@dataclass(frozen=True)
class CommentFacts:
    """What publishing needs to know about one comment."""

    outcome: AnswerOutcome | None  # None: not answered yet
    linked: bool  # taken up by a revised version


def answer_blocker(comments: Iterable[CommentFacts]) -> Any:
    """None when the answers of the round may be published, else the reason (shown to the worker).

    Every comment needs an answer; and every comment adopted in full or in part needs a revised version
    that takes it up. Without comments nothing blocks (no revision is required then).
    """
    facts = list(comments)
    unanswered = sum(1 for c in facts if c.outcome is None)
    if unanswered:
        return _l(
            "A round cannot be marked answered while a comment has no answer: %(count)s without one.",
            count=unanswered,
        )
    not_taken_up = sum(1 for c in facts if needs_revision(c.outcome) and not c.linked)
    if not_taken_up:
        return _l(
            "%(count)s adopted or partly adopted comments are not in a revised version yet: "
            "write the revised version of their scheme first.",
            count=not_taken_up,
        )
    return None


def tally(preferences: Iterable[str], labels: Sequence[str]) -> dict[str, int]:
    """Dwellings preferring each alternative, every alternative listed (in order), none missing.

    ``preferences`` holds the label each dwelling's latest preference names, one per dwelling.
    """
    counts = dict.fromkeys(labels, 0)
    for label in preferences:
        if label in counts:
            counts[label] += 1
    return counts
