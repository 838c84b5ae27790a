"""Fixtures of the needs survey: a compound with a roster and cards, its rounds, the survey."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from consult.compounds.models import Dwelling
from consult.db import utcnow
from consult.extensions import db
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds
from consult.surveys.services import create_survey
from consult.surveys.services import register_with_engine

#: 张伟 owns 101 and 102 (one owner key); 王芳 rents 102; 李娜 owns 201
ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份,业主编号\n"
    "1,1,101,80.50,张伟,13812341234,业主,A1\n"
    "1,1,102,66.00,张伟,13812341234,业主,A1\n"
    "1,1,102,,王芳,13900001111,租户,\n"
    "2,1,201,90.25,李娜,,业主,\n"
)


@pytest.fixture(autouse=True)
def engine_hooks() -> None:
    register_with_engine()


@pytest.fixture
def roster(compound) -> dict[str, Dwelling]:
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    dwellings = db.session.scalars(select(Dwelling)).all()
    return {d.room: d for d in dwellings}


@pytest.fixture
def cards(compound, roster) -> dict[str, Any]:
    """name → issued card (plain token and code)."""
    issued = issue_cards(card_people(compound), compound, "test", utcnow())
    db.session.commit()
    return {c.person.name: c for c in issued}


@pytest.fixture
def rounds(compound):
    planned = plan_default_rounds(compound, utcnow() - timedelta(hours=1), "test")
    db.session.commit()
    return planned


@pytest.fixture
def needs_round(rounds):
    return rounds[0]


@pytest.fixture
def survey(needs_round):
    made = create_survey(needs_round, "test", utcnow())
    db.session.commit()
    return made


def open_round(round_) -> None:
    apply(round_, Action.OPEN, "test", utcnow())
    db.session.commit()


def close_round(round_) -> None:
    """Closed at its time (the engine is told it is past the closing time)."""
    apply(round_, Action.CLOSE, "test", round_.closes_at + timedelta(seconds=1))
    db.session.commit()


@pytest.fixture
def opened(survey, needs_round):
    open_round(needs_round)
    return survey


@pytest.fixture
def enter(client, cards):
    """Sign a resident in by their card's link and acknowledge the privacy notice."""

    def _enter(name: str, acknowledge: bool = True) -> Any:
        response = client.get(f"/r/{cards[name].token}")
        assert response.status_code == 302
        if acknowledge:
            client.post("/me/privacy")
        return cards[name].invitation

    return _enter
