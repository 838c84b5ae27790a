"""The round engine against the database: planning, history, participation, repeats."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import CONTENT
from consult.rounds.services import RoundContent
from consult.rounds.services import apply
from consult.rounds.services import current_round
from consult.rounds.services import open_rounds
from consult.rounds.services import participation
from consult.rounds.services import plan_default_rounds
from consult.rounds.services import reopen
from consult.rounds.services import repeat
from consult.rounds.services import rounds_of

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,身份\n"
    "1,1,101,80,张伟,业主\n1,1,102,70,李娜,业主\n1,2,201,60,,业主\n1,2,202,60,王芳,租户\n"
)


@pytest.fixture
def rounds(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    planned = plan_default_rounds(compound, NOW, "user:1")
    db.session.commit()
    return planned


@pytest.fixture
def answered_hook():
    """Plays the part of a round's content: which dwellings answered (restored afterwards)."""
    saved = {kind: RoundContent(c.answered, c.answer_blocker) for kind, c in CONTENT.items()}
    answered: set[int] = set()
    CONTENT[RoundKind.NEEDS] = RoundContent(answered=lambda r: set(answered), answer_blocker=None)
    yield answered
    CONTENT.clear()
    CONTENT.update(saved)


def test_three_default_rounds_in_order(compound, rounds):
    assert [(r.number, r.kind, r.state) for r in rounds] == [
        (1, RoundKind.NEEDS, RoundState.DRAFT),
        (2, RoundKind.SCHEME, RoundState.DRAFT),
        (3, RoundKind.VOTE, RoundState.DRAFT),
    ]
    assert rounds[0].closes_at == NOW + timedelta(days=14)
    assert rounds[1].opens_at > rounds[0].closes_at + timedelta(days=rounds[0].notice_days)
    with pytest.raises(TransitionRefused):
        plan_default_rounds(compound, NOW, "user:1")


def test_round_two_waits_for_round_one(compound, rounds):
    with pytest.raises(TransitionRefused):
        apply(rounds[1], Action.OPEN, "user:1", NOW)
    apply(rounds[0], Action.OPEN, "user:1", NOW)
    assert open_rounds(compound.id, NOW + timedelta(hours=1)) == [rounds[0]]
    assert current_round(compound) == rounds[0]


def test_every_transition_is_recorded(compound, rounds):
    r1 = rounds[0]
    apply(r1, Action.OPEN, "user:1", NOW)
    apply(r1, Action.CLOSE, "user:1", NOW + timedelta(days=14))
    apply(r1, Action.PUBLISH, "user:2", NOW + timedelta(days=15), "needs list out")
    apply(r1, Action.FINISH, "user:2", NOW + timedelta(days=22))
    db.session.commit()
    db.session.refresh(r1)
    assert [(e.action, e.to_state, e.actor) for e in r1.events] == [
        ("plan", RoundState.DRAFT, "user:1"),
        ("open", RoundState.OPEN, "user:1"),
        ("close", RoundState.CLOSED, "user:1"),
        ("publish", RoundState.NOTICE, "user:2"),
        ("finish", RoundState.DONE, "user:2"),
    ]
    assert r1.events[3].reason == "needs list out"
    assert r1.notice_ends_at == NOW + timedelta(days=22)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.compound_id == compound.id)).all()
    assert actions.count("round.open") == 1
    assert current_round(compound) == rounds[1]


def test_early_close_needs_every_household(compound, rounds, answered_hook):
    r1 = rounds[0]
    apply(r1, Action.OPEN, "user:1", NOW)
    part = participation(r1)
    assert (part.answered, part.eligible) == (0, 3)  # 201 has nobody known; 202 has a tenant
    answered_hook.update(list(part.missing)[:2])
    with pytest.raises(TransitionRefused):
        apply(r1, Action.CLOSE, "user:1", NOW + timedelta(days=1))
    answered_hook.update(part.missing)
    apply(r1, Action.CLOSE, "user:1", NOW + timedelta(days=1))
    assert r1.state is RoundState.CLOSED
    assert r1.closes_at == NOW + timedelta(days=1)
    by_unit = participation(r1).by_unit
    assert sorted(by_unit.values()) == [(1, 1), (2, 2)]


def test_a_failed_round_is_repeated_and_both_are_kept(compound, rounds):
    r1 = rounds[0]
    apply(r1, Action.OPEN, "user:1", NOW)
    apply(r1, Action.FAIL, "user:1", NOW + timedelta(days=2), "participation too low")
    again = repeat(r1, "user:1", NOW + timedelta(days=3))
    db.session.commit()
    assert (again.number, again.attempt, again.state, again.repeat_of_id) == (1, 2, RoundState.DRAFT, r1.id)
    with pytest.raises(TransitionRefused):
        repeat(r1, "user:1", NOW)
    with pytest.raises(TransitionRefused):
        apply(rounds[1], Action.OPEN, "user:1", NOW + timedelta(days=3))  # round 1 not answered yet
    assert [(r.number, r.attempt, r.state) for r in rounds_of(compound)][:2] == [
        (1, 1, RoundState.FAILED),
        (1, 2, RoundState.DRAFT),
    ]
    assert current_round(compound) == again
    assert db.session.scalar(select(db.func.count(Round.id))) == 4


@pytest.mark.parametrize("vote_state", [RoundState.CLOSED, RoundState.NOTICE, RoundState.DONE])
def test_reopening_round_two_overtakes_the_vote_that_followed_it(compound, rounds, vote_state):
    needs, schemes, vote = rounds
    needs.state, schemes.state, vote.state = RoundState.DONE, RoundState.DONE, vote_state
    db.session.commit()
    reopen(schemes, "user:2", NOW, NOW + timedelta(days=7), "schemes: 绿化方案需调整")
    db.session.commit()
    assert (needs.state, schemes.state, vote.state) == (RoundState.DONE, RoundState.OPEN, RoundState.FAILED)
    event = vote.events[-1]
    assert (event.actor, event.action, event.from_state, event.reason) == (
        "user:2",
        "overtaken",
        vote_state,
        "schemes: 绿化方案需调整",
    )
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert audit.action == "round.overtaken"
    again = repeat(vote, "user:1", NOW)
    assert (again.number, again.attempt, again.repeat_of_id) == (3, 2, vote.id)


def test_reopening_the_vote_or_a_round_before_a_draft_overtakes_nothing(compound, rounds):
    needs, schemes, vote = rounds
    needs.state, schemes.state = RoundState.DONE, RoundState.DONE
    db.session.commit()
    reopen(schemes, "user:2", NOW, NOW + timedelta(days=7), "答复不充分")
    assert vote.state is RoundState.DRAFT
    assert vote.events[-1].action == "plan"
    schemes.state, vote.state = RoundState.DONE, RoundState.CLOSED
    reopen(vote, "user:2", NOW, NOW + timedelta(days=7), "电梯表决需补充")
    db.session.commit()
    assert (schemes.state, vote.state) == (RoundState.DONE, RoundState.OPEN)
    assert [e.action for e in schemes.events].count("overtaken") == 0
