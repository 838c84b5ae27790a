"""Reminders that a round closes soon go to the residents who may still take part: never to a household
that has answered, never to an address that unsubscribed, never twice for the same round; and notices of
the vote never go to occupants, who do not vote."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.compounds.models import OwnerKind
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.notify.services import unsubscribe
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.notices import remind_closing
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds
from consult.surveys import services as surveys
from consult.surveys.rules import AnswerValues
from consult.voting import services as voting
from consult.voting.counting import QuestionKind

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,邮箱,身份,业主编号\n"
    "1,1,101,80.50,张伟,zhang@example.test,业主,A1\n"
    "1,1,102,66.00,张伟,zhang@example.test,业主,A1\n"
    "1,1,102,,王芳,wang@example.test,租户,\n"
    "1,2,201,90.25,李娜,li@example.test,业主,\n"
    "1,2,202,70.00,陈秀英,chen@example.test,业主,\n"
    "2,1,202,55.55,,,业主,\n"
    "2,1,202,,赵六,zhao@example.test,租户,\n"
)


@pytest.fixture
def roster(compound):
    surveys.register_with_engine()
    voting.register_with_engine()
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return compound


@pytest.fixture
def invitations(roster):
    issued = issue_cards(card_people(roster), roster, "test", NOW)
    db.session.commit()
    assert not any(c.person.owner and c.person.owner.kind is OwnerKind.DEVELOPER for c in issued)
    return {c.person.name: c.invitation for c in issued}


def closing_to() -> list[str]:
    return sorted(
        m.to_address
        for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "round_closing"))
    )


def opened_to() -> list[str]:
    return sorted(
        m.to_address
        for m in db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "round_opened"))
    )


@pytest.fixture
def needs_round(roster):
    first = plan_default_rounds(roster, NOW, "test")[0]
    survey = surveys.create_survey(first, "test", NOW)
    apply(first, Action.OPEN, "test", NOW)
    db.session.commit()
    return first, survey


def test_a_closing_reminder_skips_households_that_answered_the_survey(needs_round, invitations):
    first, survey = needs_round
    during = NOW + timedelta(days=1)
    # 张伟 answers for both his homes: his tenant 王芳 in 102 has nothing left to answer either
    surveys.submit_answer(survey, invitations["张伟"], AnswerValues("yes", ("B01",)), during)
    # 赵六, a tenant of a home without a known owner, answers for it
    surveys.submit_answer(survey, invitations["赵六"], AnswerValues("no"), during)
    unsubscribe("Chen@Example.test")
    db.session.commit()
    remind_closing(first.closes_at - timedelta(days=1))
    remind_closing(first.closes_at - timedelta(hours=1))  # a second run queues nothing new
    db.session.commit()
    assert closing_to() == ["li@example.test"]


def test_a_vote_is_announced_and_reminded_to_owners_who_have_not_voted(roster, invitations):
    rounds = plan_default_rounds(roster, NOW - timedelta(days=90), "test")
    for earlier in rounds[:2]:
        earlier.state = RoundState.DONE
    vote = rounds[2]
    vote.opens_at, vote.closes_at = NOW, NOW + timedelta(days=14)
    voting.add_standard_questions(vote, "test", NOW)
    apply(vote, Action.OPEN, "test", NOW)
    db.session.commit()
    # tenants do not vote: the vote's opening is not theirs to act on
    assert opened_to() == ["chen@example.test", "li@example.test", "zhang@example.test"]
    owner = invitations["张伟"].owner
    choices = {
        q.id: ("yes" if q.kind is QuestionKind.YES_NO else "self_management")
        for q in voting.owner_questions(vote, owner.id)
    }
    voting.cast_online(vote, invitations["张伟"], choices, NOW + timedelta(days=1))
    db.session.commit()
    remind_closing(vote.closes_at - timedelta(days=1))
    db.session.commit()
    assert closing_to() == ["chen@example.test", "li@example.test"]


def test_a_round_reopened_by_the_district_is_announced_and_reminded_again(needs_round, invitations):
    from consult.rounds.services import reopen

    first, _survey = needs_round
    remind_closing(first.closes_at - timedelta(days=1))
    apply(first, Action.CLOSE, "test", first.closes_at)
    db.session.commit()
    before_opened, before_closing = len(opened_to()), len(closing_to())
    assert before_closing > 0
    later = first.closes_at + timedelta(days=5)
    reopen(first, "user:9", later, later + timedelta(days=10), "区级评审退回：需求需补充")
    db.session.commit()
    assert len(opened_to()) == 2 * before_opened  # everyone told again, with the new closing time
    remind_closing(first.closes_at - timedelta(days=1))
    remind_closing(first.closes_at - timedelta(hours=2))  # still once per reopening
    db.session.commit()
    assert len(closing_to()) == 2 * before_closing
