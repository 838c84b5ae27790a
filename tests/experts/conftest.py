"""The experts blueprint is not wired into create_app yet: this app fixture registers it."""

from __future__ import annotations

from typing import Any

import pytest

from consult.auth.models import Role
from consult.auth.models import User
from consult.db import utcnow
from consult.experts import models as _models  # noqa: F401  (tables for create_all)
from consult.extensions import db
from consult.rounds.rules import RoundKind
from consult.rounds.services import plan_default_rounds
from consult.schemes.services import add_scheme


@pytest.fixture
def scheme_round(compound: Any):
    rounds = plan_default_rounds(compound, utcnow(), "test")
    round_ = next(r for r in rounds if r.kind is RoundKind.SCHEME)
    add_scheme(round_, "Lift on the north side", "test")
    add_scheme(round_, "Lift on the south side", "test")
    db.session.commit()
    return round_


@pytest.fixture
def reviewer(create_user) -> User:
    return create_user("reviewer@example.test", Role.REVIEWER, None, name="王审")


@pytest.fixture
def experts(create_user) -> list[User]:
    return [create_user(f"expert{i}@example.test", Role.EXPERT, None, name=f"专家{i}") for i in range(1, 6)]
