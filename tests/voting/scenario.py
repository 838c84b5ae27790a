"""A vote ready to take ballots, built through the services (for tests that serve the app for real)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from consult.compounds.models import Compound
from consult.compounds.services import create_compound
from consult.compounds.services import ensure_district
from consult.compounds.services import ensure_street
from consult.extensions import db
from consult.residents.services import IssuedCard
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds
from consult.voting.services import add_standard_questions
from consult.voting.services import register_with_engine
from tests.voting.conftest import ROSTER


@dataclass
class Scenario:
    compound: Compound
    round: Round
    cards: dict[str, IssuedCard]


def build_vote(name: str = "浣花小区", *, open_now: bool = True, acknowledge: bool = True) -> Scenario:
    """The roster of tests/voting/conftest.py, the standard questions, round 3 open since yesterday."""
    register_with_engine()
    now = datetime.now(UTC)
    street = ensure_street(ensure_district("青羊区"), "草堂街道")
    compound = create_compound(street, name)
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    rounds = plan_default_rounds(compound, now - timedelta(days=90), "test")
    for earlier in rounds[:2]:
        earlier.state = RoundState.DONE
    vote = rounds[2]
    vote.opens_at, vote.closes_at = now - timedelta(days=1), now + timedelta(days=14)
    add_standard_questions(vote, "test", now - timedelta(days=2))
    if open_now:
        apply(vote, Action.OPEN, "test", now)
    issued = issue_cards(card_people(compound), compound, "test", now)
    if acknowledge:
        for card in issued:
            acknowledge_privacy(card.invitation, now)
    db.session.commit()
    return Scenario(compound, vote, {c.person.name or "开发商": c for c in issued})
